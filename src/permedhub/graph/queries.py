"""Questions the API, the CLI and the portal ask of the graph: one function each.

Every function takes a SQLAlchemy `Session` and returns a view from `graph.views`; a missing
record raises `NotFound`, a bad filter `InvalidFilter` (a ValueError naming the field).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Text,
    cast,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, load_only

from permedhub.db import among
from permedhub.graph.models import (
    ALL_COUNTRIES,
    Call,
    Country,
    CountryActivity,
    Initiative,
    InitiativeActivity,
    Link,
    Organisation,
    Participation,
    PlaceTotal,
    Region,
    RegionMembership,
    Topic,
)
from permedhub.graph.views import (
    CallView,
    CountCountry,
    CountRegion,
    CountryInitiative,
    CountryProfile,
    CountryRef,
    Counts,
    InitiativeCountry,
    InitiativeDetail,
    InitiativeSummary,
    LinkView,
    Network,
    NetworkEdge,
    NetworkNode,
    OrganisationDetail,
    OrganisationSummary,
    Page,
    ParticipationView,
    PartnerView,
    RegionMemberActivity,
    RegionProfile,
    RegionRef,
    Status,
    SubdivisionActivity,
    Timeline,
    TimelineItem,
    TopicView,
)
from permedhub.search.query import matching_ids

MAX_PER_PAGE = 500
NETWORK_MAX_NODES = 2000
# An aggregated network shows this many initiatives one by one, the others as one node.
NETWORK_TOP_INITIATIVES = 40
OTHER_INITIATIVES = "aggregate:other-initiatives"
COUNTRY_ORGANISATIONS_PER_PAGE = 50
COUNTRY_INITIATIVES = 50
REGION_INITIATIVES = 100


class NotFound(LookupError):
    def __init__(self, entity: str, key: str):
        self.entity, self.key = entity, key
        super().__init__(f"no {entity} with id {key!r}")


class InvalidFilter(ValueError):
    def __init__(self, field: str, value: Any, expected: str):
        self.field, self.value, self.expected = field, value, expected
        super().__init__(f"{field}={value!r}: expected {expected}")


# ---------------------------------------------------------------- helpers

SubCountry = aliased(Country, name="sub_country")
OrgCountry = aliased(Country, name="org_country")


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _money(value: Any) -> float | None:
    return float(value) if value is not None else None


def status(start: dt.date | None, end: dt.date | None, today: dt.date | None = None) -> Status:
    today = today or dt.date.today()
    if start and start > today:
        return "planned"
    if end and end < today:
        return "ended"
    if start:
        return "ongoing"
    return "unknown"


def _marks(row: Any) -> dict[str, Any]:
    return {
        "source": row.source,
        "uncertain": row.uncertain or {},
        "approximate": row.approximate or {},
    }


# What an InitiativeSummary needs. Lists of many initiatives read only these columns, not the
# JSON documents (facts, aims, countries) that only a detail page shows: as Core selects, rows
# rather than ORM objects where a page lists a hundred or more (building and tracking ORM objects
# was half the time of a country profile), and as `SUMMARY_ONLY` where ORM objects are wanted.
SUMMARY_COLUMNS = (
    Initiative.id,
    Initiative.acronym,
    Initiative.name,
    Initiative.kind,
    Initiative.programme,
    Initiative.grant_id,
    Initiative.start_date,
    Initiative.start_precision,
    Initiative.end_date,
    Initiative.end_precision,
    Initiative.eu_contribution_eur,
    Initiative.total_budget_eur,
    Initiative.website,
    Initiative.summary,
    Initiative.source,
    Initiative.uncertain,
    Initiative.approximate,
)
SUMMARY_ONLY = load_only(*SUMMARY_COLUMNS)
ORGANISATION_COLUMNS = (
    Organisation.id,
    Organisation.name,
    Organisation.acronym,
    Organisation.kind,
    Organisation.country_code,
    Organisation.subdivision_code,
    Organisation.city,
    Organisation.website,
    Organisation.synthetic,
    Organisation.source,
    Organisation.uncertain,
    Organisation.approximate,
)


def initiative_summary(i: Initiative | Row[Any]) -> InitiativeSummary:
    return InitiativeSummary(
        id=i.id,
        acronym=i.acronym,
        name=i.name,
        kind=i.kind,
        programme=i.programme,
        grant_id=i.grant_id,
        start=_iso(i.start_date),
        start_precision=i.start_precision,
        end=_iso(i.end_date),
        end_precision=i.end_precision,
        status=status(i.start_date, i.end_date),
        eu_contribution_eur=_money(i.eu_contribution_eur),
        total_budget_eur=_money(i.total_budget_eur),
        website=i.website,
        summary=i.summary,
        **_marks(i),
    )


def _organisation_query() -> Select[Organisation, str, str]:
    return (
        select(Organisation, OrgCountry.name, SubCountry.name)
        .outerjoin(OrgCountry, OrgCountry.code == Organisation.country_code)
        .outerjoin(SubCountry, SubCountry.code == Organisation.subdivision_code)
    )


def _organisation_rows() -> Select[Any]:
    """`_organisation_query` as Core rows (see SUMMARY_COLUMNS), country names labelled."""
    return (
        select(
            *ORGANISATION_COLUMNS,
            OrgCountry.name.label("country_name"),
            SubCountry.name.label("subdivision_name"),
        )
        .outerjoin(OrgCountry, OrgCountry.code == Organisation.country_code)
        .outerjoin(SubCountry, SubCountry.code == Organisation.subdivision_code)
    )


def _organisation_summary(
    o: Organisation | Row[Any], country: str | None, sub: str | None
) -> OrganisationSummary:
    return OrganisationSummary(
        id=o.id,
        name=o.name,
        acronym=o.acronym,
        kind=o.kind,
        country=CountryRef(code=o.country_code, name=country or o.country_code)
        if o.country_code
        else None,
        subdivision=CountryRef(code=o.subdivision_code, name=sub or o.subdivision_code)
        if o.subdivision_code
        else None,
        city=o.city,
        website=o.website,
        synthetic=o.synthetic,
        **_marks(o),
    )


def _page_bounds(page: int, per_page: int) -> tuple[int, int]:
    if page < 1:
        raise InvalidFilter("page", page, "a whole number >= 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidFilter("per_page", per_page, f"a whole number from 1 to {MAX_PER_PAGE}")
    return (page - 1) * per_page, per_page


def _among(
    session: Session, column: InstrumentedAttribute[str], values: Iterable[str]
) -> ColumnElement[bool]:
    return among(session.get_bind().dialect.name, column, values)


def _country_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    codes = set(codes)
    if not codes:
        return {}
    return dict(
        session.execute(
            select(Country.code, Country.name).where(_among(session, Country.code, codes))
        ).all()
    )


# ---------------------------------------------------------------- initiatives


def list_initiatives(
    session: Session,
    *,
    kind: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 100,
) -> Page[InitiativeSummary]:
    offset, limit = _page_bounds(page, per_page)
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


def _partners_query(initiative_id: str) -> Select[Participation, Organisation, str, str]:
    return (
        select(Participation, Organisation, OrgCountry.name, SubCountry.name)
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .outerjoin(OrgCountry, OrgCountry.code == Organisation.country_code)
        .outerjoin(SubCountry, SubCountry.code == Organisation.subdivision_code)
        .where(Participation.initiative_id == initiative_id)
        .order_by(Participation.role != "coordinator", Organisation.name, Organisation.id)
    )


def _partner_views(
    session: Session, stmt: Select[Participation, Organisation, str, str]
) -> list[PartnerView]:
    return [
        PartnerView(
            organisation=_organisation_summary(o, cn, sn),
            role=p.role,
            start=_iso(p.start_date),
            end=_iso(p.end_date),
            **_marks(p),
        )
        for p, o, cn, sn in session.execute(stmt)
    ]


def initiative_partners(session: Session, initiative_id: str) -> list[PartnerView]:
    """Every partner of an initiative, coordinators first, then by name (for its CSV)."""
    if session.get(Initiative, initiative_id) is None:
        raise NotFound("initiative", initiative_id)
    return _partner_views(session, _partners_query(initiative_id))


def get_initiative(
    session: Session, initiative_id: str, *, page: int = 1, per_page: int = MAX_PER_PAGE
) -> InitiativeDetail:
    """An initiative with one page of its partners (coordinators first, then by name);
    `partners_total`, the roles and the countries cover all of them."""
    offset, limit = _page_bounds(page, per_page)
    initiative = session.get(Initiative, initiative_id)
    if initiative is None:
        raise NotFound("initiative", initiative_id)
    partners = _partner_views(session, _partners_query(initiative_id).offset(offset).limit(limit))
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
    names = _country_names(session, [*by_country, *declared])
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
    return InitiativeDetail(
        **initiative_summary(initiative).model_dump(),
        call_topic=initiative.call_topic,
        aims=initiative.aims or [],
        target_regions=initiative.target_regions or [],
        topics=_topics_by_id(session, initiative.topics or []),
        facts=initiative.facts or {},
        coordinators=coordinators,
        partners=partners,
        partners_total=partners_total,
        partners_page=page,
        partners_per_page=per_page,
        roles=roles,
        countries=countries,
        links=_links_of(session, initiative_id),
        calls=list_calls(session, initiative=initiative_id),
    )


def _links_of(session: Session, initiative_id: str) -> list[LinkView]:
    other = aliased(Initiative)
    views: list[LinkView] = []
    for link, label, name in session.execute(
        select(Link, other.acronym, other.name)
        .join(other, other.id == Link.to_id)
        .where(Link.from_id == initiative_id)
    ):
        views.append(
            LinkView(
                direction="outgoing",
                kind=link.kind,
                initiative_id=link.to_id,
                initiative_label=label or name,
                **_marks(link),
            )
        )
    for link, label, name in session.execute(
        select(Link, other.acronym, other.name)
        .join(other, other.id == Link.from_id)
        .where(Link.to_id == initiative_id)
    ):
        views.append(
            LinkView(
                direction="incoming",
                kind=link.kind,
                initiative_id=link.from_id,
                initiative_label=label or name,
                **_marks(link),
            )
        )
    return views


# ---------------------------------------------------------------- topics and calls


def _topic_view(t: Topic) -> TopicView:
    return TopicView(id=t.id, name=t.name, kind=t.kind, parent_id=t.parent_id, **_marks(t))


def _topics_by_id(session: Session, ids: Sequence[str]) -> list[TopicView]:
    if not ids:
        return []
    found = {
        t.id: _topic_view(t)
        for t in session.execute(select(Topic).where(Topic.id.in_(ids))).scalars()
    }
    return [found[i] for i in ids if i in found]


def topic_tree(session: Session) -> list[TopicView]:
    """The taxonomy as a forest: documents with their areas, perspectives and pillars."""
    views = {
        t.id: _topic_view(t)
        for t in session.execute(select(Topic).order_by(Topic.position, Topic.name)).scalars()
    }
    roots: list[TopicView] = []
    for view in views.values():
        parent = views.get(view.parent_id or "")
        (parent.children if parent else roots).append(view)
    return roots


def list_calls(session: Session, *, initiative: str | None = None) -> list[CallView]:
    stmt = select(Call).order_by(Call.year, Call.id)
    if initiative:
        stmt = stmt.where(Call.initiative_id == initiative)
    calls = list(session.execute(stmt).scalars())
    org_ids = {c.secretariat_id for c in calls if c.secretariat_id}
    org_ids |= {f for c in calls for f in (c.funder_ids or [])}
    orgs = (
        {
            o.id: _organisation_summary(o, cn, sn)
            for o, cn, sn in session.execute(
                _organisation_query().where(Organisation.id.in_(org_ids))
            )
        }
        if org_ids
        else {}
    )
    names = _country_names(session, [code for c in calls for code in (c.countries or [])])
    return [
        CallView(
            id=c.id,
            initiative_id=c.initiative_id,
            title=c.title,
            year=c.year,
            ec_cofunded=c.ec_cofunded,
            funders_count=c.funders_count,
            budget_eur=_money(c.budget_eur),
            opening=_iso(c.opening),
            pre_proposal_deadline=_iso(c.pre_proposal_deadline),
            full_proposal_deadline=_iso(c.full_proposal_deadline),
            secretariat=orgs.get(c.secretariat_id or ""),
            funders=[orgs[f] for f in c.funder_ids or [] if f in orgs],
            procedure=c.procedure,
            countries=[
                CountryRef(code=code, name=names.get(code, code)) for code in c.countries or []
            ],
            rules=c.rules or {},
            proposals_submitted=c.proposals_submitted,
            projects_funded=c.projects_funded,
            **_marks(c),
        )
        for c in calls
    ]


# ---------------------------------------------------------------- organisations


def list_organisations(
    session: Session,
    *,
    country: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[OrganisationSummary]:
    offset, limit = _page_bounds(page, per_page)
    filters = []
    if country:
        code = country.upper()
        filters.append(
            or_(Organisation.country_code == code, Organisation.subdivision_code == code)
        )
    if kind:
        filters.append(Organisation.kind == kind)
    if q:
        filters.append(Organisation.id.in_(matching_ids(session, q, "organisation")))
    total = session.execute(select(func.count(Organisation.id)).where(*filters)).scalar_one()
    rows = session.execute(
        _organisation_query()
        .where(*filters)
        .order_by(func.lower(Organisation.name), Organisation.name, Organisation.id)
        .offset(offset)
        .limit(limit)
    )
    return Page(
        items=[_organisation_summary(*r) for r in rows], total=total, page=page, per_page=per_page
    )


def get_organisation(session: Session, organisation_id: str) -> OrganisationDetail:
    row = session.execute(_organisation_query().where(Organisation.id == organisation_id)).first()
    if row is None:
        raise NotFound("organisation", organisation_id)
    organisation = row[0]
    participations = [
        ParticipationView(
            initiative=initiative_summary(i),
            role=p.role,
            start=_iso(p.start_date),
            end=_iso(p.end_date),
            **_marks(p),
        )
        for p, i in session.execute(
            select(Participation, Initiative)
            .options(SUMMARY_ONLY)
            .join(Initiative, Initiative.id == Participation.initiative_id)
            .where(Participation.organisation_id == organisation_id)
            .order_by(Initiative.start_date, Initiative.id)
        )
    ]
    return OrganisationDetail(
        **_organisation_summary(*row).model_dump(),
        latitude=organisation.latitude,
        longitude=organisation.longitude,
        ror_id=organisation.ror_id,
        expertise=organisation.expertise or [],
        notes=organisation.notes,
        participations=participations,
    )


# ---------------------------------------------------------------- countries and regions


def list_regions(session: Session) -> list[RegionRef]:
    return [
        RegionRef(id=r.id, name=r.name)
        for r in session.execute(select(Region).order_by(Region.name)).scalars()
    ]


def _place(session: Session, code: str) -> Country:
    country = session.get(Country, code.upper())
    if country is None:
        raise NotFound("country", code)
    return country


def _in_place(country: Country) -> ColumnElement[bool]:
    """SQL: the organisation is in this country (or, for a subdivision, in it)."""
    if country.parent_code is not None:
        return Organisation.subdivision_code == country.code
    return Organisation.country_code == country.code


def country_organisations(
    session: Session, code: str, *, offset: int = 0, limit: int | None = None
) -> list[OrganisationSummary]:
    """A country's or subdivision's organisations by name (from the (country, name) index)."""
    stmt = (
        _organisation_rows()
        .where(_in_place(_place(session, code)))
        .order_by(Organisation.name, Organisation.id)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        _organisation_summary(r, r.country_name, r.subdivision_name) for r in session.execute(stmt)
    ]


def country_profile(
    session: Session,
    code: str,
    *,
    page: int = 1,
    per_page: int = COUNTRY_ORGANISATIONS_PER_PAGE,
    initiatives_limit: int = COUNTRY_INITIATIVES,
) -> CountryProfile:
    """A country or subdivision: a page of its organisations (by name), the initiatives they
    take part in (most organisations first, at most `initiatives_limit`; `initiatives_total`
    counts all) and its region memberships.

    Counts come from the activity aggregates and the organisation index, never from the
    participations: Germany alone has some 90,000 of them on the benchmark graph.
    """
    offset, limit = _page_bounds(page, per_page)
    if initiatives_limit < 0:
        raise InvalidFilter("initiatives_limit", initiatives_limit, "a whole number >= 0")
    # The place with its region memberships (a subdivision's are its country's): one query.
    placed = session.execute(
        select(Country, Region.id, Region.name)
        .outerjoin(
            RegionMembership,
            RegionMembership.country_code == func.coalesce(Country.parent_code, Country.code),
        )
        .outerjoin(Region, Region.id == RegionMembership.region_id)
        .where(Country.code == code.upper())
        .order_by(Region.name)
    ).all()
    if not placed:
        raise NotFound("country", code)
    country = placed[0][0]
    regions = [RegionRef(id=r_id, name=r_name) for _, r_id, r_name in placed if r_id]
    code = country.code
    is_subdivision = country.parent_code is not None
    # One round trip for the three counts (PostgreSQL answers each statement over the socket).
    in_place = select(func.count()).select_from(Organisation).where(_in_place(country))
    totals = select(PlaceTotal).where(PlaceTotal.place_code == code)
    organisations_total, participations_total, active_initiatives = session.execute(
        select(
            in_place.scalar_subquery(),
            totals.with_only_columns(PlaceTotal.participations).scalar_subquery(),
            totals.with_only_columns(PlaceTotal.initiatives).scalar_subquery(),
        )
    ).one()
    organisations = country_organisations(session, code, offset=offset, limit=limit)
    if is_subdivision:  # a few hundred role rows: ranked directly
        per_initiative = func.sum(CountryActivity.organisations)
        ranking = (
            select(CountryActivity.initiative_id, per_initiative)
            .where(CountryActivity.place_code == code)
            .group_by(CountryActivity.initiative_id)
            .order_by(per_initiative.desc(), CountryActivity.initiative_id)
        )
    else:
        ranking = (
            select(InitiativeActivity.initiative_id, InitiativeActivity.participations)
            .where(InitiativeActivity.scope == code)
            .order_by(InitiativeActivity.participations.desc(), InitiativeActivity.initiative_id)
        )
    most_active = [(str(i), int(n)) for i, n in session.execute(ranking.limit(initiatives_limit))]
    org_counts = dict(most_active)
    roles: dict[str, set[str]] = defaultdict(set)
    if most_active:
        for initiative_id, role in session.execute(
            select(CountryActivity.initiative_id, CountryActivity.role).where(
                CountryActivity.place_code == code,
                _among(session, CountryActivity.initiative_id, org_counts),
            )
        ):
            roles[initiative_id].add(role)
    declared = set(
        session.execute(select(Initiative.id).where(_declares_country(session, code))).scalars()
    )
    # Declared initiatives without an organisation here: after the active ones, as before.
    declared_active = (
        set(
            session.execute(
                select(CountryActivity.initiative_id)
                .where(
                    CountryActivity.place_code == code,
                    CountryActivity.initiative_id.in_(declared),
                )
                .distinct()
            ).scalars()
        )
        if declared
        else set()
    )
    declared_only = sorted(declared - declared_active)
    initiatives_total = (active_initiatives or 0) + len(declared_only)
    # Among equally active initiatives the declared ones come first (as the ranking did).
    shown = sorted(org_counts, key=lambda i: (-org_counts[i], i not in declared, i))
    shown = [*shown, *declared_only][:initiatives_limit]
    initiatives = {
        i.id: i
        for i in session.execute(
            select(*SUMMARY_COLUMNS).where(_among(session, Initiative.id, shown))
        )
    }
    parent = session.get(Country, country.parent_code) if is_subdivision else None
    return CountryProfile(
        code=code,
        name=country.name,
        official_name=country.official_name,
        alpha3=country.alpha3,
        parent=CountryRef(code=parent.code, name=parent.name) if parent else None,
        regions=regions,
        subdivisions=[] if is_subdivision else _subdivisions_with_organisations(session, code),
        organisations_total=organisations_total,
        organisations=organisations,
        organisations_page=page,
        organisations_per_page=per_page,
        participations_total=participations_total or 0,
        initiatives=sorted(
            (
                CountryInitiative(
                    initiative=initiative_summary(initiatives[i]),
                    roles=sorted(roles.get(i, set())),
                    organisations=org_counts.get(i, 0),
                    declared=i in declared,
                )
                for i in shown
                if i in initiatives
            ),
            key=lambda ci: (ci.initiative.start or "9999", ci.initiative.id),
        ),
        initiatives_total=initiatives_total,
    )


def _subdivisions_with_organisations(session: Session, code: str) -> list[SubdivisionActivity]:
    """A country's subdivisions that have organisations, by name.

    Each subdivision's organisations are counted through the subdivision index: a join let
    PostgreSQL hash every organisation of the graph.
    """
    organisations = (
        select(func.count())
        .select_from(Organisation)
        .where(Organisation.subdivision_code == Country.code)
        .correlate(Country)
        .scalar_subquery()
    )
    return [
        SubdivisionActivity(code=c, name=n, organisations=k)
        for c, n, k in session.execute(
            select(Country.code, Country.name, organisations)
            .where(Country.parent_code == code)
            .order_by(Country.name, Country.code)
        )
        if k
    ]


def _declared_countries(session: Session) -> list[tuple[str, list[str]]]:
    """(initiative id, countries it lists as taking part) for every initiative that lists any.

    The lists live in a JSON column read whole: initiatives number in the thousands at most,
    while organisations and participations (the large tables) are queried in SQL. Empty lists
    are left in the database: decoding 2,000 of them in Python cost 25 ms a call.
    """
    listed = cast(Initiative.countries, Text).not_in(["[]", "null"])
    return [
        (i, list(c or []))
        for i, c in session.execute(select(Initiative.id, Initiative.countries).where(listed))
    ]


def _declares_country(session: Session, code: str) -> ColumnElement[bool]:
    """SQL: the initiative lists `code` among its countries (a JSON array column)."""
    if session.get_bind().dialect.name == "sqlite":
        clause = text(
            "EXISTS (SELECT 1 FROM json_each(initiative.countries) WHERE json_each.value = :c)"
        )
    else:
        clause = text("jsonb_exists(CAST(initiative.countries AS jsonb), :c)")
    return clause.bindparams(c=code)  # type: ignore[return-value]


def _declared_only(session: Session, codes: Sequence[str]) -> dict[str, set[str]]:
    """country -> initiatives that list it as taking part but have no organisation there."""
    wanted = set(codes)
    declared: dict[str, set[str]] = defaultdict(set)
    for initiative_id, countries in _declared_countries(session):
        for country in wanted.intersection(countries):
            declared[country].add(initiative_id)
    if not declared:
        return {}
    ids = sorted({i for found in declared.values() for i in found})
    for place, initiative_id in session.execute(
        select(CountryActivity.place_code, CountryActivity.initiative_id)
        .where(
            CountryActivity.initiative_id.in_(ids),
            CountryActivity.place_code.in_(sorted(declared)),
        )
        .distinct()
    ):
        declared[place].discard(initiative_id)
    return declared


def _activity_by_country(session: Session, codes: Sequence[str]) -> dict[str, tuple[int, int, int]]:
    """country -> (organisations, participations, initiatives it takes part in or is declared
    in), from the organisation index and the `place_total` aggregate."""
    organisations = dict(
        session.execute(
            select(Organisation.country_code, func.count())
            .where(Organisation.country_code.in_(codes))
            .group_by(Organisation.country_code)
        ).all()
    )
    totals = {
        str(place): (int(n), int(k))
        for place, n, k in session.execute(
            select(PlaceTotal.place_code, PlaceTotal.participations, PlaceTotal.initiatives).where(
                PlaceTotal.place_code.in_(codes)
            )
        )
    }
    declared = _declared_only(session, codes)
    return {
        c: (
            organisations.get(c, 0),
            totals.get(c, (0, 0))[0],
            totals.get(c, (0, 0))[1] + len(declared.get(c, ())),
        )
        for c in codes
    }


def region_profile(
    session: Session, region_id: str, *, initiatives_limit: int = REGION_INITIATIVES
) -> RegionProfile:
    """A region's member countries with their activity, and the initiatives with most
    participations of its organisations (at most `initiatives_limit`; `initiatives_total`
    counts all, with those that only declare a member country)."""
    region = session.get(Region, region_id)
    if region is None:
        raise NotFound("region", region_id)
    if initiatives_limit < 0:
        raise InvalidFilter("initiatives_limit", initiatives_limit, "a whole number >= 0")
    members = list(
        session.execute(
            select(Country.code, Country.name)
            .join(RegionMembership, RegionMembership.country_code == Country.code)
            .where(RegionMembership.region_id == region_id)
            .order_by(Country.name)
        )
    )
    codes = [c for c, _ in members]
    activity = _activity_by_country(session, codes)
    member_views = [
        RegionMemberActivity(
            code=c,
            name=n,
            organisations=activity[c][0],
            participations=activity[c][1],
            initiatives_total=activity[c][2],
        )
        for c, n in members
    ]
    ranked = list(
        session.execute(
            select(InitiativeActivity.initiative_id)
            .where(InitiativeActivity.scope == region_id)
            .order_by(InitiativeActivity.participations.desc(), InitiativeActivity.initiative_id)
            .limit(initiatives_limit)
        ).scalars()
    )
    active_total = session.execute(
        select(func.count())
        .select_from(InitiativeActivity)
        .where(InitiativeActivity.scope == region_id)
    ).scalar_one()
    declaring = _declaring(session, codes)
    declared_active = (
        set(
            session.execute(
                select(InitiativeActivity.initiative_id).where(
                    InitiativeActivity.scope == region_id,
                    InitiativeActivity.initiative_id.in_(declaring),
                )
            ).scalars()
        )
        if declaring
        else set()
    )
    declared_only = sorted(declaring - declared_active)
    shown = [*ranked, *declared_only][:initiatives_limit]
    initiatives = [
        initiative_summary(i)
        for i in session.execute(
            select(Initiative)
            .options(SUMMARY_ONLY)
            .where(_among(session, Initiative.id, shown))
            .order_by(Initiative.start_date, Initiative.id)
        ).scalars()
    ]
    taking_part = sum(1 for m in member_views if m.takes_part)
    return RegionProfile(
        id=region.id,
        name=region.name,
        rule=region.rule,
        members=member_views,
        taking_part=taking_part,
        not_yet=len(member_views) - taking_part,
        initiatives=initiatives,
        initiatives_total=active_total + len(declared_only),
    )


# ---------------------------------------------------------------- network, timeline, counts


def _initiative_filters(
    kinds: Sequence[str] | None, year_from: int | None, year_to: int | None
) -> list[Any]:
    if year_from is not None and year_to is not None and year_to < year_from:
        raise InvalidFilter("year_to", year_to, f"a year >= year_from ({year_from})")
    filters: list[Any] = []
    if kinds:
        filters.append(Initiative.kind.in_(kinds))
    if year_from is not None:  # overlaps [year_from, year_to]
        filters.append(
            or_(Initiative.end_date.is_(None), Initiative.end_date >= dt.date(year_from, 1, 1))
        )
    if year_to is not None:
        filters.append(
            or_(Initiative.start_date.is_(None), Initiative.start_date <= dt.date(year_to, 12, 31))
        )
    return filters


def network(
    session: Session,
    *,
    kinds: Sequence[str] | None = None,
    region: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    max_nodes: int = NETWORK_MAX_NODES,
) -> Network:
    """Initiatives, their organisations and countries as nodes; roles and links as edges.

    When initiatives and organisations would push the graph past `max_nodes`, it is drawn from
    the activity aggregates instead (see `_aggregated_network`): one node per country, the
    initiatives with most participations, one node for all the other initiatives.
    """
    if region is not None and session.get(Region, region) is None:
        raise InvalidFilter("region", region, "a region id such as eu27, celac or african-union")
    filters = _initiative_filters(kinds, year_from, year_to)
    filtered = bool(filters)
    members = (
        sorted(
            session.execute(
                select(RegionMembership.country_code).where(RegionMembership.region_id == region)
            ).scalars()
        )
        if region
        else None
    )
    n_initiatives = session.execute(
        select(func.count()).select_from(Initiative).where(*filters)
    ).scalar_one()
    room = max_nodes - n_initiatives
    if room < 0 or _participating_organisations(session, filters, members, room + 1) > room:
        return _aggregated_network(session, filters, region, members, max_nodes)
    return _detailed_network(session, filters, filtered, region, members)


def _participating_organisations(
    session: Session, filters: list[Any], members: list[str] | None, cap: int
) -> int:
    """How many organisations take part in the chosen initiatives (in the region), counting no
    further than `cap`: the answer only decides whether they fit the drawing."""
    takes_part = select(Participation.organisation_id).where(
        Participation.organisation_id == Organisation.id
    )
    if filters:
        # A join, not `initiative_id IN (chosen ids)`: SQLite probed (organisation, initiative)
        # once per chosen initiative for every organisation (50 ms for the 1,400 projects).
        takes_part = takes_part.join(
            Initiative, Initiative.id == Participation.initiative_id
        ).where(*filters)
    found = select(Organisation.id).where(takes_part.exists())
    if members is not None:
        found = found.where(Organisation.country_code.in_(members))
    return int(
        session.execute(select(func.count()).select_from(found.limit(cap).subquery())).scalar_one()
    )


def _initiative_nodes(session: Session, filters: list[Any]) -> list[NetworkNode]:
    return [
        NetworkNode(
            id=f"initiative:{i}",
            type="initiative",
            label=acronym or name,
            kind=kind,
            url=f"/initiatives/{i}",
        )
        for i, acronym, name, kind in session.execute(
            select(Initiative.id, Initiative.acronym, Initiative.name, Initiative.kind)
            .where(*filters)
            .order_by(Initiative.id)
        )
    ]


def _link_edges(session: Session, ids: Sequence[str]) -> list[NetworkEdge]:
    if not ids:
        return []
    return [
        NetworkEdge(
            source=f"initiative:{source}", target=f"initiative:{target}", type="link", label=kind
        )
        for source, target, kind in session.execute(
            select(Link.from_id, Link.to_id, Link.kind).where(
                _among(session, Link.from_id, ids), _among(session, Link.to_id, ids)
            )
        )
    ]


def _declaring(session: Session, members: Iterable[str]) -> set[str]:
    """Initiatives that list one of these countries as taking part."""
    wanted = set(members)
    return {i for i, declared in _declared_countries(session) if wanted.intersection(declared)}


def _detailed_network(
    session: Session,
    filters: list[Any],
    filtered: bool,
    region: str | None,
    members: list[str] | None,
) -> Network:
    """Every organisation as a node (the graph fits `max_nodes`)."""
    nodes = _initiative_nodes(session, filters)
    org_filter: list[ColumnElement[bool]] = []
    # Restrict participations to the chosen initiatives only when a filter chose some: an
    # IN over every initiative would make the database walk all participations.
    if filtered:
        org_filter.append(Participation.initiative_id.in_([n.id.split(":", 1)[1] for n in nodes]))
    if members is not None:
        org_filter.append(Organisation.country_code.in_(members))
    edges: list[NetworkEdge] = []
    countries: dict[str, int] = defaultdict(int)
    seen_orgs: set[str] = set()
    for p_role, o_id, o_name, o_acr, o_kind, o_country, i_id in session.execute(
        select(
            Participation.role,
            Organisation.id,
            Organisation.name,
            Organisation.acronym,
            Organisation.kind,
            Organisation.country_code,
            Participation.initiative_id,
        )
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .where(*org_filter)
        .order_by(Organisation.id)
    ):
        if o_id not in seen_orgs:
            seen_orgs.add(o_id)
            nodes.append(
                NetworkNode(
                    id=f"organisation:{o_id}",
                    type="organisation",
                    label=o_acr or o_name,
                    kind=o_kind,
                    country=o_country,
                    url=f"/organisations/{o_id}",
                )
            )
            if o_country:
                countries[o_country] += 1
                edges.append(
                    NetworkEdge(
                        source=f"organisation:{o_id}",
                        target=f"country:{o_country}",
                        type="location",
                    )
                )
        edges.append(
            NetworkEdge(
                source=f"organisation:{o_id}",
                target=f"initiative:{i_id}",
                type="participation",
                label=p_role,
            )
        )
    if members is not None:
        # Within a region, show the initiatives its organisations take part in or that list
        # one of its countries, not the whole family.
        keep = {e.target for e in edges if e.type == "participation"} | {
            f"initiative:{i}" for i in _declaring(session, members)
        }
        nodes = [n for n in nodes if n.type != "initiative" or n.id in keep]
    shown = [n.id.split(":", 1)[1] for n in nodes if n.type == "initiative"]
    edges = _link_edges(session, shown) + edges
    names = _country_names(session, countries)
    nodes.extend(
        NetworkNode(
            id=f"country:{code}",
            type="country",
            label=names.get(code, code),
            country=code,
            weight=n,
            url=f"/countries/{code}",
        )
        for code, n in sorted(countries.items())
    )
    return Network(nodes=nodes, edges=edges, aggregated=None)


def _aggregated_network(
    session: Session,
    filters: list[Any],
    region: str | None,
    members: list[str] | None,
    max_nodes: int,
) -> Network:
    """The network from the activity aggregates, never from the participations.

    One node per country (weight = its organisations' participations in the chosen
    initiatives); the NETWORK_TOP_INITIATIVES initiatives with most participations (in the
    region, if one is chosen) with an edge from every country taking part (weight =
    participations); all other initiatives as one node, with an edge from each country for the
    rest of its participations. Unfiltered it reads about a hundred aggregate rows whatever the
    graph's size; a kind or year filter adds up the chosen initiatives' country rows.
    """
    scope = region or ALL_COUNTRIES
    # Every country (not subdivisions, whose organisations their country counts already), or
    # the region's members.
    places = (
        Country.parent_code.is_(None) if members is None else _among(session, Country.code, members)
    )
    # Participations per country in the chosen initiatives, and per (country, top initiative).
    if filters:
        # The chosen initiatives' per-country breakdowns in this scope, added up: a few
        # thousand small JSON objects instead of grouping a hundred thousand rows in SQL.
        sums: dict[str, int] = defaultdict(int)
        for (breakdown,) in session.execute(
            select(InitiativeActivity.countries)
            .join(Initiative, Initiative.id == InitiativeActivity.initiative_id)
            .where(InitiativeActivity.scope == scope, *filters)
        ):
            for place, n in (breakdown or {}).items():
                sums[place] += int(n)
        names = _country_names(session, sums)
        country_totals = {c: (n, names.get(c, c)) for c, n in sums.items()}
    else:
        country_totals = {
            str(c): (int(n), str(name))
            for c, name, n in session.execute(
                select(PlaceTotal.place_code, Country.name, PlaceTotal.participations)
                .join(Country, Country.code == PlaceTotal.place_code)
                .where(places)
            )
        }
    active_countries = sorted(c for c, (n, _) in country_totals.items() if n > 0)
    room = max(1, min(NETWORK_TOP_INITIATIVES, max_nodes - len(active_countries) - 1))
    # Ranking: participations in the scope, then initiatives that only declare a country there.
    ranking = (
        select(
            InitiativeActivity.initiative_id,
            Initiative.acronym,
            Initiative.name,
            Initiative.kind,
            InitiativeActivity.countries,
        )
        .join(Initiative, Initiative.id == InitiativeActivity.initiative_id)
        .where(InitiativeActivity.scope == scope, *filters)
    )
    ranked_rows = session.execute(
        ranking.order_by(
            InitiativeActivity.participations.desc(), InitiativeActivity.initiative_id
        ).limit(room)
    ).all()
    ranked = [str(r[0]) for r in ranked_rows]
    labels = {str(r[0]): (r[1] or r[2], r[3]) for r in ranked_rows}
    counted = (
        select(func.count())
        .select_from(InitiativeActivity)
        .where(InitiativeActivity.scope == scope)
    )
    if filters:
        counted = counted.join(Initiative, Initiative.id == InitiativeActivity.initiative_id).where(
            *filters
        )
    active_total = session.execute(counted).scalar_one()
    declared_only: list[str] = []
    if members is not None:
        declaring = _declaring(session, members)
        if declaring:
            active = set(
                session.execute(
                    select(InitiativeActivity.initiative_id).where(
                        InitiativeActivity.scope == scope,
                        InitiativeActivity.initiative_id.in_(declaring),
                    )
                ).scalars()
            )
            declared_only = sorted(
                session.execute(
                    select(Initiative.id).where(Initiative.id.in_(declaring - active), *filters)
                ).scalars()
            )
        in_scope = active_total + len(declared_only)
    else:
        in_scope = session.execute(
            select(func.count()).select_from(Initiative).where(*filters)
        ).scalar_one()
    top = ranked + declared_only[: max(0, room - len(ranked))]
    others = in_scope - len(top)
    # The ranking's rows carry their per-country breakdown: the edges need no other query.
    shown_countries = set(active_countries)
    pairs = [
        (place, str(r[0]), int(n))
        for r in ranked_rows
        for place, n in (r[4] or {}).items()
        if place in shown_countries and n
    ]
    if len(top) > len(ranked):  # declared-only initiatives are not in the ranking's rows
        labels.update(
            (i, (acronym or name, kind))
            for i, acronym, name, kind in session.execute(
                select(Initiative.id, Initiative.acronym, Initiative.name, Initiative.kind).where(
                    Initiative.id.in_(top[len(ranked) :])
                )
            )
        )
    nodes = [
        NetworkNode(
            id=f"initiative:{i}",
            type="initiative",
            label=labels[i][0],
            kind=labels[i][1],
            url=f"/initiatives/{i}",
        )
        for i in top
    ]
    edges = _link_edges(session, top)
    rest = {c: n for c, (n, _) in country_totals.items()}
    for place, initiative_id, n in sorted(pairs, key=lambda r: (r[1], r[0])):
        rest[place] = rest.get(place, 0) - int(n)
        edges.append(
            NetworkEdge(
                source=f"aggregate:{place}",
                target=f"initiative:{initiative_id}",
                type="participation",
                weight=int(n),
                label=f"{n} participations",
            )
        )
    if others > 0:
        nodes.append(
            NetworkNode(
                id=OTHER_INITIATIVES,
                type="aggregate",
                label=f"{others} other initiatives",
                weight=sum(n for n in rest.values() if n > 0),
                url="/initiatives",
            )
        )
        edges.extend(
            NetworkEdge(
                source=f"aggregate:{place}",
                target=OTHER_INITIATIVES,
                type="participation",
                weight=n,
                label=f"{n} participations",
            )
            for place, n in sorted(rest.items())
            if n > 0
        )
    nodes.extend(
        NetworkNode(
            id=f"aggregate:{code}",
            type="aggregate",
            label=name,
            country=code,
            weight=n,
            url=f"/countries/{code}",
        )
        for code, (n, name) in sorted(country_totals.items())
        if n > 0
    )
    participations = sum(n for n, _ in country_totals.values() if n > 0)
    aggregated = (
        f"More than {max_nodes} nodes: organisations are aggregated into one node per country "
        f"({len(active_countries)} countries, "
        f"{participations} participations; weights count participations)"
    )
    if others > 0:
        aggregated += (
            f", and the {len(top)} initiatives with most participations are shown, "
            f"the other {others} as one node"
        )
    if members is None:
        stateless = _participations_without_country(session)
        if stateless:
            aggregated += (
                f"; {stateless} participations of organisations without a country are not drawn"
            )
    return Network(nodes=nodes, edges=edges, aggregated=aggregated)


def timeline(
    session: Session, *, kinds: Sequence[str] | None = None, today: dt.date | None = None
) -> Timeline:
    today = today or dt.date.today()
    # Only the columns a bar needs: whole rows would load every initiative's JSON documents.
    rows = session.execute(
        select(
            Initiative.id,
            Initiative.acronym,
            Initiative.name,
            Initiative.kind,
            Initiative.start_date,
            Initiative.end_date,
            Initiative.start_precision,
            Initiative.end_precision,
            Initiative.uncertain,
        )
        .where(*_initiative_filters(kinds, None, None))
        .order_by(Initiative.start_date.is_(None), Initiative.start_date, Initiative.id)
    )
    return Timeline(
        today=today.isoformat(),
        items=[
            TimelineItem(
                id=i.id,
                label=i.acronym or i.name,
                kind=i.kind,
                start=_iso(i.start_date),
                end=_iso(i.end_date),
                start_precision=i.start_precision,
                end_precision=i.end_precision,
                status=status(i.start_date, i.end_date, today),
                uncertain={k: v for k, v in (i.uncertain or {}).items() if k in ("start", "end")},
            )
            for i in rows
        ],
    )


def _participations_without_country(session: Session) -> int:
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
    for _, declared in _declared_countries(session):
        codes.update(c for c in declared if "-" not in c)
    ordered = sorted(str(c) for c in codes)
    declared_only = _declared_only(session, ordered)
    activity = {
        c: (
            int(organisations_by_country.get(c, 0)),
            totals.get(c, (0, 0))[0],
            totals.get(c, (0, 0))[1] + len(declared_only.get(c, ())),
        )
        for c in ordered
    }
    names = _country_names(session, ordered)
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
    without_country = _participations_without_country(session)
    return Counts(
        initiatives=session.execute(select(func.count()).select_from(Initiative)).scalar_one(),
        organisations=session.execute(select(func.count()).select_from(Organisation)).scalar_one(),
        participations=sum(n for n, _ in totals.values()) + int(without_country),
        countries=sum(1 for c in by_country if c.initiatives),
        by_country=by_country,
        by_region=by_region,
    )
