"""Microsimulation documents: a Markov model document plus a top-level ``microsimulation`` block,
simulated patient by patient with :func:`permedhub.hecon.microsim.microsimulate`.

```yaml
name: ...
settings: {...}                 # the Markov document, unchanged
states: [...]
parameters: {marker: 0, p_progress: "0.05 + 0.15 * marker", visits_sick: 0, ...}
...
microsimulation:
  patients: 10000               # number of simulated individuals (required)
  seed: 1                       # random seed (required: same seed => identical results)
  characteristics:              # optional: per-patient values of model parameters
    age0: {distribution: normal, mean: 60, sd: 8}
    marker: {categories: [1, 0], probabilities: [0.3, 0.7]}   # biomarker-positive: 30%
```

Each patient gets one independent draw of every characteristic: a distribution of
:class:`~permedhub.hecon.spec.DistributionSpec` (sampled ``patients`` times; not
``bootstrap``, whose draw is a resample mean) or a categorical :class:`CategoricalSpec`, from
random streams independent of the one that moves patients between states. History-dependent
risks use ``visits_<state>`` parameters as described in :mod:`permedhub.hecon.microsim`.
Results are per-strategy means with their Monte-Carlo standard errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from permedhub.hecon.distributions import make_rng
from permedhub.hecon.errors import HeconError, describe_problems, validation_problems
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.microsim import MicrosimResult, microsimulate
from permedhub.hecon.parameters import compile_parameters
from permedhub.hecon.spec import (
    DistributionSpec,
    ModelSpec,
    dispatch_parameters,
    validate_document,
)


class CategoricalSpec(BaseModel):
    """A per-patient discrete characteristic: ``categories[i]`` with ``probabilities[i]``."""

    model_config = ConfigDict(extra="forbid")

    categories: list[float] = Field(min_length=1)
    probabilities: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _probabilities(self) -> CategoricalSpec:
        p = np.asarray(self.probabilities, dtype=float)
        if len(self.categories) != p.size:
            raise ValueError(
                f"{len(self.categories)} categories but {p.size} probabilities; expected one "
                "probability per category"
            )
        if np.any(p < 0) or not np.all(np.isfinite(p)) or abs(p.sum() - 1) > 1e-9:
            raise ValueError(
                f"probabilities must be >= 0 and sum to 1, got {self.probabilities} "
                f"(sum {p.sum():g})"
            )
        return self


class MicrosimSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patients: int = Field(ge=1, le=10_000_000, description="number of simulated patients")
    seed: int = Field(description="random seed (same seed => identical results)")
    characteristics: dict[str, DistributionSpec | CategoricalSpec] = Field(
        default_factory=dict, description="per-patient parameter values: one draw per patient"
    )

    @field_validator("characteristics", mode="before")
    @classmethod
    def _dispatch(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for name, spec in value.items():
            if isinstance(spec, dict) and "categories" in spec:
                try:
                    out[name] = CategoricalSpec.model_validate(spec)
                except ValidationError as exc:
                    detail = describe_problems(validation_problems(exc, spec), 3, root="")
                    raise HeconError(f"characteristic {name!r}: {detail}") from None
                continue
            if not (isinstance(spec, dict) and "distribution" in spec):
                raise HeconError(
                    f"characteristic {name!r}: expected {{distribution: ...}} or "
                    f"{{categories: [...], probabilities: [...]}}, got {spec!r}"
                )
            if spec["distribution"] == "bootstrap":
                raise HeconError(
                    f"characteristic {name!r}: a bootstrap draw is the mean of a resample, not "
                    "one patient's value; use {categories: [...], probabilities: [...]}"
                )
            out.update(dispatch_parameters({name: spec}))
        return out


class MicrosimModelSpec(ModelSpec):
    """A Markov model document run as an individual-level microsimulation."""

    microsimulation: MicrosimSpec


def is_microsim_document(data: Any) -> bool:
    return isinstance(data, dict) and "microsimulation" in data


def load_microsim_model(source: str | Path | dict[str, Any]) -> MicrosimModelSpec:
    """Load and validate a microsimulation document from a YAML/JSON file or a dict."""
    return validate_document(MicrosimModelSpec, source, "microsimulation document")


def patient_characteristics(spec: MicrosimModelSpec) -> dict[str, np.ndarray]:
    """One draw per patient of every characteristic, from streams independent of the
    simulation's: SeedSequence([seed, 1]) for distributions and SeedSequence([seed, 2]) for
    categorical characteristics (the simulation uses SeedSequence(seed))."""
    micro = spec.microsimulation
    distributions = {
        k: v for k, v in micro.characteristics.items() if isinstance(v, DistributionSpec)
    }
    out: dict[str, np.ndarray] = {}
    if distributions:
        seed = int(np.random.SeedSequence([micro.seed, 1]).generate_state(1)[0])
        out.update(compile_parameters(distributions).sample(micro.patients, seed))
    rng = make_rng(np.random.SeedSequence([micro.seed, 2]))
    for name, cat in micro.characteristics.items():
        if isinstance(cat, CategoricalSpec):
            values = np.asarray(cat.categories, dtype=float)
            out[name] = values[rng.choice(values.size, size=micro.patients, p=cat.probabilities)]
    return out


def run_microsimulation(spec: MicrosimModelSpec) -> MicrosimResult:
    """Simulate the document's patients through every strategy."""
    model = MarkovModel(spec)
    micro = spec.microsimulation
    return microsimulate(model, micro.patients, micro.seed, patient_characteristics(spec))
