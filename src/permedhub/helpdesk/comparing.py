"""Comparing two to five countries side by side: who regulates, which rules, who funds.

`compare(session, ["AR", "BR", "CL"])` reads the knowledge base and returns one `Comparison`:
rows of regulators by role, rules by aspect (statutory timelines with their days) and funders
by kind, each with one cell per country. A cell lists the sourced facts (and nothing else); an
empty cell is a *gap*, shown as such, never filled in. A fact whose `verified_on` is older than
the stale age (`helpdesk.settings.stale_days`: the experts' setting, else the environment's) is
marked as possibly stale. For a member state of the EU the Union's own rules (Regulation (EU)
No 536/2014, CTIS) apply as well: they appear in its cells marked as EU-wide.

`to_csv` and `to_html` export the same comparison: the CSV one line per fact or gap, the HTML a
single file with its style inline and no script, image or link to load from anywhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from permedhub.graph.models import Country, Organisation, RegionMembership
from permedhub.graph.spreadsheets import neutralised
from permedhub.helpdesk.models import Body, Funding, Rule
from permedhub.helpdesk.schemas import EU, Aspect, FundingKind, Jurisdiction, Role
from permedhub.helpdesk.settings import stale_days
from permedhub.validation import expected

MIN_COUNTRIES, MAX_COUNTRIES = 2, 5
EU_MEMBERS_REGION = "eu27"  # the graph's region of the Union's member states

ROLE_LABELS: dict[str, str] = {
    "medicines-regulator": "Medicines regulator",
    "device-regulator": "Medical-device regulator",
    "ethics-oversight": "Ethics oversight",
    "data-protection": "Data-protection authority",
}
ASPECT_LABELS: dict[str, str] = {
    "approval-pathway": "Approval pathway",
    "ethics-review": "Ethics review",
    "timeline": "Statutory timelines",
    "submission-language": "Submission language",
    "insurance": "Insurance",
    "data-protection-law": "Data-protection law",
    "sample-transfer": "Export/import of biological samples",
    "fees": "Fees",
}
FUNDING_LABELS: dict[str, str] = {"agency": "Research funders", "programme": "Funding programmes"}
SECTION_LABELS = {"regulators": "Regulators", "rules": "Clinical-trial rules", "funding": "Funding"}
# The literal types' values, in the order the schemas give them (and so the rows' order).
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]
ASPECTS: tuple[str, ...] = Aspect.__args__  # type: ignore[attr-defined]
FUNDING_KINDS: tuple[str, ...] = FundingKind.__args__  # type: ignore[attr-defined]


class CompareError(ValueError):
    """The countries asked for cannot be compared; `problems` as (field, value, what was
    expected), each message naming what was expected."""

    def __init__(self, problems: list[tuple[str, Any, str]]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{field} = {value!r}: {message}" for field, value, message in problems)
        )


class CompareRequest(BaseModel):
    """What a comparison is asked for: 2 to 5 distinct jurisdictions (ISO codes or EU)."""

    model_config = ConfigDict(extra="forbid")
    countries: Annotated[
        list[Jurisdiction], Field(min_length=MIN_COUNTRIES, max_length=MAX_COUNTRIES)
    ]

    @field_validator("countries")
    @classmethod
    def _distinct(cls, codes: list[str]) -> list[str]:
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} named twice: expected distinct countries")
        return codes


@dataclass(frozen=True)
class FactCell:
    """One sourced fact as a comparison shows it."""

    id: str
    text: str
    detail: str  # acronym, days, legal reference, website: what qualifies the text
    source: str
    verified_on: dt.date
    stale: bool
    eu_wide: bool = False  # an EU rule shown for a member state
    uncertain: bool = False


@dataclass(frozen=True)
class Row:
    section: str  # regulators | rules | funding
    key: str  # the role, aspect or funding kind
    label: str
    cells: dict[str, list[FactCell]]  # country -> its facts; an empty list is a gap

    def gaps(self) -> list[str]:
        return [country for country, facts in self.cells.items() if not facts]


@dataclass(frozen=True)
class Comparison:
    countries: tuple[str, ...]
    names: dict[str, str]
    rows: list[Row]
    today: dt.date
    stale_after_days: int
    eu_members: frozenset[str] = field(default_factory=frozenset)

    def sections(self) -> list[tuple[str, str, list[Row]]]:
        """(section, its label, its rows), in the order shown."""
        return [
            (name, label, [row for row in self.rows if row.section == name])
            for name, label in SECTION_LABELS.items()
        ]

    def gap_count(self) -> int:
        return sum(len(row.gaps()) for row in self.rows)

    def stale_count(self) -> int:
        return sum(f.stale for row in self.rows for facts in row.cells.values() for f in facts)

    def as_json(self) -> dict[str, Any]:
        return {
            "countries": [{"code": c, "name": self.names[c]} for c in self.countries],
            "today": self.today.isoformat(),
            "stale_after_days": self.stale_after_days,
            "rows": [
                {
                    "section": row.section,
                    "key": row.key,
                    "label": row.label,
                    "gaps": row.gaps(),
                    "cells": {
                        country: [
                            {**f.__dict__, "verified_on": f.verified_on.isoformat()} for f in facts
                        ]
                        for country, facts in row.cells.items()
                    },
                }
                for row in self.rows
            ],
        }


def parse_countries(countries: Sequence[str]) -> tuple[str, ...]:
    """The requested codes, normalised (alpha-3 accepted), or a `CompareError` naming each bad
    one by its position."""
    try:
        request = CompareRequest.model_validate({"countries": list(countries)})
    except ValidationError as exc:
        raise CompareError(
            [
                (".".join(str(part) for part in error["loc"]), error.get("input"), expected(error))
                for error in exc.errors()
            ]
        ) from None
    return tuple(request.countries)


def compare(
    session: Session,
    countries: Sequence[str],
    *,
    stale_after_days: int | None = None,
    today: dt.date | None = None,
) -> Comparison:
    """The knowledge base's facts on `countries` (2-5 ISO codes or EU), side by side."""
    codes = parse_countries(countries)
    today = today or dt.date.today()
    stale_after_days = stale_days(session) if stale_after_days is None else stale_after_days
    oldest_fresh = today - dt.timedelta(days=stale_after_days)
    members = frozenset(
        session.execute(
            select(RegionMembership.country_code).where(
                RegionMembership.region_id == EU_MEMBERS_REGION,
                RegionMembership.country_code.in_(codes),
            )
        ).scalars()
    )
    wanted = set(codes) | ({EU} if members else set())
    names = {
        row.code: row.name
        for row in session.execute(
            select(Country.code, Country.name).where(Country.code.in_(codes))
        )
    }
    names[EU] = "European Union"

    def applies_to(jurisdiction: str) -> list[str]:
        """The compared countries a fact of `jurisdiction` is shown for."""
        if jurisdiction == EU:
            return [c for c in codes if c == EU or c in members]
        return [jurisdiction]

    def fact(record: Any, text: str, detail: str, country: str) -> FactCell:
        return FactCell(
            id=record.id,
            text=text,
            detail=detail,
            source=record.source,
            verified_on=record.verified_on,
            stale=record.verified_on < oldest_fresh,
            eu_wide=record.jurisdiction == EU and country != EU,
            uncertain=bool(record.uncertain),
        )

    rows: list[Row] = []
    bodies = _grouped(session, Body, Body.role, wanted)
    for role in ROLES:
        cells = _empty(codes)
        for record, organisation in bodies.get(role, []):
            name, acronym = _named(record, organisation)
            detail = " · ".join(
                part for part in (acronym, record.website or _site(organisation)) if part
            )
            for country in applies_to(record.jurisdiction):
                cells[country].append(fact(record, name, detail, country))
        rows.append(Row("regulators", role, ROLE_LABELS[role], cells))
    rules = _grouped(session, Rule, Rule.aspect, wanted)
    for aspect in ASPECTS:
        cells = _empty(codes)
        for record, _organisation in rules.get(aspect, []):
            days = f"{record.days} {record.day_kind} days" if record.days is not None else ""
            detail = " · ".join(part for part in (days, record.legal_reference) if part)
            for country in applies_to(record.jurisdiction):
                cells[country].append(fact(record, record.statement, detail, country))
        rows.append(Row("rules", aspect, ASPECT_LABELS[aspect], cells))
    funding = _grouped(session, Funding, Funding.kind, wanted)
    for kind in FUNDING_KINDS:
        cells = _empty(codes)
        for record, organisation in funding.get(kind, []):
            name, acronym = _named(record, organisation)
            trials = "funds clinical trials" if record.funds_trials else ""
            detail = " · ".join(
                part for part in (acronym, trials, record.website or _site(organisation)) if part
            )
            for country in applies_to(record.jurisdiction):
                cells[country].append(fact(record, name, detail, country))
        rows.append(Row("funding", kind, FUNDING_LABELS[kind], cells))
    return Comparison(
        countries=codes,
        names={code: names.get(code, code) for code in codes},
        rows=rows,
        today=today,
        stale_after_days=stale_after_days,
        eu_members=members,
    )


