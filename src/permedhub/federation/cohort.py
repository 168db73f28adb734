"""A cohort definition: the JSON a researcher writes and the hub sends to every node.

```json
{"name": "T2DM on metformin, HbA1c >= 7, 40-70",
 "reference_date": "2024-01-01",
 "sex": ["female", "male"],
 "age": {"min": 40, "max": 70},
 "observation": {"from": "2020-01-01", "to": "2023-12-31"},
 "inclusion": [
   {"domain": "condition", "concept_ids": [201826]},
   {"domain": "drug", "concept_ids": [1503297], "start": "2015-01-01"},
   {"domain": "measurement", "concept_ids": [3004410], "value": {"min": 7.0}}],
 "exclusion": [{"domain": "condition", "concept_ids": [46271022]}],
 "breakdown": ["sex", "age_band"]}
```

Meaning: a person is in the cohort when every inclusion criterion holds and no exclusion
criterion does. A criterion holds when the person has at least one record of the domain with
one of the concept ids (standard OMOP concepts; descendants are not expanded), dated within
[start, end] when given, and for measurements with `value_as_number` within [min, max]
(inclusive). Age is in whole years at `reference_date` from the year of birth (month and day
of birth are not used); `age.min`/`age.max` are inclusive. `observation` keeps people with one
observation period covering the whole [from, to]. `breakdown` asks for counts by sex and/or
10-year age band at `reference_date` (bands 0-9 ... 80-89, 90+).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAX_CRITERIA = 20
MAX_CONCEPTS = 100


@dataclass(frozen=True)
class Problem:
    field: str
    value: Any
    expected: str

    def __str__(self) -> str:
        return f"{self.field} (value {self.value!r}): {self.expected}"


class CohortError(ValueError):
    """A cohort that cannot be run, with every problem found (field, value, expectation)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueRange(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ValueRange:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Criterion(_Strict):
    domain: Literal["condition", "drug", "measurement"]
    concept_ids: list[int] = Field(min_length=1, max_length=MAX_CONCEPTS)
    start: date | None = None
    end: date | None = None
    value: ValueRange | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Criterion:
        if self.value is not None and self.domain != "measurement":
            raise ValueError(f"a value range applies to measurements, not to {self.domain}")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class AgeRange(_Strict):
    min: int = Field(default=0, ge=0, le=130)
    max: int = Field(default=130, ge=0, le=130)

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class ObservationWindow(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> ObservationWindow:
        if self.from_ > self.to:
            raise ValueError(f"from {self.from_} is after to {self.to}")
        return self


class Cohort(_Strict):
    name: str = Field(min_length=1, max_length=200)
    reference_date: date
    sex: list[Literal["female", "male"]] | None = Field(default=None, min_length=1)
    age: AgeRange | None = None
    observation: ObservationWindow | None = None
    inclusion: list[Criterion] = Field(default_factory=list, max_length=MAX_CRITERIA)
    exclusion: list[Criterion] = Field(default_factory=list, max_length=MAX_CRITERIA)
    breakdown: list[Literal["sex", "age_band"]] = Field(default_factory=list, max_length=2)

    @model_validator(mode="after")
    def _distinct_breakdown(self) -> Cohort:
        if len(set(self.breakdown)) != len(self.breakdown):
            raise ValueError(f"breakdown {self.breakdown} names a variable twice")
        return self

    def fingerprint(self) -> str:
        """Same population definition -> same fingerprint (the name and the order of
        concept ids and criteria do not matter; the breakdown does)."""
        data = self.model_dump(mode="json", by_alias=True, exclude={"name"})
        for key in ("inclusion", "exclusion"):
            for criterion in data[key]:
                criterion["concept_ids"] = sorted(set(criterion["concept_ids"]))
            data[key] = sorted(data[key], key=lambda c: json.dumps(c, sort_keys=True))
        if data["sex"]:
            data["sex"] = sorted(set(data["sex"]))
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _location(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "cohort"


def problems_of(error: ValidationError) -> list[Problem]:
    return [
        Problem(_location(tuple(e["loc"])), e.get("input"), e["msg"].removeprefix("Value error, "))
        for e in error.errors()
    ]


def parse_cohort(data: str | bytes | dict[str, Any]) -> Cohort:
    """A validated cohort from JSON text or a decoded object; CohortError lists every problem."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise CohortError(
                [
                    Problem(
                        f"JSON line {exc.lineno} column {exc.colno}",
                        exc.doc[exc.pos : exc.pos + 20],
                        f"valid JSON ({exc.msg})",
                    )
                ]
            ) from None
    if not isinstance(data, dict):
        raise CohortError([Problem("cohort", data, "a JSON object")])
    try:
        return Cohort.model_validate(data)
    except ValidationError as exc:
        raise CohortError(problems_of(exc)) from None
