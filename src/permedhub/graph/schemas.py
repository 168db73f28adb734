"""Pydantic schemas of the records a file may hold: the one gate every import passes through.

A value may be written plainly (`start: 2020-01`) or as a fact with its doubts
(`start: {value: 2018-11, uncertain: true, note: "inferred from a reporting period"}`); the latter
is lifted into the plain value plus an entry in `uncertain` (field -> note) so that nothing marked
uncertain in a source loses its mark. A field read on another page than the record's `source`
names that page in `sources` (field -> citation), written as `sources: {city: "https://..."}` or
as a fact (`city: {value: Siena, source: "https://..."}`). Dates may be a year, a month or a
day; an end date is stored as the last day of its period and the precision is kept.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from permedhub.graph import gazetteer
from permedhub.graph.geography import known_codes, normalise_country_code

InitiativeKind = Literal[
    "consortium", "era-net-cofund", "csa", "partnership", "infrastructure", "project"
]
OrganisationKind = Literal[
    "funder",
    "ministry",
    "university",
    "research-institute",
    "hospital",
    "agency",
    "regulator",
    "ethics-committee",
    "company",
    "ngo",
    "infrastructure",
    "regional-government",
    "intergovernmental",
]
Role = Literal["coordinator", "partner", "associated", "funder", "observer", "member"]
LinkKind = Literal["supports", "cofunds", "member-of", "successor-of", "collaborates-with"]
TopicKind = Literal["document", "challenge-area", "perspective", "pillar", "research-area"]
Precision = Literal["year", "month", "day"]

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
FACT_KEYS = {"value", "uncertain", "note", "approx", "source"}


def _strip(value: Any) -> Any:
    return value.strip() or None if isinstance(value, str) else value


Text = Annotated[str | None, BeforeValidator(_strip)]

# Schemes a browser would run or read locally if a record's text became a link; browsers
# ignore tabs and newlines inside a scheme, so they are dropped before comparing.
SCRIPT_SCHEMES = re.compile(r"^(javascript|vbscript|data|file|blob):", re.IGNORECASE)


def _web_address(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError("expected an http(s) address such as https://example.org")
    return value


def _citation(value: str | None) -> str | None:
    if value is not None and SCRIPT_SCHEMES.match(re.sub(r"[\t\n\r ]", "", value)):
        raise ValueError("expected a citation or an http(s) address, not a script or data link")
    return value


WebAddress = Annotated[str | None, BeforeValidator(_strip), AfterValidator(_web_address)]
Citation = Annotated[str | None, BeforeValidator(_strip), AfterValidator(_citation)]
Money = Annotated[float | None, Field(ge=0, description="EUR, not negative")]


class PartialDate(BaseModel):
    """A date known to the year, the month or the day."""

    model_config = ConfigDict(frozen=True)
    year: int = Field(ge=1900, le=2200)
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)

    @property
    def precision(self) -> Precision:
        return "day" if self.day else "month" if self.month else "year"

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> dt.date:
        return _last_day(self.year, self.month, self.day)


@functools.lru_cache(maxsize=65536)
def _last_day(year: int, month: int | None, day: int | None) -> dt.date:
    # Cached: a bulk file asks for the same few thousand month ends a million times.
    if day:
        return dt.date(year, month or 1, day)
    month = month or 12
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_partial_date(value: Any) -> PartialDate | None:
    """`2020`, `2020-01` or `2020-01-15` (also a date object); None/"" stays unknown."""
    if value is None or value == "":
        return None
    if isinstance(value, PartialDate):
        return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return PartialDate(year=value.year, month=value.month, day=value.day)
    return _parse_date_text(str(value).strip())


@functools.lru_cache(maxsize=65536)
def _parse_date_text(text: str) -> PartialDate:
    # Bulk files repeat the same few thousand dates; PartialDate is frozen, so sharing is safe.
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text)
    if not match:
        raise ValueError(f"expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}")
    year, month, day = (int(g) if g else None for g in match.groups())
    if day is not None:
        dt.date(year or 0, month or 1, day)  # raises ValueError for 2021-02-30
    return PartialDate(year=year or 0, month=month, day=day)


DateField = Annotated[PartialDate | None, BeforeValidator(parse_partial_date)]


def country_code(value: Any) -> str | None:
    """An ISO 3166 country or subdivision code, normalised; unknown codes are refused."""
    if value is None or value == "":
        return None
    code = normalise_country_code(str(value))
    if code not in known_codes():
        raise ValueError(
            f"unknown country code {value!r}: expected an ISO 3166-1 alpha-2/alpha-3 code "
            "or an ISO 3166-2 subdivision code"
        )
    return code


CountryCode = Annotated[str | None, BeforeValidator(country_code)]


class Record(BaseModel):
    """Fields every record shares: a stable id, its source and the marks on its values."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: Citation = None
    sources: dict[str, Annotated[str, BeforeValidator(_strip), AfterValidator(_citation)]] = Field(
        default_factory=dict
    )
    uncertain: dict[str, str] = Field(default_factory=dict)
    approximate: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _lift_facts(cls, data: Any) -> Any:
        """Turn `{value, uncertain, note, approx, source}` facts into plain values plus marks."""
        if not isinstance(data, dict):
            return data
        if not ("uncertain" in data or "approximate" in data) and dict not in map(
            type, data.values()
        ):
            return data  # the common case in bulk files: nothing to lift
        data = dict(data)
        uncertain = _uncertain_mapping(data.get("uncertain"))
        approximate = _uncertain_mapping(data.get("approximate"))
        # Anything but a mapping is left for the field's own validation to refuse by name.
        sources = dict(data["sources"]) if isinstance(data.get("sources"), dict) else {}
        for key, value in list(data.items()):
            if isinstance(value, dict) and "value" in value and set(value) <= FACT_KEYS:
                data[key] = value.get("value")
                if value.get("source"):
                    sources[key] = value["source"]
                note = str(value.get("note") or "")
                if value.get("uncertain"):
                    uncertain[key] = note
                if value.get("approx"):
                    approximate[key] = "" if value.get("uncertain") else note
                if note and not (value.get("uncertain") or value.get("approx")):
                    raise ValueError(
                        f"{key}: a note needs `uncertain: true` or `approx: true` to say what it "
                        "qualifies"
                    )
        data["uncertain"] = uncertain
        data["approximate"] = approximate
        if sources or "sources" not in data:
            data["sources"] = sources
        return data

    @field_validator("sources")
    @classmethod
    def _sources_name_fields(cls, sources: dict[str, str]) -> dict[str, str]:
        fields = set(cls.__pydantic_fields__) - {"source", "sources", "uncertain", "approximate"}
        for name in sources:
            if name not in fields:
                raise ValueError(
                    f"it names field {name!r}, which this record does not have (expected one of "
                    f"{', '.join(sorted(fields))})"
                )
        return sources

    @model_validator(mode="after")
    def _marks_name_fields(self) -> Record:
        if not (self.uncertain or self.approximate):
            return self
        fields = type(self).__pydantic_fields__
        for name in [*self.uncertain, *self.approximate]:
            if name not in fields and name != "record":
                raise ValueError(
                    f"uncertain/approximate marks field {name!r}, which this record does not have"
                )
        return self


