"""The model document: Pydantic schemas for YAML/JSON models (and the Python API).

A model document has ``settings``, ``states``, ``parameters``, ``strategies``, shared
``transitions``/``state_costs``/``state_utilities``/``transition_rewards``/``initial`` that each
strategy may override, and ``perspectives`` (which cost categories each perspective sums).

Parameters are one of:

* a number: ``p_death: 0.02``
* an expression string in the restricted language (:mod:`permedhub.hecon.expressions`):
  ``p_ab: "n_ab / n_a"``; may read other parameters, ``model_time`` (cycle index 1..T),
  ``state_time`` (cycles spent in the current state, 1..tunnel length) and ``cycle_length``
* a distribution (:class:`DistributionSpec`) with an optional base-case ``value``
* a lookup table (:class:`TableSpec`), called like a function: ``mortality(age)``
* a test-and-treat step (:class:`DiagnosticStepSpec`) defining ``<name>_tp`` etc.

Transitions are given per origin state as ``{destination: expression}``; the string ``"C"``
marks the complement ("rest of the row", at most one per row). Omitted destinations are 0.
Rows of absorbing states may be omitted (they stay put).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from permedhub.hecon.conventions import CountingMethod, DiscountMethod, TransitionRewardCounting
from permedhub.hecon.errors import HeconError, UnknownNameError

Expr = float | int | str


DocumentT = TypeVar("DocumentT", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Settings(_Strict):
    """Run settings. Counting and discounting methods are required: no silent defaults."""

    cycles: int = Field(ge=1, le=10_000, description="number of model cycles T")
    cycle_length: float = Field(gt=0, description="cycle length in years (L)")
    discount_costs: float = Field(ge=0, lt=1, description="annual discount rate for costs")
    discount_outcomes: float = Field(ge=0, lt=1, description="annual discount rate for outcomes")
    discount_method: DiscountMethod
    counting: CountingMethod
    transition_reward_counting: TransitionRewardCounting = Field(
        default="end_of_cycle",
        description="end_of_cycle: a transition reward counts once per flow; weighted: also "
        "times the counting weight of the trace point the flow ends at (DARTH)",
    )
    effect: Literal["qaly", "ly"] = Field(description="outcome used for ICERs and net benefit")
    allow_negative_costs: bool = Field(
        default=False, description="allow negative state/transition costs (e.g. refunds)"
    )


class StateSpec(_Strict):
    name: str
    dead: bool = Field(default=False, description="dead states count no life-years")
    tunnel: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="track residence time up to this many cycles (state_time = 1..tunnel; "
        "residence beyond the last stays at the last)",
    )
    description: str = ""


class DistributionSpec(_Strict):
    """A PSA distribution. Give the natural parameters or (mean, se) for beta/gamma/lognormal."""

    distribution: Literal[
        "beta",
        "gamma",
        "lognormal",
        "normal",
        "triangular",
        "fixed",
        "dirichlet",
        "mvnormal",
        "bootstrap",
    ]
    value: float | list[float] | None = Field(
        default=None, description="base-case value(s); default: the distribution's mean"
    )
    alpha: float | list[float] | None = None
    beta: float | None = None
    shape: float | None = None
    scale: float | None = None
    meanlog: float | None = None
    sdlog: float | None = None
    mean: float | list[float] | None = None
    se: float | None = None
    sd: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    cov: list[list[float]] | None = None
    data: dict[str, list[float]] | None = Field(default=None, description="bootstrap table")
    outputs: list[str] | None = Field(
        default=None, description="names of the components (dirichlet, mvnormal, bootstrap)"
    )


class TableSpec(_Strict):
    """Lookup table called like a function of one key, e.g. a life table by age."""

    table: dict[str, list[float]] | None = Field(
        default=None, description="{'x': keys (increasing), 'y': values}"
    )
    file: str | None = Field(default=None, description="CSV file (relative to the model file)")
    key: str | None = Field(default=None, description="key column in `file`")
    column: str | None = Field(default=None, description="value column in `file`")
    method: Literal["step", "linear"] = Field(
        description="step: value of the largest key <= x (keys above the last use the last "
        "row, e.g. an open age band); linear: interpolation (clamped at the ends)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> TableSpec:
        if (self.table is None) == (self.file is None):
            raise ValueError("give exactly one of 'table' or 'file'")
        if self.file is not None and (self.key is None or self.column is None):
            raise ValueError("a table 'file' needs 'key' and 'column'")
        return self


class DiagnosticTestSpec(_Strict):
    name: str
    sensitivity: Expr
    specificity: Expr
    cost: Expr = 0


class DiagnosticStepBody(_Strict):
    prevalence: Expr
    tests: list[DiagnosticTestSpec] = Field(min_length=1)
    rule: Literal["single", "serial", "parallel"] = Field(
        description="single test; serial = confirm positives (positive if all positive); "
        "parallel = re-test negatives (positive if any positive); tests conditionally "
        "independent given the true biomarker status"
    )


class DiagnosticStepSpec(_Strict):
    """A companion-diagnostic step producing parameters ``<name>_tp``, ``_fn``, ``_fp``, ``_tn``
    (joint probabilities of true status and test result), ``<name>_positive`` (share treated)
    and ``<name>_test_cost`` (expected testing cost per patient; later tests are only done
    when the rule needs them). Feed them into a Markov model's ``initial`` distribution."""

    test_and_treat: DiagnosticStepBody


