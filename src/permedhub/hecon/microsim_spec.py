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
    marker: {distribution: bootstrap, data: {marker: [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]},
             outputs: [marker]}  # resampling a 0/1 column: biomarker-positive with p = 0.3
```

Each patient gets one independent draw of every characteristic (the PSA distributions of
:class:`~permedhub.hecon.spec.DistributionSpec`, sampled ``patients`` times), drawn from a
random stream independent of the one that moves patients between states. History-dependent
risks use ``visits_<state>`` parameters as described in :mod:`permedhub.hecon.microsim`.
Results are per-strategy means with their Monte-Carlo standard errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from permedhub.hecon.errors import HeconError, UnknownNameError
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.microsim import MicrosimResult, microsimulate
from permedhub.hecon.parameters import compile_parameters
from permedhub.hecon.spec import DistributionSpec, ModelSpec, dispatch_parameters


class MicrosimSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patients: int = Field(ge=1, le=10_000_000, description="number of simulated patients")
    seed: int = Field(description="random seed (same seed => identical results)")
    characteristics: dict[str, DistributionSpec] = Field(
        default_factory=dict, description="per-patient parameter values: one draw per patient"
    )

    @field_validator("characteristics", mode="before")
    @classmethod
    def _distributions_only(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name, spec in value.items():
                if not (isinstance(spec, dict) and "distribution" in spec):
                    raise ValueError(
                        f"characteristic {name!r}: expected a distribution mapping "
                        f"({{distribution: ...}}), got {spec!r}"
                    )
        return dispatch_parameters(value)


class MicrosimModelSpec(ModelSpec):
    """A Markov model document run as an individual-level microsimulation."""

    microsimulation: MicrosimSpec


def is_microsim_document(data: Any) -> bool:
    return isinstance(data, dict) and "microsimulation" in data


def load_microsim_model(source: str | Path | dict[str, Any]) -> MicrosimModelSpec:
    """Load and validate a microsimulation document from a YAML/JSON file or a dict."""
    base: Path | None = None
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise HeconError(f"model file {str(path)!r} not found")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise HeconError(f"model file {str(path)!r} is not valid YAML/JSON: {exc}") from exc
        base = path.resolve().parent
    try:
        spec = MicrosimModelSpec.model_validate(data)
    except ValidationError as exc:
        msgs = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:8]
        )
        kind = UnknownNameError if "unknown state" in msgs else HeconError
        raise kind(f"invalid microsimulation document: {msgs}") from exc
    spec.base_dir = base
    return spec


def patient_characteristics(spec: MicrosimModelSpec) -> dict[str, np.ndarray]:
    """One draw per patient of every characteristic, from a stream independent of the
    simulation's (SeedSequence([seed, 1]) rather than SeedSequence(seed))."""
    micro = spec.microsimulation
    if not micro.characteristics:
        return {}
    compiled = compile_parameters(micro.characteristics)
    seed = int(np.random.SeedSequence([micro.seed, 1]).generate_state(1)[0])
    return compiled.sample(micro.patients, seed)


def run_microsimulation(spec: MicrosimModelSpec) -> MicrosimResult:
    """Simulate the document's patients through every strategy."""
    model = MarkovModel(spec)
    micro = spec.microsimulation
    return microsimulate(model, micro.patients, micro.seed, patient_characteristics(spec))
