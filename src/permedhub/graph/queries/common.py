"""Shared by the query modules: errors, paging, and the summaries several views embed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, load_only

from permedhub.db import among
from permedhub.graph.models import Country, Initiative, Organisation
from permedhub.graph.views import CountryRef, InitiativeSummary, OrganisationSummary, Status

MAX_PER_PAGE = 500


class NotFound(LookupError):
    def __init__(self, entity: str, key: str):
        self.entity, self.key = entity, key
        super().__init__(f"no {entity} with id {key!r}")


class InvalidFilter(ValueError):
    def __init__(self, field: str, value: Any, expected: str):
        self.field, self.value, self.expected = field, value, expected
        super().__init__(f"{field}={value!r}: expected {expected}")


SubCountry = aliased(Country, name="sub_country")
OrgCountry = aliased(Country, name="org_country")


def iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def money(value: Any) -> float | None:
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


def marks(row: Any) -> dict[str, Any]:
    return {
        "source": row.source,
        "sources": row.sources or {},
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
    Initiative.sources,
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
    Organisation.sources,
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
        start=iso(i.start_date),
        start_precision=i.start_precision,
        end=iso(i.end_date),
        end_precision=i.end_precision,
        status=status(i.start_date, i.end_date),
        eu_contribution_eur=money(i.eu_contribution_eur),
        total_budget_eur=money(i.total_budget_eur),
        website=i.website,
        summary=i.summary,
        **marks(i),
    )


def organisation_query() -> Select[Organisation, str, str]:
    return (
        select(Organisation, OrgCountry.name, SubCountry.name)
        .outerjoin(OrgCountry, OrgCountry.code == Organisation.country_code)
        .outerjoin(SubCountry, SubCountry.code == Organisation.subdivision_code)
    )


def organisation_rows() -> Select[Any]:
    """`organisation_query` as Core rows (see SUMMARY_COLUMNS), country names labelled."""
    return (
        select(
            *ORGANISATION_COLUMNS,
            OrgCountry.name.label("country_name"),
            SubCountry.name.label("subdivision_name"),
        )
        .outerjoin(OrgCountry, OrgCountry.code == Organisation.country_code)
        .outerjoin(SubCountry, SubCountry.code == Organisation.subdivision_code)
    )


def organisation_summary(
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
        **marks(o),
    )


def organisations_by_id(session: Session, ids: Iterable[str]) -> dict[str, OrganisationSummary]:
    """The summaries of the organisations among `ids` that the graph holds."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(organisation_query().where(Organisation.id.in_(wanted)))
    return {o.id: organisation_summary(o, country, sub) for o, country, sub in rows}


def page_bounds(page: int, per_page: int) -> tuple[int, int]:
    if page < 1:
        raise InvalidFilter("page", page, "a whole number >= 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidFilter("per_page", per_page, f"a whole number from 1 to {MAX_PER_PAGE}")
    return (page - 1) * per_page, per_page


def among_values(
    session: Session, column: InstrumentedAttribute[str], values: Iterable[str]
) -> ColumnElement[bool]:
    return among(session.get_bind().dialect.name, column, values)


def country_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    codes = set(codes)
    if not codes:
        return {}
    return dict(
        session.execute(
            select(Country.code, Country.name).where(among_values(session, Country.code, codes))
        ).all()
    )


def initiative_filters(
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