ParameterSpec = DistributionSpec | TableSpec | DiagnosticStepSpec | float | int | str


class TransitionReward(_Strict):
    """One-off reward on the flow from `from_` to `to` (cost by category and/or QALY change)."""

    from_: str = Field(alias="from")
    to: str
    costs: dict[str, Expr] = Field(default_factory=dict)
    qaly: Expr | None = None


class StrategySpec(_Strict):
    description: str = ""
    parameters: dict[str, float | int | str] = Field(
        default_factory=dict, description="strategy-specific parameter values/expressions"
    )
    transitions: dict[str, dict[str, Expr]] | None = None
    state_costs: dict[str, dict[str, Expr]] | None = None
    state_utilities: dict[str, Expr] | None = None
    transition_rewards: list[TransitionReward] | None = None
    initial: dict[str, Expr] | None = None
    initial_costs: dict[str, Expr] | None = None


def dispatch_parameters(value: Any) -> Any:
    """Pick the parameter kind from its keys so errors name one kind, not every union arm."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for name, spec in value.items():
        if isinstance(spec, dict):
            kind: type[BaseModel]
            if "distribution" in spec:
                kind = DistributionSpec
            elif "test_and_treat" in spec:
                kind = DiagnosticStepSpec
            elif "table" in spec or "file" in spec:
                kind = TableSpec
            else:
                raise ValueError(
                    f"parameter {name!r}: a mapping needs 'distribution', 'table'/'file' or "
                    f"'test_and_treat'; got keys {sorted(spec)}"
                )
            try:
                out[name] = kind.model_validate(spec)
            except ValidationError as exc:
                detail = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                    for e in exc.errors()[:4]
                )
                raise ValueError(f"parameter {name!r}: {detail}") from None
        elif isinstance(spec, bool) or not isinstance(spec, int | float | str | BaseModel):
            raise ValueError(
                f"parameter {name!r}: expected a number, an expression string or a mapping, "
                f"got {type(spec).__name__}"
            )
        else:
            out[name] = spec
    return out


class ModelSpec(_Strict):
    """A complete Markov cohort model document."""

    name: str
    description: str = ""
    source: str = Field(default="", description="citation of the published model")
    settings: Settings
    states: list[StateSpec] = Field(min_length=2)
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    strategies: dict[str, StrategySpec] = Field(min_length=1)
    transitions: dict[str, dict[str, Expr]] | None = None
    state_costs: dict[str, dict[str, Expr]] = Field(
        default_factory=dict, description="{category: {state: expression}} per cycle in state"
    )
    state_utilities: dict[str, Expr] = Field(default_factory=dict)
    transition_rewards: list[TransitionReward] = Field(default_factory=list)
    initial: dict[str, Expr] | None = None
    initial_costs: dict[str, Expr] = Field(
        default_factory=dict, description="{category: cost} at time 0, not discounted"
    )
    perspectives: dict[str, list[str]] = Field(
        default_factory=dict,
        description="{perspective: [cost categories]}; default: one 'healthcare' perspective "
        "with all categories",
    )
    primary_perspective: str | None = None
    base_dir: Path | None = Field(default=None, exclude=True)

    @field_validator("parameters", mode="before")
    @classmethod
    def _dispatch_parameters(cls, value: Any) -> Any:
        return dispatch_parameters(value)

    @model_validator(mode="after")
    def _check_names(self) -> ModelSpec:
        state_names = [s.name for s in self.states]
        dup = {n for n in state_names if state_names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate state names: {sorted(dup)}")
        known = set(state_names)

        def check_states(where: str, names: Any) -> None:
            for n in names:
                if n not in known:
                    raise ValueError(
                        f"{where}: unknown state {n!r}; states are {', '.join(state_names)}"
                    )

        for sname, strat in self.strategies.items():
            transitions = strat.transitions or self.transitions
            if transitions is None:
                raise ValueError(f"strategy {sname!r}: no transitions (neither shared nor own)")
            for origin, row in transitions.items():
                check_states(f"strategy {sname!r} transitions", [origin, *row])
                comps = [d for d, v in row.items() if isinstance(v, str) and v.strip() == "C"]
                if len(comps) > 1:
                    raise ValueError(
                        f"strategy {sname!r}: row {origin!r} has {len(comps)} complement 'C' "
                        "entries; at most one is allowed"
                    )
            initial = strat.initial or self.initial
            if initial is None:
                raise ValueError(f"strategy {sname!r}: no initial state distribution")
            check_states(f"strategy {sname!r} initial", initial)
            for cat, costs in (strat.state_costs or self.state_costs).items():
                check_states(f"strategy {sname!r} state_costs[{cat}]", costs)
            check_states(
                f"strategy {sname!r} state_utilities", strat.state_utilities or self.state_utilities
            )
            for tr in (
                strat.transition_rewards
                if strat.transition_rewards is not None
                else self.transition_rewards
            ):
                check_states(f"strategy {sname!r} transition_rewards", [tr.from_, tr.to])
        categories = self.cost_categories()
        for pname, cats in self.perspectives.items():
            for c in cats:
                if c not in categories:
                    raise ValueError(
                        f"perspective {pname!r}: unknown cost category {c!r}; categories are "
                        f"{', '.join(categories) or '(none)'}"
                    )
        if self.primary_perspective is not None and self.primary_perspective not in (
            self.perspective_map()
        ):
            raise ValueError(f"primary_perspective {self.primary_perspective!r} is not defined")
        return self

    def cost_categories(self) -> list[str]:
        cats: list[str] = []

        def add(names: Any) -> None:
            for n in names:
                if n not in cats:
                    cats.append(n)

        add(self.state_costs)
        add(self.initial_costs)
        for tr in self.transition_rewards:
            add(tr.costs)
        for s in self.strategies.values():
            add(s.state_costs or {})
            add(s.initial_costs or {})
            for tr in s.transition_rewards or []:
                add(tr.costs)
        return cats

    def perspective_map(self) -> dict[str, list[str]]:
        return dict(self.perspectives) or {"healthcare": self.cost_categories()}

    def primary(self) -> str:
        return self.primary_perspective or next(iter(self.perspective_map()))


def read_document(source: str | Path | dict[str, Any]) -> tuple[dict[str, Any], Path | None]:
    """A model document from a YAML/JSON file path or an already-parsed mapping, and the folder
    its relative `file:` tables are read from (None for a mapping)."""
    base: Path | None = None
    if isinstance(source, dict):
        data: Any = source
    else:
        path = Path(source)
        if not path.is_file():
            raise HeconError(f"model file {str(path)!r} not found")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise HeconError(f"model file {str(path)!r} is not valid YAML/JSON: {exc}") from exc
        base = path.resolve().parent
    if not isinstance(data, dict):
        raise HeconError("a model document must be a mapping (YAML/JSON object)")
    return data, base


def validate_document(
    model: type[DocumentT], source: str | Path | dict[str, Any], what: str
) -> DocumentT:
    """Read and validate one kind of model document; errors list the first eight problems by
    location, as "invalid <what>: ..." (UnknownNameError when a state name is unknown)."""
    data, base = read_document(source)
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        msgs = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:8]
        )
        kind = UnknownNameError if "unknown state" in msgs else HeconError
        raise kind(f"invalid {what}: {msgs}") from exc
    if base is not None and "base_dir" in type(spec).model_fields:
        spec.base_dir = base  # type: ignore[attr-defined]
    return spec


def load_model(source: str | Path | dict[str, Any]) -> ModelSpec:
    """Load and validate a Markov model from a YAML/JSON file path or a dict."""
    return validate_document(ModelSpec, source, "model document")
