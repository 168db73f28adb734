"""Pydantic schemas of the helpdesk's knowledge base: the gate every helpdesk file passes through.

Four kinds of record, each a sourced fact about a jurisdiction (an ISO 3166-1 country, or `EU`
for the Union as a whole):
- `bodies`: who regulates medicines and devices, oversees ethics review and protects data;
- `rules`: clinical-trial rules (approval pathway, ethics review, statutory timelines, ...);
- `funding`: research funders and programmes;
- `faq`: questions with their answers, in English, Spanish or Portuguese.

Every record has a `source` (the URL or legal reference it was read in) and a `verified_on`
date (the day someone last read the fact in that source). A body or funder that the knowledge
graph already holds is named by its organisation id (`organisation: fwf`), not copied.
Records share the graph's conventions (graph/schemas.Record): `sources` per field,
`{value, uncertain, note}` facts and `uncertain` marks.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from permedhub.graph.schemas import Citation, Record, StableId, WebAddress, country_code

EU = "EU"
Role = Literal["medicines-regulator", "device-regulator", "ethics-oversight", "data-protection"]
Aspect = Literal[
    "approval-pathway",
    "ethics-review",
    "timeline",
    "submission-language",
    "insurance",
    "data-protection-law",
    "sample-transfer",
    "fees",
]
# What an FAQ entry may be about: the rules' aspects, plus who regulates and who funds.
Topic = Literal[
    "approval-pathway",
    "ethics-review",
    "timeline",
    "submission-language",
    "insurance",
    "data-protection-law",
    "sample-transfer",
    "fees",
    "regulators",
    "funding",
]
FundingKind = Literal["agency", "programme"]
Language = Literal["en", "es", "pt"]  # the languages the helpdesk answers in (issue 13)

# C0 controls other than tab, newline and carriage return: PostgreSQL refuses NUL in text, and
# none of them belongs in a fact a person reads.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _jurisdiction(value: Any) -> Any:
    if isinstance(value, str) and value.strip().upper() == EU:
        return EU
    expected = "expected an ISO 3166-1 country code (such as AR or DEU) or EU"
    try:
        code = country_code(value)
    except ValueError:
        raise ValueError(f"unknown jurisdiction {value!r}: {expected}") from None
    if code is None or "-" in code:
        raise ValueError(f"{value!r} is not a country: {expected}")
    return code


def _printable(value: str | None) -> str | None:
    if value is not None and (bad := CONTROL_CHARACTERS.search(value)):
        raise ValueError(
            f"control character {bad.group()!r} at position {bad.start()}: expected printable "
            "text (tabs and line breaks are fine)"
        )
    return value


def _strip(value: Any) -> Any:
    return value.strip() or None if isinstance(value, str) else value


def _required_source(value: str | None) -> str:
    if not value:
        raise ValueError("required: the URL or legal reference the fact was read in")
    return value


def _full_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a day of the calendar ({exc})") from None
    raise ValueError(f"expected the day the fact was read, as YYYY-MM-DD, got {value!r}")


def _not_in_future(value: dt.date) -> dt.date:
    if value > dt.date.today():
        raise ValueError(f"{value.isoformat()} is in the future: expected the day it was read")
    return value


Jurisdiction = Annotated[str, BeforeValidator(_jurisdiction)]
# Checked even when absent (validate_default), so that a missing source is named as such.
RequiredSource = Annotated[
    Citation, AfterValidator(_required_source), Field(default=None, validate_default=True)
]
SafeText = Annotated[str | None, BeforeValidator(_strip), AfterValidator(_printable)]
Statement = Annotated[
    str, BeforeValidator(_strip), AfterValidator(_printable), Field(min_length=1, max_length=2000)
]
VerifiedOn = Annotated[dt.date, BeforeValidator(_full_date), AfterValidator(_not_in_future)]
OrganisationId = Annotated[str | None, BeforeValidator(_strip)]


class Fact(Record, StableId):
    """What every helpdesk record has: a stable id, a jurisdiction, a source and the day the
    fact was read there."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    jurisdiction: Jurisdiction
    source: RequiredSource
    verified_on: VerifiedOn
    notes: SafeText = None


def _linked_not_copied(record: Any, copied: tuple[str, ...], what: str) -> None:
    """A record naming a graph organisation takes its name from there; one that does not must
    say its own name."""
    if record.organisation:
        given = [name for name in copied if getattr(record, name)]
        if given:
            raise ValueError(
                f"{', '.join(given)}: leave empty when `organisation` is given: the "
                f"{what} is the graph organisation {record.organisation!r} (link, don't copy)"
            )
    elif not record.name:
        raise ValueError("name: required unless `organisation` names the graph organisation it is")


class BodyIn(Fact):
    """A regulatory body of a jurisdiction in one role (a body with two roles is two records)."""

    role: Role
    organisation: OrganisationId = None
    name: SafeText = Field(default=None, max_length=400)
    acronym: SafeText = Field(default=None, max_length=80)
    website: WebAddress = None

    @model_validator(mode="after")
    def _named_once(self) -> BodyIn:
        _linked_not_copied(self, ("name", "acronym"), "body")
        return self


class RuleIn(Fact):
    """One clinical-trial rule: a short statement of one aspect, with its legal reference and,
    for a statutory timeline, its number of days."""

    aspect: Aspect
    statement: Statement
    legal_reference: SafeText = Field(default=None, max_length=400)
    days: int | None = Field(default=None, ge=0, le=3650)
    day_kind: Literal["calendar", "working"] | None = None

    @model_validator(mode="after")
    def _days_belong_to_timelines(self) -> RuleIn:
        if self.days is not None and self.aspect != "timeline":
            raise ValueError(f"days: only a `timeline` rule has days, not {self.aspect!r}")
        if self.days is not None and self.day_kind is None:
            self.day_kind = "calendar"
        if self.day_kind is not None and self.days is None:
            raise ValueError("day_kind: given without days")
        return self


class FundingIn(Fact):
    """A research funder (`agency`) or one of its programmes (`programme`, with its own name;
    `organisation` then names the funder running it, where the graph has it)."""

    kind: FundingKind
    organisation: OrganisationId = None
    name: SafeText = Field(default=None, max_length=400)
    acronym: SafeText = Field(default=None, max_length=80)
    website: WebAddress = None
    description: SafeText = Field(default=None, max_length=2000)
    funds_trials: bool | None = None

    @model_validator(mode="after")
    def _named_once(self) -> FundingIn:
        if self.kind == "agency":
            _linked_not_copied(self, ("name", "acronym"), "funder")
        elif not self.name:
            raise ValueError("name: required for a programme (its own name)")
        return self


class FaqIn(Record, StableId):
    """A question and its answer, as text in one language, about some jurisdictions."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: Statement
    answer: Statement
    language: Language
    jurisdictions: list[Jurisdiction] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    source: RequiredSource
    verified_on: VerifiedOn


class HelpdeskDocument(BaseModel):
    """A helpdesk YAML/JSON file: any of these lists, in any combination."""

    model_config = ConfigDict(extra="forbid")
    meta: dict[str, Any] = Field(default_factory=dict)
    bodies: list[dict[str, Any]] = Field(default_factory=list)
    rules: list[dict[str, Any]] = Field(default_factory=list)
    funding: list[dict[str, Any]] = Field(default_factory=list)
    faq: list[dict[str, Any]] = Field(default_factory=list)


SCHEMAS: dict[str, type[Record]] = {
    "bodies": BodyIn,
    "rules": RuleIn,
    "funding": FundingIn,
    "faq": FaqIn,
}
SECTIONS = tuple(SCHEMAS)