def _empty(codes: Sequence[str]) -> dict[str, list[FactCell]]:
    return {code: [] for code in codes}


def _grouped(
    session: Session, model: Any, column: Any, jurisdictions: set[str]
) -> dict[str, list[tuple[Any, Organisation | None]]]:
    """The records of `jurisdictions` with the graph organisation each names, by `column`;
    a country's own facts before the Union's, then by id (a stable order)."""
    grouped: dict[str, list[tuple[Any, Organisation | None]]] = {}
    where = model.jurisdiction.in_(jurisdictions)
    if hasattr(model, "organisation_id"):
        linked = (
            select(model, Organisation)
            .outerjoin(Organisation, Organisation.id == model.organisation_id)
            .where(where)
            .order_by(model.id)
        )
        for record, organisation in session.execute(linked):
            grouped.setdefault(getattr(record, column.key), []).append((record, organisation))
    else:
        for record in session.execute(select(model).where(where).order_by(model.id)).scalars():
            grouped.setdefault(getattr(record, column.key), []).append((record, None))
    for records in grouped.values():
        records.sort(key=lambda pair: pair[0].jurisdiction == EU)
    return grouped


def _named(record: Any, organisation: Organisation | None) -> tuple[str, str]:
    """A body's or funder's name and acronym: its own, or its graph organisation's."""
    if organisation is not None:
        return organisation.name, organisation.acronym or ""
    return record.name or record.id, record.acronym or ""


