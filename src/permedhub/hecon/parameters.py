"""Compile and evaluate model parameters, vectorised over PSA draws and model time.

Every value is a float array that broadcasts to ``(draws, model_time, state_time)``:
sampled parameters have shape ``(d, 1, 1)``, ``model_time`` is ``(1, T, 1)`` holding the cycle
index 1..T, ``state_time`` is ``(1, 1, K)`` holding 1..K (K = longest tunnel). The Markov
engine asks for ``time_major`` values, ``(model_time, draws, state_time)``: the same numbers,
laid out as its cohort is propagated (all draws of one cycle), so nothing is transposed.
Expressions are evaluated in dependency order; a dependency cycle raises
:class:`~permedhub.hecon.errors.CircularDefinitionError` naming the cycle.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from permedhub.hecon import distributions as dist
from permedhub.hecon.errors import (
    CircularDefinitionError,
    DistributionError,
    ExpressionError,
    HeconError,
    UnknownNameError,
    read_input_file,
)
from permedhub.hecon.expressions import (
    FUNCTIONS,
    LANGUAGE_WORDS,
    EvalCache,
    Expression,
    Namespace,
    parse_expression,
)
from permedhub.hecon.spec import DiagnosticStepSpec, DistributionSpec, TableSpec

RESERVED = ("model_time", "state_time", "cycle_length")


@dataclass(frozen=True)
class LookupTable:
    """A one-key lookup table usable in expressions as ``name(x)``."""

    name: str
    keys: np.ndarray
    values: np.ndarray
    method: str

    def __post_init__(self) -> None:
        if self.keys.size < 1 or self.keys.shape != self.values.shape:
            raise HeconError(
                f"table {self.name!r}: keys and values must be equal-length, non-empty"
            )
        if np.any(np.diff(self.keys) <= 0):
            raise HeconError(f"table {self.name!r}: keys must be strictly increasing")
        if not np.all(np.isfinite(self.values)) or not np.all(np.isfinite(self.keys)):
            raise HeconError(f"table {self.name!r}: keys and values must be finite numbers")

    def __call__(self, x: Any) -> np.ndarray:
        xs = np.asarray(x, dtype=float)
        if np.any(xs < self.keys[0]):
            raise HeconError(
                f"table {self.name!r}: lookup key {float(xs.min())} below the first key "
                f"{float(self.keys[0])}"
            )
        if self.method == "linear":
            return np.interp(xs, self.keys, self.values)
        idx = np.searchsorted(self.keys, xs, side="right") - 1
        return self.values[idx]


@dataclass
class Stochastic:
    """A distribution feeding one or more parameters (several for dirichlet/mvnormal/bootstrap)."""

    label: str
    distribution: dist.Distribution
    outputs: list[str]
    base: np.ndarray


@dataclass
class CompiledParameters:
    expressions: dict[str, Expression] = field(default_factory=dict)
    stochastic: list[Stochastic] = field(default_factory=list)
    tables: dict[str, LookupTable] = field(default_factory=dict)

    @property
    def stochastic_names(self) -> list[str]:
        return [o for s in self.stochastic for o in s.outputs]

    def all_names(self) -> set[str]:
        return set(self.expressions) | set(self.stochastic_names) | set(self.tables)

    def base_values(self) -> dict[str, np.ndarray]:
        """Base-case values of stochastic parameters as arrays of shape (1,)."""
        out: dict[str, np.ndarray] = {}
        for s in self.stochastic:
            base = np.atleast_1d(s.base)
            for i, name in enumerate(s.outputs):
                out[name] = np.array([base[i]])
        return out

    def sample(self, n: int, seed: int) -> dict[str, np.ndarray]:
        """PSA draws of every stochastic parameter, shape (n,) each."""
        raw = dist.sample_all([(s.label, s.distribution) for s in self.stochastic], n, seed)
        out: dict[str, np.ndarray] = {}
        for s in self.stochastic:
            values = raw[s.label]
            if values.ndim == 1:
                out[s.outputs[0]] = values
            else:
                for i, name in enumerate(s.outputs):
                    out[name] = np.ascontiguousarray(values[:, i])
        return out


def _need(spec: DistributionSpec, name: str, *fields: str) -> list[Any]:
    values = [getattr(spec, f) for f in fields]
    missing = [f for f, v in zip(fields, values, strict=True) if v is None]
    if missing:
        raise DistributionError(
            f"parameter {name!r}: {spec.distribution} distribution needs {', '.join(missing)}"
        )
    return values


def build_distribution(name: str, spec: DistributionSpec) -> tuple[dist.Distribution, list[str]]:
    """Turn a :class:`DistributionSpec` into a distribution and its output names."""
    kind = spec.distribution
    single = [name]
    if kind == "beta":
        if spec.mean is not None or spec.se is not None:
            m, se = _need(spec, name, "mean", "se")
            return dist.beta_from_mean_se(float(m), float(se), name), single
        a, b = _need(spec, name, "alpha", "beta")
        return dist.Beta(float(a), float(b), name), single
    if kind == "gamma":
        if spec.mean is not None or spec.se is not None:
            m, se = _need(spec, name, "mean", "se")
            return dist.gamma_from_mean_se(float(m), float(se), name), single
        sh, sc = _need(spec, name, "shape", "scale")
        return dist.Gamma(float(sh), float(sc), name), single
    if kind == "lognormal":
        if spec.mean is not None or spec.se is not None:
            m, se = _need(spec, name, "mean", "se")
            return dist.lognormal_from_mean_se(float(m), float(se), name), single
        ml, sl = _need(spec, name, "meanlog", "sdlog")
        return dist.LogNormal(float(ml), float(sl), name), single
    if kind == "normal":
        m, sd = _need(spec, name, "mean", "sd")
        return dist.Normal(float(m), float(sd), name), single
    if kind == "triangular":
        lo, mo, hi = _need(spec, name, "low", "mode", "high")
        return dist.Triangular(float(lo), float(mo), float(hi), name), single
    if kind == "fixed":
        (v,) = _need(spec, name, "value")
        return dist.Fixed(float(v), name), single
    (outputs,) = _need(spec, name, "outputs")
    if kind == "dirichlet":
        (alpha,) = _need(spec, name, "alpha")
        alphas = tuple(float(a) for a in np.atleast_1d(alpha))
        if len(alphas) != len(outputs):
            raise DistributionError(
                f"parameter {name!r}: dirichlet has {len(alphas)} alphas but {len(outputs)} outputs"
            )
        return dist.Dirichlet(alphas, name), list(outputs)
    if kind == "mvnormal":
        mean, cov = _need(spec, name, "mean", "cov")
        mu = tuple(float(m) for m in np.atleast_1d(mean))
        if len(mu) != len(outputs):
            raise DistributionError(
                f"parameter {name!r}: mvnormal has {len(mu)} means but {len(outputs)} outputs"
            )
        return dist.MultivariateNormal(mu, tuple(tuple(r) for r in cov), name), list(outputs)
    (data,) = _need(spec, name, "data")
    frame = pd.DataFrame(data)
    missing = [o for o in outputs if o not in frame.columns]
    if missing:
        raise DistributionError(f"parameter {name!r}: bootstrap data lacks columns {missing}")
    return dist.Bootstrap(frame[list(outputs)], name), list(outputs)


def _load_table(name: str, spec: TableSpec, base_dir: Path | None) -> LookupTable:
    if spec.table is not None:
        if set(spec.table) != {"x", "y"}:
            raise HeconError(f"table {name!r}: 'table' needs exactly the keys 'x' and 'y'")
        keys, values = spec.table["x"], spec.table["y"]
    else:
        assert spec.file is not None and spec.key is not None and spec.column is not None
        path = Path(spec.file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        text = read_input_file(path, f"table {name!r}: file")
        try:
            frame = pd.read_csv(io.StringIO(text))
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise HeconError(f"table {name!r}: file {path}: not a readable CSV ({error})") from None
        for col in (spec.key, spec.column):
            if col not in frame.columns:
                raise HeconError(f"table {name!r}: column {col!r} not in {str(path)!r}")
        keys, values = frame[spec.key].tolist(), frame[spec.column].tolist()
    return LookupTable(
        name, np.asarray(keys, dtype=float), np.asarray(values, dtype=float), spec.method
    )


def compile_parameters(
    parameters: Mapping[str, Any], base_dir: Path | None = None
) -> CompiledParameters:
    """Compile parameter specs (numbers, expressions, distributions, tables)."""
    out = CompiledParameters()
    for name, spec in parameters.items():
        if (
            not name.isidentifier()
            or name in LANGUAGE_WORDS
            or name in RESERVED
            or name in FUNCTIONS
        ):
            raise HeconError(
                f"parameter name {name!r} is not allowed (must be an identifier, not a word of "
                f"the expression language ({', '.join(sorted(LANGUAGE_WORDS))}), and not one of "
                f"{', '.join(RESERVED)} or a function name)"
            )
        if isinstance(spec, DistributionSpec):
            distribution, outputs = build_distribution(name, spec)
            for o in outputs:
                if not o.isidentifier() or o in RESERVED or o in FUNCTIONS:
                    raise HeconError(f"parameter {name!r}: output name {o!r} is not allowed")
            base_spec = spec.value
            if base_spec is None:
                base = np.atleast_1d(np.asarray(distribution.mean, dtype=float))
            else:
                base = np.atleast_1d(np.asarray(base_spec, dtype=float))
            if base.size != len(outputs):
                raise DistributionError(
                    f"parameter {name!r}: base-case value has {base.size} entries, expected "
                    f"{len(outputs)}"
                )
            out.stochastic.append(Stochastic(name, distribution, outputs, base))
        elif isinstance(spec, TableSpec):
            out.tables[name] = _load_table(name, spec, base_dir)
        elif isinstance(spec, DiagnosticStepSpec):
            for out_name, text in test_and_treat_expressions(name, spec).items():
                if out_name in parameters:
                    raise HeconError(f"parameter {out_name!r} is defined twice (by {name!r})")
                out.expressions[out_name] = parse_expression(text, f"parameter {out_name!r}")
        elif isinstance(spec, bool):
            raise HeconError(f"parameter {name!r}: expected a number or expression, got a boolean")
        else:
            out.expressions[name] = parse_expression(spec, f"parameter {name!r}")
    seen: dict[str, str] = {}
    for s in out.stochastic:
        for o in s.outputs:
            if o in seen or o in out.expressions or o in out.tables:
                raise HeconError(f"parameter {o!r} is defined twice")
            seen[o] = s.label
    return out


def check_names(expr: Expression, known: Iterable[str], context: str) -> None:
    """Raise UnknownNameError if `expr` reads or calls a name that is not defined."""
    known_set = set(known) | set(RESERVED)
    for n in sorted(expr.names):
        if n not in known_set:
            hint = difflib.get_close_matches(n, sorted(known_set), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise UnknownNameError(
                f"{context}: unknown parameter {n!r} in {expr.source!r}{suggestion}"
            )
    for c in sorted(expr.calls):
        if c not in FUNCTIONS and c not in known_set:
            raise ExpressionError(
                f"{context}: unknown function {c!r} in {expr.source!r}; allowed: "
                + ", ".join(sorted(FUNCTIONS))
                + " and the model's lookup tables"
            )


def evaluation_order(expressions: Mapping[str, Expression]) -> list[str]:
    """Topological order of expression parameters; raise on a dependency cycle."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(name: str, path: list[str]) -> None:
        mark = state.get(name)
        if mark == 2:
            return
        if mark == 1:
            cycle = [*path[path.index(name) :], name]
            raise CircularDefinitionError("circular parameter definition: " + " -> ".join(cycle))
        state[name] = 1
        expr = expressions[name]
        for dep in sorted(expr.names | expr.calls):
            if dep in expressions:
                visit(dep, [*path, name])
        state[name] = 2
        order.append(name)

    for name in expressions:
        visit(name, [])
    return order


