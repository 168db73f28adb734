"""Pydantic schemas of the atlas: the gate every mapping record passes through.

A mapping record is one sourced fact of a mapping exercise (IC2PerMed, EULAC-PerMed, EU-Africa
PerMed, SINO-EU PerMed): a policy or national strategy, a funding programme, a research
infrastructure, a biobank or genomics initiative, a standard or a training programme, in one or
more places (ISO 3166-1 countries or ISO 3166-2 subdivisions, or graph regions for records that
cover a region as a whole), tagged with topics of the ICPerMed taxonomy in the graph. It keeps
the graph's conventions (graph/schemas.Record): `source` (required here), `sources` per field,
`{value, uncertain, note}` facts and `uncertain` marks.

`COLUMNS` is the one definition of the survey's columns: the CSV and XLSX templates, their data
dictionary and the importer's reading of list cells all come from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, model_validator

from permedhub.graph.schemas import (
    Citation,
    CountryCode,
    DateField,
    Record,
    StableId,
    Text,
    WebAddress,
)

RecordType = Literal[
    "policy-strategy",
    "funding-programme",
    "research-infrastructure",
    "biobank-genomics",
    "standard",
    "training-programme",
]
Status = Literal["planned", "active", "completed", "discontinued"]
Capacity = Literal["none", "emerging", "established", "advanced"]

# How much a record counts towards a place's strength in a topic (analyses.strengths): "none"
# is a source saying the capacity is absent, so it counts nothing; a record whose source gives
# no level counts as "emerging", the least that its existence shows.
CAPACITY_WEIGHT: dict[str | None, int] = {
    "none": 0,
    "emerging": 1,
    "established": 2,
    "advanced": 3,
    None: 1,
}


def _required_source(value: str | None) -> str:
    if not value:
        raise ValueError("required: the URL of the page (or the report) the record was read in")
    return value


def _split(value: Any) -> Any:
    """A list cell of a survey: `a; b` is the list [a, b]."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def _codes(value: list[str | None]) -> list[str]:
    seen: list[str] = []
    for code in value:
        if code and code not in seen:
            seen.append(code)
    return seen


RequiredSource = Annotated[
    Citation, AfterValidator(_required_source), Field(default=None, validate_default=True)
]
Places = Annotated[list[CountryCode], BeforeValidator(_split), AfterValidator(_codes)]
Names = Annotated[list[str], BeforeValidator(_split)]


class MappingRecordIn(Record, StableId):
    """One mapping record (a row of the survey)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=400)
    acronym: Text = Field(default=None, max_length=80)
    type: RecordType
    countries: Places = Field(default_factory=list)
    regions: Names = Field(default_factory=list)
    organisation: Text = None
    status: Status | None = None
    start: DateField = None
    end: DateField = None
    topics: Names = Field(default_factory=list)
    capacity: Capacity | None = None
    website: WebAddress = None
    description: Text = Field(default=None, max_length=4000)
    notes: Text = Field(default=None, max_length=4000)
    source: RequiredSource

    @model_validator(mode="after")
    def _placed(self) -> MappingRecordIn:
        if not self.countries and not self.regions:
            raise ValueError(
                "countries: required unless `regions` names the graph regions the record covers "
                "(give an ISO 3166-1 or ISO 3166-2 code such as FR or ES-CT)"
            )
        return self

    @model_validator(mode="after")
    def _end_after_start(self) -> MappingRecordIn:
        if self.start and self.end and self.end.last_day() < self.start.first_day():
            raise ValueError(
                f"end {self.end.last_day().isoformat()} is before start "
                f"{self.start.first_day().isoformat()}: expected an end on or after the start"
            )
        return self


@dataclass(frozen=True)
class Column:
    """One survey column: its name, whether a row must fill it, and what it holds."""

    name: str
    required: bool
    meaning: str
    allowed: str = ""
    example: str = ""


def _choices(kind: Any) -> str:
    return ", ".join(get_args(kind))


COLUMNS: tuple[Column, ...] = (
    Column(
        "id",
        True,
        "A stable id of the record, unique in the survey; it survives re-imports.",
        "lower-case letters, digits, '.', '_' or '-'",
        "fr-pfmg2025",
    ),
    Column(
        "name",
        True,
        "The record's name as its source writes it.",
        "text, up to 400 characters",
        "France Genomic Medicine Plan 2025",
    ),
    Column("acronym", False, "Its acronym, if the source gives one.", "text", "PFMG2025"),
    Column("type", True, "What kind of record it is.", _choices(RecordType), "policy-strategy"),
    Column(
        "countries",
        False,
        "The places it concerns (required unless `regions` is given).",
        "ISO 3166-1 codes (FR, FRA) or ISO 3166-2 codes (ES-CT), separated by ';'",
        "FR",
    ),
    Column(
        "regions",
        False,
        "Graph regions a record covers as a whole, instead of countries.",
        "region ids of the graph (eu27, eea, europe, celac, african-union, africa, asia, "
        "americas, oceania, oecd), separated by ';'",
        "africa",
    ),
    Column(
        "organisation",
        False,
        "The organisation running it, when the knowledge graph has it.",
        "an organisation id of the graph",
        "anr",
    ),
    Column("status", False, "Where it stands, as the source says.", _choices(Status), "active"),
    Column("start", False, "When it started.", "YYYY, YYYY-MM or YYYY-MM-DD", "2016"),
    Column(
        "end", False, "When it ended or is planned to end.", "YYYY, YYYY-MM or YYYY-MM-DD", "2025"
    ),
    Column(
        "topics",
        False,
        "Topics of the ICPerMed taxonomy it addresses.",
        "topic ids of the graph (`permedhub atlas template` lists them), separated by ';'",
        "v2030-health-data; ap-translation",
    ),
    Column(
        "capacity",
        False,
        "The capacity level, only where the source gives one.",
        _choices(Capacity),
        "established",
    ),
    Column("website", False, "Its website.", "an http(s) address", "https://pfmg2025.fr"),
    Column(
        "description",
        False,
        "A short description, in your own words.",
        "text, up to 4,000 characters",
        "",
    ),
    Column(
        "source",
        True,
        "The page or report the record was read in.",
        "an http(s) address or a citation",
        "https://pfmg2025.fr/en/",
    ),
    Column(
        "sources",
        False,
        "Fields read on another page than `source`.",
        'a JSON object field -> URL, e.g. {"start": "https://..."}',
        "",
    ),
    Column(
        "uncertain",
        False,
        "Fields the source leaves in doubt.",
        "field names separated by ';', or a JSON object field -> note",
        "capacity",
    ),
    Column("notes", False, "Anything a reader should know.", "text", ""),
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)
JSON_COLUMNS = {"sources"}
