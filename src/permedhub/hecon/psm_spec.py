"""Partitioned survival model documents (YAML/JSON), evaluated with :mod:`permedhub.hecon.psm`.

```yaml
name: ...
settings: {...}                 # as in Markov documents: counting and discounting required
parameters: {...}               # as in Markov documents (numbers, expressions, distributions)
partitioned_survival:
  state_costs: {drug: {progression_free: c_drug}, care: {progressed: c_pd}}  # per cycle
  state_utilities: {progression_free: u_pf, progressed: u_pd}                # per year
  initial_costs: {test: c_test}                                              # at time 0
  strategies:
    chemo:
      pfs: {distribution: weibull, shape: pfs_shape, scale: pfs_scale}
      os: {distribution: weibull, shape: os_shape, scale: os_scale}
    targeted:
      parameters: {hr: 0.7}     # strategy-specific parameter values/expressions
      pfs: {distribution: exponential, rate: "hr * pfs_rate"}
      os: {...}
      state_costs: {...}        # overrides the shared block (as in Markov strategies)
```

States are ``progression_free``, ``progressed`` and ``dead``. Survival curves use the
parameterisations of :mod:`permedhub.hecon.survival` (R ``flexsurv``); each curve parameter is a
number or an expression of the model's parameters, so PSA distributions flow through it. Curve
parameters, costs and utilities are constant over model time: expressions may not use
``model_time``/``state_time``. A PFS curve above OS is clamped to OS with a
:class:`~permedhub.hecon.psm.CurveCrossingWarning`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from permedhub.hecon.errors import HeconError, Location, UnknownNameError
from permedhub.hecon.expressions import Expression, parse_expression
from permedhub.hecon.parameters import ParameterEvaluator, check_names, compile_parameters
from permedhub.hecon.psm import PSM_STATES, PSMResult, PSMStrategy, partitioned_survival
from permedhub.hecon.spec import (
    Expr,
    ParameterSpec,
    Settings,
    dispatch_parameters,
    validate_document,
)
from permedhub.hecon.survival import Survival

CURVE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "exponential": ("rate",),
    "weibull": ("shape", "scale"),
    "gompertz": ("shape", "rate"),
    "loglogistic": ("shape", "scale"),
    "lognormal": ("meanlog", "sdlog"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CurveSpec(_Strict):
    """A parametric survival curve; give exactly the parameters its distribution needs."""

    distribution: Literal["exponential", "weibull", "gompertz", "loglogistic", "lognormal"]
    rate: Expr | None = None
    shape: Expr | None = None
    scale: Expr | None = None
    meanlog: Expr | None = None
    sdlog: Expr | None = None

    @model_validator(mode="after")
    def _parameters_match(self) -> CurveSpec:
        needed = set(CURVE_PARAMETERS[self.distribution])
        given = {
            k
            for k in ("rate", "shape", "scale", "meanlog", "sdlog")
            if getattr(self, k) is not None
        }
        if given != needed:
            raise ValueError(
                f"{self.distribution} needs parameters {sorted(needed)}, got {sorted(given)}"
            )
        return self

    def parameters(self) -> dict[str, Expr]:
        return {k: getattr(self, k) for k in CURVE_PARAMETERS[self.distribution]}


def _check_states(location: Location, names: Any) -> None:
    for n in names:
        if n not in PSM_STATES:
            raise UnknownNameError(
                f"unknown state {n!r}; states are {', '.join(PSM_STATES)}",
                location=(*location, n),
            )


class PSMStrategySpec(_Strict):
    description: str = ""
    parameters: dict[str, float | int | str] = Field(
        default_factory=dict, description="strategy-specific parameter values/expressions"
    )
    pfs: CurveSpec
    os: CurveSpec
    state_costs: dict[str, dict[str, Expr]] | None = None
    state_utilities: dict[str, Expr] | None = None
    initial_costs: dict[str, Expr] | None = None


class PSMStructureSpec(_Strict):
    strategies: dict[str, PSMStrategySpec] = Field(min_length=1)
    state_costs: dict[str, dict[str, Expr]] = Field(
        default_factory=dict, description="{category: {state: expression}} per cycle in state"
    )
    state_utilities: dict[str, Expr] = Field(default_factory=dict, description="per year")
    initial_costs: dict[str, Expr] = Field(
        default_factory=dict, description="{category: cost} at time 0, not discounted"
    )

    @model_validator(mode="after")
    def _known_states(self) -> PSMStructureSpec:
        for cat, per_state in self.state_costs.items():
            _check_states(("state_costs", cat), per_state)
        _check_states(("state_utilities",), self.state_utilities)
        for name, strat in self.strategies.items():
            for cat, per_state in (strat.state_costs or {}).items():
                _check_states(("strategies", name, "state_costs", cat), per_state)
            _check_states(("strategies", name, "state_utilities"), strat.state_utilities or {})
        return self


class PSMModelSpec(_Strict):
    """A complete partitioned survival model document (top-level key ``partitioned_survival``)."""

    name: str
    description: str = ""
    source: str = Field(default="", description="citation of the published model")
    settings: Settings
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    partitioned_survival: PSMStructureSpec
    base_dir: Path | None = Field(default=None, exclude=True)

    @field_validator("parameters", mode="before")
    @classmethod
    def _dispatch(cls, value: Any) -> Any:
        return dispatch_parameters(value)


def is_psm_document(data: Any) -> bool:
    return isinstance(data, dict) and "partitioned_survival" in data


def load_psm_model(source: str | Path | dict[str, Any]) -> PSMModelSpec:
    """Load and validate a partitioned survival document from a YAML/JSON file or a dict."""
    return validate_document(PSMModelSpec, source, "partitioned survival document")


class PSMModel:
    """A compiled partitioned survival document; `run` gives the base case or a seeded PSA."""

    def __init__(self, spec: PSMModelSpec) -> None:
        self.spec = spec
        self.settings: Settings = spec.settings
        self.params = compile_parameters(spec.parameters, spec.base_dir)
        self._evaluators: dict[str, ParameterEvaluator] = {}
        self._expressions: dict[str, dict[str, Any]] = {}
        for name in spec.partitioned_survival.strategies:
            self._compile_strategy(name)

    def _compile_strategy(self, name: str) -> None:
        shared = self.spec.partitioned_survival
        strat = shared.strategies[name]
        ctx = f"strategy {name!r}"
        overrides = {
            k: parse_expression(v, f"{ctx} parameter {k!r}") for k, v in strat.parameters.items()
        }
        unknown = set(overrides) - self.params.all_names()
        if unknown:
            raise HeconError(
                f"{ctx}: overrides parameters {sorted(unknown)} that the model does not define"
            )
        self._evaluators[name] = ParameterEvaluator(
            self.params, self.settings.cycles, 1, self.settings.cycle_length, overrides
        )
        known = self.params.all_names() | set(overrides)

        def expr(value: Any, where: str) -> Expression:
            e = parse_expression(value, where)
            check_names(e, known, where)
            if {"model_time", "state_time"} & e.names:
                raise HeconError(
                    f"{where}: partitioned survival inputs are constant over time "
                    "(model_time/state_time are not available)"
                )
            return e

        costs = strat.state_costs if strat.state_costs is not None else shared.state_costs
        utils = (
            strat.state_utilities if strat.state_utilities is not None else shared.state_utilities
        )
        initial = strat.initial_costs if strat.initial_costs is not None else shared.initial_costs
        self._expressions[name] = {
            "pfs": {k: expr(v, f"{ctx} pfs {k}") for k, v in strat.pfs.parameters().items()},
            "os": {k: expr(v, f"{ctx} os {k}") for k, v in strat.os.parameters().items()},
            "state_costs": {
                cat: {s: expr(v, f"{ctx} state cost {cat}[{s}]") for s, v in per_state.items()}
                for cat, per_state in costs.items()
            },
            "utilities": {s: expr(v, f"{ctx} utility[{s}]") for s, v in utils.items()},
            "initial_costs": {c: expr(v, f"{ctx} initial cost {c}") for c, v in initial.items()},
        }

    def strategies(self, sampled: dict[str, np.ndarray], d: int) -> dict[str, PSMStrategy]:
        """The :class:`PSMStrategy` inputs of :func:`partitioned_survival` for these draws."""
        out: dict[str, PSMStrategy] = {}
        allow_negative = self.settings.allow_negative_costs
        for name, strat in self.spec.partitioned_survival.strategies.items():
            ns = self._evaluators[name].namespace(sampled)
            exprs = self._expressions[name]

            def value(e: Expression, where: str, ns: dict[str, Any] = ns) -> np.ndarray:
                v = e.evaluate(ns, where).reshape(-1)
                v = np.broadcast_to(v, (d,)) if v.size == 1 else v
                if not np.all(np.isfinite(v)):
                    raise HeconError(f"{where}: evaluates to a non-finite value")
                return np.asarray(v, dtype=float)

            ctx = f"strategy {name!r}"
            state_costs: dict[str, dict[str, float | np.ndarray]] = {}
            for cat, per_state in exprs["state_costs"].items():
                state_costs[cat] = {}
                for s, e in per_state.items():
                    where = f"{ctx} state cost {cat}[{s}]"
                    v = value(e, where)
                    if not allow_negative and np.any(v < 0):
                        raise HeconError(
                            f"{where}: negative cost {float(v.min()):g}; set "
                            "settings.allow_negative_costs to allow it"
                        )
                    state_costs[cat][s] = v
            out[name] = PSMStrategy(
                pfs=Survival(
                    strat.pfs.distribution,
                    {k: value(e, f"{ctx} pfs {k}") for k, e in exprs["pfs"].items()},
                    f"{ctx} pfs ({strat.pfs.distribution})",
                ),
                os=Survival(
                    strat.os.distribution,
                    {k: value(e, f"{ctx} os {k}") for k, e in exprs["os"].items()},
                    f"{ctx} os ({strat.os.distribution})",
                ),
                state_costs=state_costs,
                utilities={
                    s: value(e, f"{ctx} utility[{s}]") for s, e in exprs["utilities"].items()
                },
                initial_costs={
                    c: value(e, f"{ctx} initial cost {c}")
                    for c, e in exprs["initial_costs"].items()
                },
            )
        return out

    def run(
        self, n_draws: int | None = None, seed: int | None = None
    ) -> tuple[PSMResult, dict[str, np.ndarray]]:
        """Base case (`n_draws` None) or a seeded PSA; returns the result and the sampled
        stochastic parameters (shape (draws,) each)."""
        if n_draws is None:
            sampled, d = self.params.base_values(), 1
        else:
            if seed is None:
                raise HeconError("a PSA needs a seed (same seed => identical results)")
            sampled, d = self.params.sample(n_draws, seed), n_draws
        result = partitioned_survival(self.strategies(sampled, d), self.settings)
        return result, sampled


def psa_matrices(summary: pd.DataFrame, effect: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(costs, effects) of shape (draws, strategies) and the strategy names, in model order."""
    names = list(dict.fromkeys(summary["strategy"]))
    wide = summary.pivot(index="draw", columns="strategy")
    return wide["cost"][names].to_numpy(), wide[effect][names].to_numpy(), names