@dataclass
class ParameterEvaluator:
    """Evaluates a compiled parameter set (plus overrides) for a block of draws."""

    compiled: CompiledParameters
    n_cycles: int
    max_state_time: int
    cycle_length: float
    overrides: dict[str, Expression] = field(default_factory=dict)
    time_major: bool = False
    """Lay values out as (model_time, draws, state_time) instead of (draws, model_time,
    state_time): the Markov engine's cohort works on all draws of one cycle at a time."""

    def __post_init__(self) -> None:
        self.expressions = {**self.compiled.expressions, **self.overrides}
        # overrides may replace stochastic parameters: drop those from the sampled set
        known = self.compiled.all_names() | set(self.overrides)
        for name, expr in self.expressions.items():
            check_names(expr, known, f"parameter {name!r}")
        self.order = evaluation_order(self.expressions)
        self.local = self._override_dependent()

    def _override_dependent(self) -> frozenset[str]:
        """The overridden names and every parameter that reads one (directly or not)."""
        local = set(self.overrides)
        for name in self.order:  # dependencies come first
            expr = self.expressions[name]
            if (expr.names | expr.calls) & local:
                local.add(name)
        return frozenset(local)

    def _leaf(self, cache: EvalCache | None, key: Any, make: Any) -> Any:
        """A base array, the same object for every namespace that shares `cache` (so that
        cached subexpressions reading it are found again)."""
        if cache is None:
            return make()
        if key not in cache.leaves:
            cache.leaves[key] = cache.hold(make())
        return cache.leaves[key]

    def _sampled(self, cache: EvalCache | None, name: str, values: np.ndarray) -> np.ndarray:
        shape = (1, -1, 1) if self.time_major else (-1, 1, 1)
        if cache is None:
            return np.asarray(values, dtype=float).reshape(shape)
        key = ("sampled", name, self.time_major)
        entry = cache.leaves.get(key)
        if entry is None or entry[0] is not values:
            entry = (values, np.asarray(values, dtype=float).reshape(shape))
            cache.leaves[key] = entry
        return entry[1]

    def namespace(
        self, sampled: Mapping[str, np.ndarray], cache: EvalCache | None = None
    ) -> Namespace:
        """Evaluate all parameters; `sampled` maps stochastic names to arrays of shape (d,).
        It may also fix expression parameters (their expression is then not evaluated), except
        those a strategy overrides: the strategy's own definition wins. With `cache` (one per
        block of draws, shared by the strategies) repeated subexpressions are evaluated once."""
        t, k, length = self.n_cycles, self.max_state_time, float(self.cycle_length)
        time_shape = (-1, 1, 1) if self.time_major else (1, -1, 1)
        ns = Namespace(
            {
                "model_time": self._leaf(
                    cache,
                    ("model_time", t, self.time_major),
                    lambda: np.arange(1, t + 1, dtype=float).reshape(time_shape),
                ),
                "state_time": self._leaf(
                    cache,
                    ("state_time", k),
                    lambda: np.arange(1, k + 1, dtype=float).reshape(1, 1, -1),
                ),
                "cycle_length": self._leaf(
                    cache, ("cycle_length", length), lambda: np.asarray(length)
                ),
            },
            cache,
            self.local,
        )
        ns.update(self.compiled.tables)
        for name, values in sampled.items():
            if name not in self.overrides:
                ns[name] = self._sampled(cache, name, values)
        for name in self.order:
            if name in sampled and name not in self.overrides:
                continue  # an expression parameter fixed by the caller (e.g. in a DSA)
            expr = self.expressions[name]
            if cache is not None and name not in self.local:
                # reads nothing a strategy overrides: the same value for every strategy
                ns[name] = self._leaf(
                    cache,
                    ("parameter", name, id(expr), self.time_major),
                    lambda e=expr, n=name: _as3d(e.evaluate(ns, f"parameter {n!r}")),
                )
            else:
                ns[name] = _as3d(expr.evaluate(ns, f"parameter {name!r}"))
        return ns