def _uncertain_mapping(value: Any) -> dict[str, str]:
    """`uncertain:` may be `true` (the whole record), a list of fields, or field -> note."""
    if value in (None, False, ""):
        return {}
    if value is True:
        return {"record": ""}
    if isinstance(value, str):
        return {name.strip(): "" for name in value.split(";") if name.strip()}
    if isinstance(value, list):
        return {str(name): "" for name in value}
    if isinstance(value, dict):
        return {str(k): "" if v in (None, True) else str(v) for k, v in value.items()}
    raise ValueError("expected true, a list of field names or a mapping field -> note")


class StableId(BaseModel):
    id: str = Field(min_length=1, max_length=120)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(
                f"id {value!r} must be a slug: lower-case letters, digits, '.', '_' or '-'"
            )
        return value


class OrganisationIn(Record, StableId):
    name: str = Field(min_length=1, max_length=400)
    acronym: Text = None
    kind: OrganisationKind | None = None
    country: CountryCode = None
    subdivision: CountryCode = None
    city: Text = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    website: WebAddress = None
    ror_id: Text = None
    expertise: list[str] = Field(default_factory=list)
    notes: Text = None
    synthetic: bool = False

    @model_validator(mode="after")
    def _subdivision_in_country(self) -> OrganisationIn:
        if self.subdivision:
            parent = self.subdivision.split("-")[0]
            if "-" not in self.subdivision:
                raise ValueError(
                    f"subdivision {self.subdivision!r} is a country; expected an ISO 3166-2 code"
                )
            if self.country and parent != self.country:
                raise ValueError(
                    f"subdivision {self.subdivision!r} is not in country {self.country!r}"
                )
            if not self.country:
                self.country = parent
        return self

    @model_validator(mode="after")
    def _coordinates_from_the_city(self) -> OrganisationIn:
        """No coordinates of its own: the city's, from the gazetteer, marked approximate and
        sourced, so that maps place the organisation and readers see where it came from."""
        derived = self.sources.get("latitude") == gazetteer.GAZETTEER
        if not derived and (self.latitude is not None or self.longitude is not None):
            return self  # its own coordinates
        # Derived ones follow the city: an edited city moves them, an unknown one clears them.
        place = (
            gazetteer.locate(self.city, self.country[:2]) if self.city and self.country else None
        )
        if place is None:
            if derived:
                self.latitude = self.longitude = None
                for name in ("latitude", "longitude"):
                    self.sources.pop(name, None)
                    self.approximate.pop(name, None)
            return self
        note = f"the centre of {place.name}, not the organisation's own address"
        if place.namesakes:
            note += f" (the most populous of {place.namesakes + 1} places of that name)"
        self.latitude, self.longitude = place.latitude, place.longitude
        for name in ("latitude", "longitude"):
            self.sources[name] = gazetteer.GAZETTEER
            self.approximate[name] = note
        return self


