"""Countries, subdivisions and regions: their organisations and the initiatives they take part in
(from the activity aggregates), and the countries initiatives declare."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Text, cast, func, select, text
from sqlalchemy.orm import Session

from permedhub.graph.models import (
    Country,
    CountryActivity,
    Initiative,
    InitiativeActivity,
    Organisation,
    PlaceTotal,
    Region,
    RegionMembership,
)
from permedhub.graph.queries.common import (
    SUMMARY_COLUMNS,
    SUMMARY_ONLY,
    InvalidFilter,
    NotFound,
    among_values,
    initiative_summary,
    organisation_rows,
    organisation_summary,
    page_bounds,
)
from permedhub.graph.views import (
    CountryInitiative,
    CountryProfile,
    CountryRef,
    OrganisationSummary,
    RegionMemberActivity,
    RegionProfile,
    RegionRef,
    SubdivisionActivity,
)

COUNTRY_ORGANISATIONS_PER_PAGE = 50
COUNTRY_INITIATIVES = 50
REGION_INITIATIVES = 100


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
        organisation_rows()
        .where(_in_place(_place(session, code)))
        .order_by(Organisation.name, Organisation.id)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        organisation_summary(r, r.country_name, r.subdivision_name) for r in session.execute(stmt)
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
    offset, limit = page_bounds(page, per_page)
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
                among_values(session, CountryActivity.initiative_id, org_counts),
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
            select(*SUMMARY_COLUMNS).where(among_values(session, Initiative.id, shown))
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


def declared_countries(session: Session) -> list[tuple[str, list[str]]]:
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


def declared_without_partners(session: Session, codes: Sequence[str]) -> dict[str, set[str]]:
    """country -> initiatives that list it as taking part but have no organisation there."""
    wanted = set(codes)
    declared: dict[str, set[str]] = defaultdict(set)
    for initiative_id, countries in declared_countries(session):
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


def _activity_by_country(
    session: Session, codes: Sequence[str]
) -> dict[str, tuple[int, int, int, int]]:
    """country -> (organisations, participations, initiatives it takes part in or is declared
    in, initiatives it is only declared in), from the organisation index and the `place_total`
    aggregate."""
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
    declared = declared_without_partners(session, codes)
    return {
        c: (
            organisations.get(c, 0),
            totals.get(c, (0, 0))[0],
            totals.get(c, (0, 0))[1] + len(declared.get(c, ())),
            len(declared.get(c, ())),
        )
        for c in codes
    }


def region_profile(
    session: Session, region_id: str, *, initiatives_limit: int = REGION_INITIATIVES
) -> RegionProfile:
    """A region's member countries with their activity (most participations first), and the
    initiatives with most
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
            declared_only=activity[c][3],
        )
        for c, n in members
    ]
    # Most active first: the countries that take part most are what a reader looks for.
    member_views.sort(
        key=lambda m: (-m.participations, -m.initiatives_total, -m.organisations, m.name)
    )
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
    declaring = initiatives_declaring(session, codes)
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
            .where(among_values(session, Initiative.id, shown))
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


def initiatives_declaring(session: Session, members: Iterable[str]) -> set[str]:
    """Initiatives that list one of these countries as taking part."""
    wanted = set(members)
    return {i for i, declared in declared_countries(session) if wanted.intersection(declared)}