def _as3d(value: np.ndarray) -> np.ndarray:
    if value.ndim == 3:
        return value
    if value.ndim == 0:
        return value.reshape(1, 1, 1)
    raise ExpressionError(f"unexpected value shape {value.shape}")  # pragma: no cover


def test_and_treat_expressions(name: str, spec: DiagnosticStepSpec) -> dict[str, str]:
    """Closed-form expressions of a test-and-treat step (conditionally independent tests).

    With prevalence p and tests i = 1..k: serial testing (confirm positives) is positive when
    all tests are, sens = prod sens_i, spec = 1 - prod (1 - spec_i), and test i+1 is done when
    tests 1..i were positive; parallel testing (re-test negatives) is positive when any test
    is, sens = 1 - prod (1 - sens_i), spec = prod spec_i, and test i+1 is done when tests 1..i
    were negative. Expected test cost = sum_i c_i P(test i is done)."""
    body = spec.test_and_treat
    prev = f"({body.prevalence})"
    sens = [f"({t.sensitivity})" for t in body.tests]
    spec_ = [f"({t.specificity})" for t in body.tests]
    costs = [f"({t.cost})" for t in body.tests]
    if body.rule == "single" and len(body.tests) != 1:
        raise HeconError(f"test_and_treat {name!r}: rule 'single' needs exactly one test")

    def prod(items: list[str]) -> str:
        return " * ".join(items) if items else "1"

    if body.rule == "parallel":
        se = f"(1 - {prod([f'(1 - {x})' for x in sens])})"
        sp = f"({prod(spec_)})"
        # test i (0-based) is done if tests before it were all negative
        done = [
            f"({prev} * {prod([f'(1 - {x})' for x in sens[:i]])} + (1 - {prev}) * "
            f"{prod(spec_[:i])})"
            for i in range(len(body.tests))
        ]
    else:
        se = f"({prod(sens)})"
        sp = f"(1 - {prod([f'(1 - {x})' for x in spec_])})"
        done = [
            f"({prev} * {prod(sens[:i])} + (1 - {prev}) * "
            f"{prod([f'(1 - {x})' for x in spec_[:i]])})"
            for i in range(len(body.tests))
        ]
    cost = " + ".join(f"{c} * {d}" for c, d in zip(costs, done, strict=True))
    return {
        f"{name}_tp": f"{prev} * {se}",
        f"{name}_fn": f"{prev} * (1 - {se})",
        f"{name}_fp": f"(1 - {prev}) * (1 - {sp})",
        f"{name}_tn": f"(1 - {prev}) * {sp}",
        f"{name}_positive": f"{prev} * {se} + (1 - {prev}) * (1 - {sp})",
        f"{name}_test_cost": cost,
    }


test_and_treat_expressions.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
