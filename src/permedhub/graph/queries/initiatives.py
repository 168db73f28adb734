"""Initiatives: the list, one initiative with a page of its partners, its partners, links, a
project's call and a call's projects."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from sqlalchemy import Select, Text, cast, func, select
from sqlalchemy.orm import Session, aliased

from permedhub.graph.models import (
    Country,
    CountryActivity,
    Initiative,
    Link,
    Organisation,
    Participation,
)
from permedhub.graph.queries.calls import list_calls
from permedhub.graph.queries.common import (
    MAX_PER_PAGE,
    SUMMARY_ONLY,
    NotFound,
    OrgCountry,
    SubCountry,
    country_names,
    initiative_summary,
    iso,
    marks,
    organisation_rows,
    organisation_summary,
    page_bounds,
)
from permedhub.graph.queries.topics import topics_by_id
from permedhub.graph.views import (
    CallView,
    InitiativeCountry,
    InitiativeDetail,
    InitiativeSummary,
    LinkView,
    OrganisationSummary,
    Page,
    PartnerView,
    ProjectView,
)
from permedhub.search.query import matching_ids


def list_initiatives(
    session: Session,
    *,
    kind: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 100,
) -> Page[InitiativeSummary]:
    offset, limit = page_bounds(page, per_page)
    stmt = select(Initiative).options(SUMMARY_ONLY)
    if kind:
        stmt = stmt.where(Initiative.kind == kind)
    if q:
        stmt = stmt.where(Initiative.id.in_(matching_ids(session, q, "initiative")))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(Initiative.start_date.is_(None), Initiative.start_date, Initiative.id)
        .offset(offset)
        .limit(limit)
    ).scalars()
    return Page(
        items=[initiative_summary(i) for i in rows], total=total, page=page, per_page=per_page
    )


# A participation's own columns beside the organisation's (whose `source` and marks share
# their names), labelled apart.
PARTICIPATION_COLUMNS = (
    Participation.role.label("p_role"),
    Participation.start_date.label("p_start"),
    Participation.end_date.label("p_end"),
    Participation.source.label("p_source"),
    Participation.sources.label("p_sources"),
    Participation.uncertain.label("p_uncertain"),
    Participation.approximate.label("p_approximate"),
)


PARTNER_ORDER = (Participation.role != "coordinator", Organisation.name, Organisation.id)


def _partners_query(
    initiative_id: str, *, offset: int = 0, limit: int | None = None
) -> Select[Any]:
    """An initiative's partners as Core rows (see SUMMARY_COLUMNS: building ORM objects was
    most of an 8,000-partner initiative's page), coordinators first, then by name.

    A page (`limit` rows from `offset`) is chosen by a narrow query of participation ids
    first: sorting thousands of whole rows, sources and countries included, to keep a
    page of them took twice as long."""
    stmt = (
        organisation_rows()
        .add_columns(*PARTICIPATION_COLUMNS)
        .join(Participation, Participation.organisation_id == Organisation.id)
        .order_by(*PARTNER_ORDER)
    )
    if limit is None and not offset:
        return stmt.where(Participation.initiative_id == initiative_id)
    page = (
        select(Participation.id)
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .where(Participation.initiative_id == initiative_id)
        .order_by(*PARTNER_ORDER)
        .offset(offset)
        .limit(limit)
    )
    # The page's ids are the initiative's: read by primary key, not the initiative's rows again.
    return stmt.where(Participation.id.in_(page.scalar_subquery()))


def _partner_views(session: Session, stmt: Select[Any]) -> list[PartnerView]:
    return [
        PartnerView(
            organisation=organisation_summary(r, r.country_name, r.subdivision_name),
            role=r.p_role,
            start=iso(r.p_start),
            end=iso(r.p_end),
            source=r.p_source,
            sources=r.p_sources or {},
            uncertain=r.p_uncertain or {},
            approximate=r.p_approximate or {},
        )
        for r in session.execute(stmt)
    ]


NO_MARKS = (None, "{}", "null")  # a JSON column's text when it holds no field


class PartnerRow(NamedTuple):
    """One partner of an initiative as its CSV lists it: plain text, "" for what is unknown."""

    organisation_id: str
    organisation: str
    acronym: str
    kind: str
    country_code: str
    country: str  # the country's name (its code when the graph has no such country)
    subdivision: str  # likewise, the ISO 3166-2 subdivision's
    role: str
    uncertain: str  # the participation's uncertain fields, "; "-separated
    source: str  # where the participation was read


def initiative_partners(session: Session, initiative_id: str) -> list[PartnerRow]:
    """Every partner of an initiative, coordinators first, then by name (for its CSV).

    Only the CSV's columns, as plain rows: an initiative of the benchmark graph has 8,000
    partners, and reading them as whole organisation and participation rows, then as views,
    cost several times the query itself."""
    if session.get(Initiative, initiative_id) is None:
        raise NotFound("initiative", initiative_id)
    empty = ""
    rows = session.connection().execute(
        select(
            Organisation.id,
            Organisation.name,
            func.coalesce(Organisation.acronym, empty),
            func.coalesce(Organisation.kind, empty),
            func.coalesce(Organisation.country_code, empty),
            func.coalesce(OrgCountry.name, Organisation.country_code, empty),
            func.coalesce(SubCountry.name, Organisation.subdivision_code, empty),
            Participation.role,
            # As text: only the keys are listed, and most participations have none.
            cast(Participation.uncertain, Text),
            func.coalesce(Participation.source, empty),
        )
        .select_from(Participation)
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .outerjoin(OrgCountry, OrgCountry.code == Organisation.country_code)
        .outerjoin(SubCountry, SubCountry.code == Organisation.subdivision_code)
        .where(Participation.initiative_id == initiative_id)
        .order_by(*PARTNER_ORDER)
    )
    return [
        PartnerRow(o_id, name, acronym, kind, code, country, sub, role,
                   "" if uncertain in NO_MARKS else "; ".join(sorted(json.loads(uncertain))),
                   source)
        for o_id, name, acronym, kind, code, country, sub, role, uncertain, source in rows
    ]  # fmt: skip


def get_initiative(
    session: Session, initiative_id: str, *, page: int = 1, per_page: int = MAX_PER_PAGE
) -> InitiativeDetail:
    """An initiative with one page of its partners (coordinators first, then by name);
    `partners_total`, the roles and the countries cover all of them."""
    offset, limit = page_bounds(page, per_page)
    initiative = session.get(Initiative, initiative_id)
    if initiative is None:
        raise NotFound("initiative", initiative_id)
    partners = _partner_views(session, _partners_query(initiative_id, offset=offset, limit=limit))
    coordinators = [
        p.organisation
        for p in _partner_views(
            session, _partners_query(initiative_id).where(Participation.role == "coordinator")
        )
    ]
    partners_total = session.execute(
        select(func.count())
        .select_from(Participation)
        .where(Participation.initiative_id == initiative_id)
    ).scalar_one()
    roles = sorted(
        session.execute(
            select(Participation.role)
            .where(Participation.initiative_id == initiative_id)
            .distinct()
        ).scalars()
    )
    # Partners per country from the aggregate (country rows, not subdivisions): an initiative
    # of the benchmark graph has up to 8,000 partners.
    by_country = {
        str(place): int(n)
        for place, n in session.execute(
            select(CountryActivity.place_code, func.sum(CountryActivity.organisations))
            .join(Country, Country.code == CountryActivity.place_code)
            .where(CountryActivity.initiative_id == initiative_id, Country.parent_code.is_(None))
            .group_by(CountryActivity.place_code)
        )
    }
    declared = list(initiative.countries or [])
    names = country_names(session, [*by_country, *declared])
    countries = [
        InitiativeCountry(
            code=code,
            name=names.get(code, code),
            partners=by_country.get(code, 0),
            via=[
                v
                for v, present in (("partner", code in by_country), ("declared", code in declared))
                if present
            ],
        )
        for code in sorted(set(by_country) | set(declared), key=lambda c: names.get(c, c))
    ]
    calls = list_calls(session, initiative=initiative_id)
    call = _call_of(session, initiative) if initiative.kind == "project" else None
    partner_countries = {c.code for c in countries if c.partners}
    return InitiativeDetail(
        **initiative_summary(initiative).model_dump(),
        call=call,
        call_funders_here=_funders_in(call, partner_countries) if call else [],
        projects=projects_of_calls(session, [c.id for c in calls]),
        call_topic=initiative.call_topic,
        aims=initiative.aims or [],
        target_regions=initiative.target_regions or [],
        topics=topics_by_id(session, initiative.topics or []),
        facts=initiative.facts or {},
        coordinators=coordinators,
        partners=partners,
        partners_total=partners_total,
        partners_page=page,
        partners_per_page=per_page,
        roles=roles,
        countries=countries,
        links=_links_of(session, initiative_id),
        calls=calls,
    )


def _call_of(session: Session, project: Initiative) -> CallView | None:
    """The call a project names in `call_topic` (the schema has no project -> call relation)."""
    if not project.call_topic:
        return None
    return next(iter(list_calls(session, call_id=project.call_topic)), None)


def _funders_in(call: CallView, countries: set[str]) -> list[OrganisationSummary]:
    return [f for f in call.funders if f.country and f.country.code in countries]


def projects_of_calls(session: Session, call_ids: list[str]) -> list[ProjectView]:
    """The projects that name one of these calls, by call (in the order given), then name."""
    if not call_ids:
        return []
    order = {call_id: n for n, call_id in enumerate(call_ids)}
    rows = session.execute(
        select(Initiative, Initiative.call_topic)
        .options(SUMMARY_ONLY)
        .where(Initiative.kind == "project", Initiative.call_topic.in_(call_ids))
    )
    projects = [
        ProjectView(**initiative_summary(p).model_dump(), call_id=str(call)) for p, call in rows
    ]
    return sorted(projects, key=lambda p: (order[p.call_id], (p.acronym or p.name).lower()))


# One alias for every call: a new one per call is a new statement to compile, every time.
LINKED = aliased(Initiative, name="linked")


def _links_of(session: Session, initiative_id: str) -> list[LinkView]:
    other = LINKED
    views: list[LinkView] = []
    for direction, here, there in (
        ("outgoing", Link.from_id, Link.to_id),
        ("incoming", Link.to_id, Link.from_id),
    ):
        rows = session.execute(
            select(Link, there, other.acronym, other.name)
            .join(other, other.id == there)
            .where(here == initiative_id)
        )
        views += [
            LinkView(
                direction=direction,
                kind=link.kind,
                initiative_id=other_id,
                initiative_label=label or name,
                **marks(link),
            )
            for link, other_id, label, name in rows
        ]
    return views
