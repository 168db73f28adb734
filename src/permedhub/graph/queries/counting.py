"""Headline counts: the graph's totals, per country and per region."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.graph.models import (
    Country,
    Initiative,
    Organisation,
    Participation,
    PlaceTotal,
    RegionMembership,
)
from permedhub.graph.queries.common import country_names
from permedhub.graph.queries.places import (
    declared_countries,
    declared_without_partners,
    list_regions,
)
from permedhub.graph.views import CountCountry, CountRegion, Counts


def participations_without_country(session: Session) -> int:
    """Participations of organisations without a country. `place_total` counts every other
    one under its organisation's country; these need the participations (through the index)."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Participation)
            .join(Organisation, Organisation.id == Participation.organisation_id)
            .where(Organisation.country_code.is_(None))
        ).scalar_one()
    )


def counts(session: Session) -> Counts:
    """Headline counts, per country and per region, from the activity aggregates: nothing
    here reads the participations, which number a million on the benchmark graph."""
    organisations_by_country = dict(
        session.execute(
            select(Organisation.country_code, func.count())
            .where(Organisation.country_code.is_not(None))
            .group_by(Organisation.country_code)
        ).all()
    )
    countries = select(Country.code).where(Country.parent_code.is_(None))
    totals = {
        str(place): (int(n), int(k))
        for place, n, k in session.execute(
            select(PlaceTotal.place_code, PlaceTotal.participations, PlaceTotal.initiatives).where(
                PlaceTotal.place_code.in_(countries)
            )
        )
    }
    codes = set(organisations_by_country) | set(totals)
    for _, declared in declared_countries(session):
        codes.update(c for c in declared if "-" not in c)
    ordered = sorted(str(c) for c in codes)
    declared_only = declared_without_partners(session, ordered)
    activity = {
        c: (
            int(organisations_by_country.get(c, 0)),
            totals.get(c, (0, 0))[0],
            totals.get(c, (0, 0))[1] + len(declared_only.get(c, ())),
        )
        for c in ordered
    }
    names = country_names(session, ordered)
    by_country = [
        CountCountry(
            code=c,
            name=names.get(c, c),
            organisations=a[0],
            participations=a[1],
            initiatives=a[2],
        )
        for c, a in activity.items()
    ]
    by_country.sort(key=lambda x: (-x.participations, -x.initiatives, x.name))
    members: dict[str, list[str]] = defaultdict(list)
    for region_id, code in session.execute(
        select(RegionMembership.region_id, RegionMembership.country_code)
    ):
        members[region_id].append(code)
    by_region = []
    for region in list_regions(session):
        inside = [c for c in members[region.id] if c in activity]
        by_region.append(
            CountRegion(
                id=region.id,
                name=region.name,
                countries_taking_part=sum(1 for c in inside if activity[c][2]),
                countries_total=len(members[region.id]),
                organisations=sum(activity[c][0] for c in inside),
                participations=sum(activity[c][1] for c in inside),
            )
        )
    without_country = participations_without_country(session)
    return Counts(
        initiatives=session.execute(select(func.count()).select_from(Initiative)).scalar_one(),
        organisations=session.execute(select(func.count()).select_from(Organisation)).scalar_one(),
        participations=sum(n for n, _ in totals.values()) + int(without_country),
        countries=sum(1 for c in by_country if c.initiatives),
        by_country=by_country,
        by_region=by_region,
    )