def _site(organisation: Organisation | None) -> str:
    return (organisation.website or "") if organisation is not None else ""


# ---------------------------------------------------------------- exports

CSV_COLUMNS = (
    "section",
    "topic",
    "country",
    "country_name",
    "fact",
    "detail",
    "source",
    "verified_on",
    "status",
    "fact_id",
)


def to_csv(comparison: Comparison) -> str:
    """One line per fact, and one per gap (status `gap`, no fact): the comparison as a table a
    spreadsheet can pivot back into columns per country."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in comparison.rows:
        for country in comparison.countries:
            name = comparison.names[country]
            facts = row.cells[country]
            if not facts:
                writer.writerow([row.section, row.label, country, name, "", "", "", "", "gap", ""])
            for f in facts:
                writer.writerow(
                    [
                        row.section,
                        row.label,
                        country,
                        name,
                        neutralised(f.text),
                        neutralised(f.detail),
                        neutralised(f.source),
                        f.verified_on.isoformat(),
                        _status(f),
                        f.id,
                    ]
                )
    return buffer.getvalue()


def _status(f: FactCell) -> str:
    marks = ["possibly stale" if f.stale else "current"]
    if f.eu_wide:
        marks.append("EU-wide")
    if f.uncertain:
        marks.append("uncertain")
    return "; ".join(marks)


_environment = Environment(
    loader=PackageLoader("permedhub.helpdesk", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def to_html(comparison: Comparison) -> str:
    """The comparison as one self-contained HTML file (inline style; no script or asset)."""
    template = _environment.get_template("comparison_export.html")
    return template.render(c=comparison, sections=comparison.sections())


def jurisdictions(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every jurisdiction the knowledge base has a fact on, by name; the
    choices a comparison form offers."""
    codes: set[str] = set()
    for model in (Body, Rule, Funding):
        codes.update(session.execute(select(model.jurisdiction).distinct()).scalars())
    names: dict[str, str] = {
        row.code: row.name
        for row in session.execute(
            select(Country.code, Country.name).where(Country.code.in_(codes))
        )
    }
    names.update({EU: "European Union"} if EU in codes else {})
    return sorted(((code, names.get(code, code)) for code in codes), key=lambda pair: pair[1])
