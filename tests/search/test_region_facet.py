"""The region facet: search reads the graph's region memberships from their table by name
(search/ imports nothing from graph/), so that name must be the graph's."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from permedhub.graph.models import Organisation, RegionMembership
from permedhub.search.query import REGION_MEMBERSHIP_TABLE, SearchFilters, search


def test_the_facet_reads_the_graphs_membership_table() -> None:
    assert RegionMembership.__tablename__ == REGION_MEMBERSHIP_TABLE


def test_a_region_keeps_the_organisations_of_its_member_countries(engine: Engine) -> None:
    with Session(engine) as session:
        african = set(
            session.execute(
                select(RegionMembership.country_code).where(
                    RegionMembership.region_id == "african-union"
                )
            ).scalars()
        )
        everywhere = search(session, "research", SearchFilters(entity_types=("organisation",)))
        in_region = search(
            session,
            "research",
            SearchFilters(entity_types=("organisation",), region="african-union"),
        )
        countries = {session.get_one(Organisation, hit.id).country_code for hit in in_region.hits}
    assert in_region.hits and countries <= african
    assert in_region.total < everywhere.total