class InitiativeIn(Record, StableId):
    name: str = Field(min_length=1, max_length=400)
    acronym: Text = None
    kind: InitiativeKind
    programme: Text = None
    grant_id: Text = None
    call_topic: Text = None
    eu_contribution_eur: Money = None
    total_budget_eur: Money = None
    start: DateField = None
    end: DateField = None
    website: WebAddress = None
    summary: Text = None
    aims: list[str] = Field(default_factory=list)
    countries: list[Annotated[str, BeforeValidator(country_code)]] = Field(default_factory=list)
    target_regions: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    synthetic: bool = False

    @field_validator("grant_id", mode="before")
    @classmethod
    def _grant_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _end_after_start(self) -> InitiativeIn:
        if self.start and self.end and self.end.last_day() < self.start.first_day():
            raise ValueError(
                f"end {self.end.last_day().isoformat()} is before start "
                f"{self.start.first_day().isoformat()}"
            )
        return self


class ParticipationIn(Record):
    id: str | None = None
    organisation: str = Field(min_length=1)
    initiative: str = Field(min_length=1)
    role: Role
    start: DateField = None
    end: DateField = None

    @model_validator(mode="after")
    def _stable_id(self) -> ParticipationIn:
        if not self.id:
            # Not `self.id = ...`: BaseModel.__setattr__ cost a fifth of a bulk load's validation.
            self.__dict__["id"] = f"{self.initiative}:{self.organisation}:{self.role}"
        if self.start and self.end and self.end.last_day() < self.start.first_day():
            raise ValueError("end is before start")
        return self


class LinkIn(Record):
    id: str | None = None
    from_initiative: str = Field(min_length=1, alias="from")
    to_initiative: str = Field(min_length=1, alias="to")
    kind: LinkKind

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _stable_id(self) -> LinkIn:
        if self.from_initiative == self.to_initiative:
            raise ValueError("an initiative cannot link to itself")
        if not self.id:
            self.id = f"{self.from_initiative}:{self.kind}:{self.to_initiative}"
        return self


class TopicIn(Record, StableId):
    name: str = Field(min_length=1)
    kind: TopicKind
    parent: str | None = None
    position: int = 0


class CallIn(Record, StableId):
    initiative: str = Field(min_length=1)
    title: str = Field(min_length=1)
    year: int | None = Field(default=None, ge=1990, le=2200)
    ec_cofunded: bool | None = None
    funders_count: int | None = Field(default=None, ge=0)
    budget_eur: Money = None
    opening: DateField = None
    pre_proposal_deadline: DateField = None
    full_proposal_deadline: DateField = None
    secretariat: str | None = None
    procedure: Text = None
    funders: list[str] = Field(default_factory=list)
    countries: list[Annotated[str, BeforeValidator(country_code)]] = Field(default_factory=list)
    rules: dict[str, Any] = Field(default_factory=dict)
    proposals_submitted: int | None = Field(default=None, ge=0)
    projects_funded: int | None = Field(default=None, ge=0)


class GraphDocument(BaseModel):
    """A YAML/JSON file: any of these lists, in any combination."""

    model_config = ConfigDict(extra="forbid")
    meta: dict[str, Any] = Field(default_factory=dict)
    topics: list[dict[str, Any]] = Field(default_factory=list)
    organisations: list[dict[str, Any]] = Field(default_factory=list)
    initiatives: list[dict[str, Any]] = Field(default_factory=list)
    links: list[dict[str, Any]] = Field(default_factory=list)
    participations: list[dict[str, Any]] = Field(default_factory=list)
    calls: list[dict[str, Any]] = Field(default_factory=list)


SCHEMAS: dict[str, type[Record]] = {
    "topics": TopicIn,
    "organisations": OrganisationIn,
    "initiatives": InitiativeIn,
    "links": LinkIn,
    "participations": ParticipationIn,
    "calls": CallIn,
}
# Referenced things load first, so one file may hold an organisation and its participations.
LOAD_ORDER = ("topics", "organisations", "initiatives", "links", "participations", "calls")
