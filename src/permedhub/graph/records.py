"""The import format field by field (FIELDS), from validated records to table rows, and the rows'
comparable snapshots for the audit trail."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Table

from permedhub.graph import models
from permedhub.graph.models import table_of
from permedhub.graph.schemas import SCHEMAS, Record

TABLES: dict[str, Table] = {
    "topics": table_of(models.Topic),
    "organisations": table_of(models.Organisation),
    "initiatives": table_of(models.Initiative),
    "links": table_of(models.Link),
    "participations": table_of(models.Participation),
    "calls": table_of(models.Call),
}
ENTITY_TYPE = {
    "topics": "topic",
    "organisations": "organisation",
    "initiatives": "initiative",
    "links": "link",
    "participations": "participation",
    "calls": "call",
}
# Kept by the database itself, so never part of what a file says or of a change.
NOT_COMPARED = {"updated_at"}


# ------------------------------------------------------------ the import format, field by field

Kind = Literal["plain", "money", "date", "list", "mapping", "keep"]


@dataclass(frozen=True)
class Field:
    """One field of an import record and the column it is stored in.

    A date is stored as the first day of its period, or the last (`day="last"`) for ends and
    deadlines, so that "2020" as an end means the whole year; `precision` names the column
    that keeps how precise the source was.
    """

    name: str
    column: str
    kind: Kind = "plain"
    precision: str | None = None
    day: Literal["first", "last"] = "first"


def _fields(*specs: tuple[Any, ...] | str) -> tuple[Field, ...]:
    out = [Field(spec, spec) if isinstance(spec, str) else Field(*spec) for spec in specs]
    return (
        *out,
        Field("source", "source"),
        Field("sources", "sources", "mapping"),
        Field("uncertain", "uncertain", "mapping"),
        Field("approximate", "approximate", "mapping"),
    )


FIELDS: dict[str, tuple[Field, ...]] = {
    "topics": _fields(
        "id", "name", "kind", ("parent", "parent_id"), ("position", "position", "keep")
    ),
    "organisations": _fields(
        "id",
        "name",
        "acronym",
        "kind",
        ("country", "country_code"),
        ("subdivision", "subdivision_code"),
        "city",
        "latitude",
        "longitude",
        "website",
        "ror_id",
        ("expertise", "expertise", "list"),
        "notes",
        ("synthetic", "synthetic", "keep"),
    ),
    "initiatives": _fields(
        "id",
        "name",
        "acronym",
        "kind",
        "programme",
        "grant_id",
        "call_topic",
        ("eu_contribution_eur", "eu_contribution_eur", "money"),
        ("total_budget_eur", "total_budget_eur", "money"),
        ("start", "start_date", "date", "start_precision"),
        ("end", "end_date", "date", "end_precision", "last"),
        "website",
        "summary",
        ("aims", "aims", "list"),
        ("countries", "countries", "list"),
        ("target_regions", "target_regions", "list"),
        ("topics", "topics", "list"),
        ("facts", "facts", "mapping"),
        ("synthetic", "synthetic", "keep"),
    ),
    "links": _fields("id", ("from", "from_id"), ("to", "to_id"), "kind"),
    "participations": _fields(
        "id",
        ("organisation", "organisation_id"),
        ("initiative", "initiative_id"),
        "role",
        ("start", "start_date", "date"),
        ("end", "end_date", "date", None, "last"),
    ),
    "calls": _fields(
        "id",
        ("initiative", "initiative_id"),
        "title",
        "year",
        ("ec_cofunded", "ec_cofunded", "keep"),
        "funders_count",
        ("budget_eur", "budget_eur", "money"),
        ("opening", "opening", "date"),
        ("pre_proposal_deadline", "pre_proposal_deadline", "date", None, "last"),
        ("full_proposal_deadline", "full_proposal_deadline", "date", None, "last"),
        ("secretariat", "secretariat_id"),
        "procedure",
        ("funders", "funder_ids", "list"),
        ("countries", "countries", "list"),
        ("rules", "rules", "mapping"),
        "proposals_submitted",
        "projects_funded",
    ),
}


def _attribute(schema: type[Record], name: str) -> str:
    """The schema attribute holding file field `name` (`from` is held by `from_initiative`)."""
    for attribute, info in schema.model_fields.items():
        if info.alias == name:
            return attribute
    return name


ColumnValue = Callable[[Record], Any]


def _getter(attribute: str, spec: Field) -> list[tuple[str, ColumnValue]]:
    get = operator.attrgetter(attribute)
    if spec.kind != "date":
        return [(spec.column, get)]
    bound = "last_day" if spec.day == "last" else "first_day"
    getters: list[tuple[str, ColumnValue]] = [
        (spec.column, lambda r: getattr(d, bound)() if (d := get(r)) else None)
    ]
    if spec.precision:
        getters.append((spec.precision, lambda r: d.precision if (d := get(r)) else None))
    return getters


# Built once: a bulk load turns hundreds of thousands of records into rows.
_COLUMN_VALUES: dict[type[Record], list[tuple[str, ColumnValue]]] = {
    schema: [
        getter for spec in FIELDS[entity] for getter in _getter(_attribute(schema, spec.name), spec)
    ]
    for entity, schema in SCHEMAS.items()
}


def to_row(entity: str, record: Record) -> dict[str, Any]:
    """The column values a validated record stores, by the field map FIELDS."""
    try:
        getters = _COLUMN_VALUES[type(record)]
    except KeyError:
        raise TypeError(f"no table for {entity}") from None
    return {column: value(record) for column, value in getters}


def snapshot(row: Any) -> dict[str, Any]:
    """A JSON-ready, comparable copy of a row (dates as ISO text, money as float)."""
    return {key: _plain(value) for key, value in dict(row).items() if key not in NOT_COMPARED}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
