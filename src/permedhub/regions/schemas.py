"""Pydantic schemas at regions/' boundaries: the seed files (profiles, events), readiness
weights and event registrations. Records share the graph's conventions (graph/schemas.Record):
`source`, `sources` per field, `uncertain` and `approximate` marks."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from permedhub.graph.schemas import Record, StableId, country_code

# The Regional Innovation Scoreboard's four performance groups (RIS 2021 and 2023).
RisGroup = Literal[
    "innovation-leader", "strong-innovator", "moderate-innovator", "emerging-innovator"
]
RIS_GROUPS: tuple[str, ...] = RisGroup.__args__  # type: ignore[attr-defined]
EventKind = Literal["workshop", "interregional-workshop", "webinar", "conference"]


def _subdivision(value: object) -> str:
    code = country_code(value)
    if code is None or "-" not in code:
        raise ValueError(f"{value!r} is not a region: expected an ISO 3166-2 code such as IT-52")
    return code


Subdivision = Annotated[str, BeforeValidator(_subdivision)]


class ProfileIn(Record):
    """A region's profile (regions/seed/profiles.yaml)."""

    code: Subdivision
    nuts_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}[A-Z0-9]{0,3}$")
    ris_group: RisGroup | None = None
    ris_edition: int | None = Field(default=None, ge=2009, le=2100)
    population: int | None = Field(default=None, gt=0)
    population_year: int | None = Field(default=None, ge=1900, le=2100)
    area_km2: float | None = Field(default=None, gt=0)
    stated_density: float | None = Field(default=None, gt=0)
    notes: str | None = None

    @model_validator(mode="after")
    def _group_has_its_source(self) -> ProfileIn:
        for name in ("ris_group", "population", "area_km2", "stated_density"):
            if getattr(self, name) is not None and not (self.sources.get(name) or self.source):
                raise ValueError(f"{name} is given without a source: cite the page it was read on")
        return self


class EventIn(Record, StableId):
    """A family event (regions/seed/events.yaml, or a curator's new event)."""

    title: str = Field(min_length=3, max_length=400)
    kind: EventKind
    initiative: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    city: str | None = Field(default=None, max_length=120)
    venue: str | None = Field(default=None, max_length=300)
    online: bool = False
    regions: list[Subdivision] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    agenda: list[str] = Field(default_factory=list)
    outcomes: str | None = None
    summary: str | None = None
    notes: str | None = None
    registration_open: bool = False

    @model_validator(mode="after")
    def _end_after_start(self) -> EventIn:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(
                f"end_date {self.end_date} is before start_date {self.start_date}: expected an "
                "end on or after the start"
            )
        return self


class SeedDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profiles: list[ProfileIn] = Field(default_factory=list)
    events: list[EventIn] = Field(default_factory=list)


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONSENT_TEXT = (
    "I agree that the organisers store my name, e-mail address, organisation and region to "
    "manage my registration and attendance for this event. Only the portal's curators see them; "
    "I can have them deleted at any time."
)


class RegistrationIn(BaseModel):
    """A registration as a person submits it; consent must be given explicitly."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254)
    organisation: str | None = Field(default=None, max_length=300)
    region: Subdivision | None = None
    consent: bool

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address: expected name@domain.tld")
        return value

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "consent is false: a registration is stored only with the person's consent "
                "to the notice shown (regions.schemas.CONSENT_TEXT)"
            )
        return value

    @field_validator("region", mode="before")
    @classmethod
    def _empty_region(cls, value: object) -> object:
        return None if value == "" else value
