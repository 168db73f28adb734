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
from permedhub.hecon.errors import (
    DocumentPartError,
    HeconError,
    Location,
    UnknownNameError,
    document_error,
    read_input_file,
)

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
                raise HeconError(
                    "a mapping needs 'distribution', 'table'/'file' or 'test_and_treat'; got "
                    f"keys {sorted(spec)}",
                    location=(name,),
                )
            try:
                out[name] = kind.model_validate(spec)
            except ValidationError as exc:
                raise DocumentPartError((name,), exc, spec) from None
        elif isinstance(spec, bool) or not isinstance(spec, int | float | str | BaseModel):
            raise HeconError(
                "expected a number, an expression string or a mapping, got "
                f"{type(spec).__name__} {spec!r}",
                location=(name,),
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
        for i, n in enumerate(state_names):
            if n in state_names[:i]:
                raise HeconError(
                    f"duplicate state name {n!r} (also states[{state_names.index(n)}])",
                    location=("states", i, "name"),
                )
        for sname, strat in self.strategies.items():
            self._check_strategy_states(sname, strat, state_names)
        self._check_perspectives()
        return self

    def _check_strategy_states(
        self, sname: str, strat: StrategySpec, state_names: list[str]
    ) -> None:
        """Every state a strategy's blocks name exists; a problem is located where the name is
        written: in the strategy's own block or in the shared one it inherits."""
        own: Location = ("strategies", sname)

        def check(location: Location, name: str, role: str = "") -> None:
            if name not in state_names:
                raise UnknownNameError(
                    f"unknown state {name!r}{role}; states are {', '.join(state_names)}",
                    location=location,
                )

        transitions, where = (
            (strat.transitions, own) if strat.transitions else (self.transitions, ())
        )
        if transitions is None:
            raise HeconError(
                "no transitions: neither shared 'transitions' nor the strategy's own",
                location=own,
            )
        for origin, row in transitions.items():
            check((*where, "transitions", origin), origin, " (origin of a row)")
            for destination in row:
                check((*where, "transitions", origin, destination), destination)
            comps = [d for d, v in row.items() if isinstance(v, str) and v.strip() == "C"]
            if len(comps) > 1:
                raise HeconError(
                    f"row {origin!r} has {len(comps)} complement 'C' entries ({', '.join(comps)}); "
                    "at most one is allowed",
                    location=(*where, "transitions", origin),
                )
        initial, where = (strat.initial, own) if strat.initial else (self.initial, ())
        if initial is None:
            raise HeconError(
                "no initial state distribution: neither shared 'initial' nor the strategy's own",
                location=own,
            )
        for name in initial:
            check((*where, "initial", name), name)
        costs, where = (strat.state_costs, own) if strat.state_costs else (self.state_costs, ())
        for category, per_state in costs.items():
            for name in per_state:
                check((*where, "state_costs", category, name), name)
        utilities, where = (
            (strat.state_utilities, own) if strat.state_utilities else (self.state_utilities, ())
        )
        for name in utilities:
            check((*where, "state_utilities", name), name)
        rewards, where = (
            (strat.transition_rewards, own)
            if strat.transition_rewards is not None
            else (self.transition_rewards, ())
        )
        for i, reward in enumerate(rewards):
            check((*where, "transition_rewards", i, "from"), reward.from_)
            check((*where, "transition_rewards", i, "to"), reward.to)

    def _check_perspectives(self) -> None:
        categories = self.cost_categories()
        for pname, cats in self.perspectives.items():
            for i, c in enumerate(cats):
                if c not in categories:
                    raise HeconError(
                        f"unknown cost category {c!r}; categories are "
                        f"{', '.join(categories) or '(none)'}",
                        location=("perspectives", pname, i),
                    )
        perspectives = self.perspective_map()
        if self.primary_perspective is not None and self.primary_perspective not in perspectives:
            raise HeconError(
                f"{self.primary_perspective!r} is not defined; perspectives are "
                f"{', '.join(perspectives)}",
                location=("primary_perspective",),
            )

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


def parse_yaml(text: str, where: str, what: str) -> dict[str, Any]:
    """A YAML/JSON mapping from `text`; HeconError "[<where>: ]..." naming the line and column
    of a syntax error, or what the document was instead of a mapping."""
    prefix = f"{where}: " if where else ""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise HeconError(f"{prefix}not valid YAML/JSON: {_yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise HeconError(
            f"{prefix}a {what} must be a mapping (YAML/JSON object), got "
            f"{'nothing' if data is None else type(data).__name__}"
        )
    return data


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _yaml_problem(error: yaml.YAMLError) -> str:
    """'line 3, column 1: expected ',' or ']' (while parsing a flow sequence from line 2,
    column 15)': where the parser stopped, and where the construct it was reading began."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    if mark is None or problem is None:
        return str(error)
    context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
    opened = f" ({context} from {_at(start)})" if context and start is not None else ""
    return f"{_at(mark)}: {problem}{opened}"


def read_document(source: str | Path | dict[str, Any]) -> tuple[dict[str, Any], Path | None]:
    """A model document from a YAML/JSON file path or an already-parsed mapping, and the folder
    its relative `file:` tables are read from (None for a mapping)."""
    if isinstance(source, dict):
        return source, None
    path = Path(source)
    text = read_input_file(path, "model file")
    return parse_yaml(text, f"model file {path}", "model document"), path.resolve().parent


def validate_document(
    model: type[DocumentT], source: str | Path | dict[str, Any], what: str
) -> DocumentT:
    """Read and validate one kind of model document; errors list the first eight problems by
    location, as "invalid <what>: ..." (UnknownNameError when a state name is unknown)."""
    data, base = read_document(source)
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        raise document_error(exc, data, what) from None
    if base is not None and "base_dir" in type(spec).model_fields:
        spec.base_dir = base  # type: ignore[attr-defined]
    return spec


def load_model(source: str | Path | dict[str, Any]) -> ModelSpec:
    """Load and validate a Markov model from a YAML/JSON file path or a dict."""
    return validate_document(ModelSpec, source, "model document")
