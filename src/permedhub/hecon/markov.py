"""Markov cohort engine, vectorised over PSA draws.

Design (why it is fast and lean):

* Parameters are sampled once for all draws (reproducible for any chunking); the model is then
  evaluated per chunk of draws, all strategies of a chunk in turn. They share an
  :class:`~permedhub.hecon.expressions.EvalCache`: what no strategy overrides (parameters,
  repeated subexpressions such as life-table lookups or cost streams) is evaluated and
  checked once per chunk. Values are time-major, ``(T|1, d|1, k)``, the cohort's own layout.
* Transition matrices are never stored as dense ``(draws, cycles, S, S)`` tensors. Each
  non-zero entry (origin, destination) is one row of an entry layout (entries, draws):
  constant entries a ``(n_const, d)`` table, time-varying ones read in place from their
  evaluated ``(T|1, d|1)`` values by the compiled cycle kernel
  (:func:`~permedhub.hecon.markov_kernel.cycle_loop`), which per cycle forms the rows'
  complements, the flows ``m[origin] * value`` and their sums into the next cohort, in
  NumPy's arithmetic order (bit-identical to the NumPy loop it replaced).
* Tunnel states (``tunnel: k``) track residence time 1..k as k sub-states. Their rows are the
  same expressions evaluated at ``state_time = 1..k``; a self-transition moves sub-state tau to
  tau+1 (the last one stays) and entries from other states land in sub-state 1. Only the
  ``k`` extra entry columns are created, never the expanded S'xS' matrices.
* Every probability is checked in [0, 1] and every row (after the complement ``"C"``) to sum to
  1 before the cohort is propagated with it; errors name strategy, state, destination, cycle
  and draw (the first failure of the whole chunk, whichever block of cycles showed it).
* State rewards are contracted against the trace, the time-varying values of states without
  sub-states evaluated straight into one ``(T, states, d)`` stack (never a ``(d, T, S)`` array
  of all values); small products avoid BLAS (see :func:`_unthreaded`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from permedhub.hecon.conventions import (
    discount_weights,
    event_discount,
    event_weights,
    occupancy_operator,
)
from permedhub.hecon.errors import HeconError, ProbabilityError
from permedhub.hecon.expressions import (
    EvalCache,
    Expression,
    Namespace,
    parse_expression,
    repeated_subtrees,
)
from permedhub.hecon.markov_flows import FlowSum
from permedhub.hecon.markov_kernel import (
    FROM_COMPLEMENT,
    FROM_CONST,
    FROM_VALUE,
    cycle_loop,
    stacked_products,
    value_list,
)
from permedhub.hecon.parameters import (
    CompiledParameters,
    ParameterEvaluator,
    check_names,
    compile_parameters,
)
from permedhub.hecon.spec import ModelSpec, Settings, TransitionReward

PROB_TOL = 1e-9
CHUNK_BYTES = 64_000_000
"""Memory per chunk of draws (one chunk per worker) by :meth:`MarkovModel.bytes_per_draw`'s
estimate; a chunk of a time-varying model holds a little less. Larger chunks spread the
per-strategy Python work over more draws; far larger ones gain nothing, as their arrays no
longer fit the caches."""
KERNEL_TILE = 1 << 30
"""Draws the cycle kernel takes at a time (:func:`~permedhub.hecon.markov_kernel.cycle_loop`):
all of a chunk measured fastest (smaller tiles only add loop overhead); tests use 1 to check
that results do not depend on it."""


def _cycle_and_draw(shape: tuple[int, ...], ti: int, di: int, draw0: int) -> str:
    """' in cycle 3, draw 7' for the first bad entry of a (cycles, draws) array, naming only
    what the value varies by: '' when it is the same in every cycle and draw."""
    parts = [f"cycle {ti + 1}"] if shape[0] > 1 else []
    parts += [f"draw {draw0 + di}"] if shape[1] > 1 else []
    return f" in {', '.join(parts)}" if parts else ""


@dataclass
class _Strategy:
    name: str
    evaluator: ParameterEvaluator
    entries: list[tuple[int, int, Expression | None]]  # (origin, destination, expr or complement)
    state_costs: dict[str, dict[int, Expression]]
    utilities: dict[int, Expression]
    rewards: list[tuple[int, int, str, Expression]]  # (origin, dest, "cost:<cat>" | "qaly", expr)
    initial: dict[int, Expression]
    initial_costs: dict[str, Expression]


class _Workspace:
    """Buffers one worker reuses from chunk to chunk and strategy to strategy: fresh arrays
    of these sizes cost page faults on every allocation."""

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """An uninitialised C-contiguous array of `shape`, valid until the next request of
        `name`."""
        need = int(np.prod(shape))
        flat = self._flat.get(name)
        if flat is None or flat.size < need:
            flat = self._flat[name] = np.empty(max(need, 1))
        return flat[:need].reshape(shape)


@dataclass
class _Row:
    """One expanded row (origin state, sub-state tau) of an entry layout."""

    origin: int
    tau: int
    known: list[np.ndarray]  # its explicit values (T|1, d|1), in the order of the row
    slots: list[tuple[bool, int]]  # where each of them is: (time-varying, slot in its table)
    complement: int | None  # the slot of its complement 'C', if any
    complement_destination: int
    nonnegative: bool  # every explicit value known to be >= 0
    time_varying: bool  # its complement (if any) is in the time-varying table


@dataclass
class _KernelInputs:
    """A strategy's time-varying rows and its entries as the cycle kernel reads them (see
    :func:`~permedhub.hecon.markov_kernel.cycle_loop`)."""

    values: Any  # numba typed list of the rows' explicit values (T|1, d|1)
    row_ptr: np.ndarray
    row_values: np.ndarray
    row_complement: np.ndarray
    entries: np.ndarray  # (entries, 3): origin, source, index
    nonnegative: bool  # every explicit value of the rows known to be >= 0


class _EntryPlan:
    """A strategy's entry values for one chunk of draws: the constant entries as a filled
    (n_c, d) table, the time-varying ones as their rows' evaluated values, which the cycle
    kernel reads in place (:meth:`kernel_inputs`); :meth:`fill` writes them out as a
    (cycles, n_tv, d) table for the microsimulation, which draws from whole tables.

    A row whose entries are >= 0 and whose total is <= 1 (+ tolerance) passes every range
    and sum check (each entry is then at most the total); when a row of a filled range does
    not pass that quick test, `check_rows` checks the whole chunk in detail (once)."""

    def __init__(
        self, const: np.ndarray, n_tv: int, rows: list[_Row], check_rows: Callable[[], None]
    ) -> None:
        self.const = const
        self.n_tv = n_tv
        self.tv_rows = [row for row in rows if row.time_varying]
        self._check_rows = check_rows
        self._checked = False

    def kernel_inputs(self, origins: np.ndarray) -> _KernelInputs:
        """What :func:`~permedhub.hecon.markov_kernel.cycle_loop` reads of this plan, for
        entries in the plan's order (constant, then time-varying slots) from `origins`."""
        n_c = self.const.shape[0]
        values: list[np.ndarray] = []
        row_ptr = [0]
        row_values: list[int] = []
        sources = np.zeros((self.n_tv, 2), dtype=np.int64)
        for r, row in enumerate(self.tv_rows):
            for (tv, slot), value in zip(row.slots, row.known, strict=True):
                if tv:
                    sources[slot] = (FROM_VALUE, len(values))
                row_values.append(len(values))
                values.append(value)
            row_ptr.append(len(row_values))
            if row.complement is not None:
                sources[row.complement] = (FROM_COMPLEMENT, r)
        entries = np.zeros((n_c + self.n_tv, 3), dtype=np.int64)
        entries[:, 0] = origins
        entries[:n_c, 1] = FROM_CONST
        entries[:n_c, 2] = np.arange(n_c)
        entries[n_c:, 1:] = sources
        return _KernelInputs(
            value_list(values),
            np.array(row_ptr, dtype=np.int64),
            np.array(row_values, dtype=np.int64),
            np.array([row.complement is not None for row in self.tv_rows], dtype=np.int64),
            entries,
            all(row.nonnegative for row in self.tv_rows),
        )

    def quick_check(self, nonnegative: bool, total: np.ndarray, rest_high: float | None) -> None:
        """Check the whole chunk in detail unless rows pass the quick test: their entries
        >= 0 and the maximum of their totals `rest_high` <= 1 (+ tolerance) where they have
        a complement, else their `total` 1 (within the tolerance)."""
        if self._checked:
            return
        if rest_high is not None:
            passed = nonnegative and rest_high <= 1 + PROB_TOL
        else:
            passed = nonnegative and np.abs(total - 1.0).max() <= PROB_TOL
        if not passed:
            self.check_all()

    def check_all(self) -> None:
        """Check every cycle in detail now (unless that was done), e.g. before reporting
        another error of the chunk, so that a bad entry in a block not yet filled comes
        first, as it would in a check of the whole table."""
        if not self._checked:
            self._checked = True
            self._check_rows()

    def fill(self, t0: int, t1: int, out: np.ndarray) -> None:
        """Cycles t0..t1-1 of the time-varying table into `out` (t1 - t0, n_tv, d), each
        row checked by the quick test (the cycle kernel does the same without a table)."""
        for row in self.tv_rows:
            parts = []
            for (tv, slot), value in zip(row.slots, row.known, strict=True):
                if tv:
                    out[:, slot, :] = value[t0:t1]
                    parts.append(out[:, slot, :])
                else:
                    parts.append(self.const[None, slot, :])
            if row.complement is None:
                if not self._checked:
                    total = _row_total(parts, np.empty((t1 - t0, out.shape[2])))
                    self.quick_check(row.nonnegative, total, None)
                continue
            total = _row_total(parts, out[:, row.complement, :])
            high = float(total.max())
            rest = np.subtract(1.0, total, out=total)
            if high > 1:  # rounding can leave -1e-17 where the rest is exactly 1
                rest[(rest < 0) & (rest > -PROB_TOL)] = 0.0
            self.quick_check(row.nonnegative, rest, high)


def _row_total(known: list[np.ndarray], out: np.ndarray) -> np.ndarray:
    """The sum of a row's explicit values into `out`, in the order of the row."""
    if len(known) >= 2:
        np.add(known[0], known[1], out=out)
    else:
        out[...] = known[0] if known else 0.0
    for value in known[2:]:
        out += value
    return out


@dataclass
class MarkovResult:
    """Results of a run: one row per strategy and draw, plus the trace and cash flows."""

    summary: pd.DataFrame
    trace: pd.DataFrame
    cashflows: dict[str, dict[str, np.ndarray]]
    """Only with run(keep_cashflows=True): strategy -> cost category -> undiscounted costs
    per draw and time point, shape (draws, T+1); column 0 holds the time-0 (initial) costs."""
    strategies: list[str]
    effect: str
    n_draws: int
    parameters: dict[str, np.ndarray] = field(default_factory=dict)
    cycle_length: float = 1.0

    def mean(self) -> pd.DataFrame:
        """Mean over draws per strategy (the deterministic result when n_draws == 1)."""
        cols = [c for c in self.summary.columns if c not in ("strategy", "draw")]
        return self.summary.groupby("strategy", sort=False)[cols].mean()

    def annual_costs(self, strategy: str, categories: list[str] | None = None) -> np.ndarray:
        """Mean undiscounted cost per starting patient in each year since the start (year 1
        includes the time-0 costs); cycles are assigned to the year in which they end. Feeds
        ``budget.budget_impact(annual_costs=...)`` (with persistence left at 1, as deaths are
        already in these expected costs). Needs ``run(keep_cashflows=True)``."""
        if strategy not in self.cashflows:
            raise HeconError(
                f"no cash flows for strategy {strategy!r}: run the model with keep_cashflows=True"
            )
        flows = self.cashflows[strategy]
        cats = categories if categories is not None else list(flows)
        unknown = [c for c in cats if c not in flows]
        if unknown:
            raise HeconError(f"unknown cost categories {unknown}; categories: {list(flows)}")
        per_point = sum(flows[c].mean(axis=0) for c in cats)  # (T+1,)
        times = np.arange(len(per_point)) * self.cycle_length
        year = np.maximum(np.ceil(times - 1e-9).astype(int), 1)  # point 0 -> year 1
        return np.bincount(year - 1, weights=per_point)

    def matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """(costs, effects) as arrays of shape (draws, strategies) in strategy order."""
        wide = self.summary.pivot(index="draw", columns="strategy")
        costs = wide["cost"][self.strategies].to_numpy()
        effects = wide[self.effect][self.strategies].to_numpy()
        return costs, effects


class MarkovModel:
    """A compiled Markov cohort model; build from a :class:`ModelSpec` (or load_model())."""

    def __init__(self, spec: ModelSpec, parameters: CompiledParameters | None = None) -> None:
        self.spec = spec
        self.settings: Settings = spec.settings
        self.states = [s.name for s in spec.states]
        self.index = {n: i for i, n in enumerate(self.states)}
        self.tunnel = np.array([s.tunnel for s in spec.states])
        self.offset = np.concatenate([[0], np.cumsum(self.tunnel)[:-1]])
        self.n_expanded = int(self.tunnel.sum())
        self.alive = np.array([not s.dead for s in spec.states])
        self.categories = spec.cost_categories()
        self.perspectives = spec.perspective_map()
        self.primary = spec.primary()
        self.params = parameters or compile_parameters(spec.parameters, spec.base_dir)
        # counting weight of each cycle's transition rewards (1 unless 'weighted')
        self.event_weights = event_weights(
            self.settings.counting, self.settings.transition_reward_counting, self.settings.cycles
        )
        self._alive_weights = np.repeat(self.alive, self.tunnel).astype(float)
        self._constants: dict[int, np.ndarray] = {}  # id(expression) -> its value
        self.strategies = [self._compile_strategy(n) for n in spec.strategies]
        self._flow_sums: dict[bytes, FlowSum] = {}
        unstable = frozenset().union(*(s.evaluator.local for s in self.strategies))
        self.repeated = repeated_subtrees(
            (e for s in self.strategies for e in _expressions(s)), unstable
        )

    # --- compilation ---------------------------------------------------------------------

    def _compile_strategy(self, name: str) -> _Strategy:
        spec, strat = self.spec, self.spec.strategies[name]
        ctx = f"strategy {name!r}"
        overrides = {
            k: parse_expression(v, f"{ctx} parameter {k!r}") for k, v in strat.parameters.items()
        }
        unknown = set(overrides) - self.params.all_names()
        if unknown:
            raise HeconError(
                f"{ctx}: overrides parameters {sorted(unknown)} that the model does not define"
            )
        evaluator = ParameterEvaluator(
            self.params,
            self.settings.cycles,
            int(self.tunnel.max()),
            self.settings.cycle_length,
            overrides,
            time_major=True,
        )
        known = self.params.all_names() | set(overrides)

        def expr(value: Any, where: str) -> Expression:
            e = parse_expression(value, where)
            check_names(e, known, where)
            return e

        transitions = strat.transitions if strat.transitions is not None else spec.transitions
        assert transitions is not None
        entries: list[tuple[int, int, Expression | None]] = []
        for origin in self.states:
            row = transitions.get(origin)
            o = self.index[origin]
            if row is None:  # omitted row: absorbing
                entries.append((o, o, parse_expression(1)))
                continue
            for dest, value in row.items():
                if isinstance(value, str) and value.strip() == "C":
                    entries.append((o, self.index[dest], None))
                else:
                    where = f"{ctx} transition {origin}->{dest}"
                    entries.append((o, self.index[dest], expr(value, where)))
        costs = strat.state_costs if strat.state_costs is not None else spec.state_costs
        state_costs = {
            cat: {self.index[s]: expr(v, f"{ctx} state cost {cat}[{s}]") for s, v in values.items()}
            for cat, values in costs.items()
        }
        utils = strat.state_utilities if strat.state_utilities is not None else spec.state_utilities
        utilities = {self.index[s]: expr(v, f"{ctx} utility[{s}]") for s, v in utils.items()}
        rewards_spec: list[TransitionReward] = (
            strat.transition_rewards
            if strat.transition_rewards is not None
            else spec.transition_rewards
        )
        entry_pairs = {(o, d) for o, d, _ in entries}
        rewards: list[tuple[int, int, str, Expression]] = []
        for tr in rewards_spec:
            o, d = self.index[tr.from_], self.index[tr.to]
            if (o, d) not in entry_pairs:
                raise HeconError(
                    f"{ctx}: transition reward on {tr.from_}->{tr.to}, but that transition is "
                    "not in the matrix"
                )
            where = f"{ctx} transition reward {tr.from_}->{tr.to}"
            for cat, v in tr.costs.items():
                rewards.append((o, d, f"cost:{cat}", expr(v, f"{where} cost {cat}")))
            if tr.qaly is not None:
                rewards.append((o, d, "qaly", expr(tr.qaly, f"{where} qaly")))
        init_spec = strat.initial if strat.initial is not None else spec.initial
        assert init_spec is not None
        initial = {self.index[s]: expr(v, f"{ctx} initial[{s}]") for s, v in init_spec.items()}
        ic = strat.initial_costs if strat.initial_costs is not None else spec.initial_costs
        initial_costs = {c: expr(v, f"{ctx} initial cost {c}") for c, v in ic.items()}
        return _Strategy(
            name, evaluator, entries, state_costs, utilities, rewards, initial, initial_costs
        )

    # --- evaluation ----------------------------------------------------------------------

    def _value(
        self,
        strat: _Strategy,
        e: Expression,
        ns: Mapping[str, Any],
        state: int,
        where: str,
        check_finite: bool = True,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Evaluate `e` for `state`: shape (T|1, d|1, k_state) (time-major namespace); into
        `out` when it can (see :meth:`Expression.evaluate`). A formula that reads nothing
        (a number such as a transition cost of 3000) is evaluated once per model: read-only,
        the same array for every chunk and strategy."""
        context = f"strategy {strat.name!r} {where}"
        if out is None and not e.names and not e.calls:
            v = self._constants.get(id(e))
            if v is None:
                v = e.evaluate(ns, context, check_finite)
                v.flags.writeable = False
                self._constants[id(e)] = v
            elif check_finite:
                e.check_finite(v, context)
        else:
            v = e.evaluate(ns, context, check_finite, out)
        v = v.reshape((1,) * (3 - v.ndim) + v.shape) if v.ndim < 3 else v
        k = int(self.tunnel[state])
        if v.shape[2] > 1:
            if k == 1:
                raise HeconError(
                    f"strategy {strat.name!r} {where}: uses state_time but state "
                    f"{self.states[state]!r} has no tunnel (set 'tunnel: k' on the state)"
                )
            v = v[:, :, :k]
        elif k > 1:
            v = np.broadcast_to(v, (v.shape[0], v.shape[1], k))
        return v

    def _entry_tables(
        self, strat: _Strategy, ns: Mapping[str, Any], d: int, draw0: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[int], list[tuple[int, int]]]:
        """Expanded entry values, checked, in row order: (const (n_c, d), tv (T, n_tv, d),
        origins, destinations in constant-then-time-varying order, the order and the entry
        keys); see :meth:`_entry_plan`."""
        plan, origins, dests, order, keys = self._entry_plan(strat, ns, d, draw0)
        tv = np.empty((self.settings.cycles, plan.n_tv, d))
        plan.fill(0, self.settings.cycles, tv)
        return plan.const, tv, origins, dests, order, keys

    def _entry_plan(
        self,
        strat: _Strategy,
        ns: Mapping[str, Any],
        d: int,
        draw0: int,
        by_rank: bool = False,
    ) -> tuple[_EntryPlan, np.ndarray, np.ndarray, list[int], list[tuple[int, int]]]:
        """Expanded entry values: (their plan, origins, destinations in constant-then-
        time-varying order, the order and the entry keys). Within each part entries are in
        row order, or with `by_rank` by their rank within their row first (every row's first
        entry, then every row's second, ...): the origins of a rank are then increasing rows,
        mostly runs of consecutive ones (see
        :func:`~permedhub.hecon.markov_flows.origin_runs`). Constant rows are checked here;
        time-varying ones as their cycles are filled (:class:`_EntryPlan`)."""
        # a value shared with an earlier strategy of the block was checked there already
        cache = ns.cache if isinstance(ns, Namespace) else None
        nonnegative: set[int] = set()  # ids of the columns known to be >= 0
        values: list[tuple[np.ndarray, list[np.ndarray]]] = []  # (value, its columns)
        evaluated: list[tuple[Expression, str, np.ndarray]] = []
        rows: dict[int, list[tuple[int, np.ndarray | None]]] = {}
        for o, dst, e in strat.entries:
            for tau in range(int(self.tunnel[o])):
                rows.setdefault(int(self.offset[o]) + tau, [])
            if e is None:
                for tau in range(int(self.tunnel[o])):
                    rows[int(self.offset[o]) + tau].append((dst, None))
                continue
            where = f"transition {self.states[o]}->{self.states[dst]}"
            # finiteness follows from the range check below (NaN and inf fail it)
            v = self._value(strat, e, ns, o, where, check_finite=False)
            evaluated.append((e, f"strategy {strat.name!r} {where}", v))
            checked = cache is not None and cache.checked(v, "nonnegative probability")
            columns = []
            for tau in range(int(self.tunnel[o])):
                column = v[:, :, tau]  # (T|1, d|1)
                columns.append(column)
                rows[int(self.offset[o]) + tau].append((dst, column))
                if checked:
                    nonnegative.add(id(column))
            values.append((v, columns))
        # Find the explicit entries >= 0 and give every expanded entry a slot, constant
        # (n_c, d) or time-varying (T, n_tv, d); a complement is time-varying when any entry of
        # its row is. Values are time-major (T|1, d|1), the packed layout: no transposes.
        layout: list[tuple[int, int, int, int, np.ndarray | None, bool]] = []
        ranks: list[int] = []
        for row_exp, items in rows.items():
            o = int(np.searchsorted(self.offset, row_exp, side="right") - 1)
            tau = row_exp - int(self.offset[o])
            for _, val in items:  # NaN fails the test
                if val is not None and id(val) not in nonnegative and val.min() >= 0:
                    nonnegative.add(id(val))
            row_tv = any(val is not None and val.shape[0] > 1 for _, val in items)
            for rank, (dst, val) in enumerate(items):
                is_tv = (val.shape[0] > 1) if val is not None else row_tv
                layout.append((row_exp, o, tau, dst, val, is_tv))
                ranks.append(rank)
        const_pos = [i for i, item in enumerate(layout) if not item[5]]
        tv_pos = [i for i, item in enumerate(layout) if item[5]]
        if by_rank:
            const_pos.sort(key=lambda i: (ranks[i], layout[i][0]))
            tv_pos.sort(key=lambda i: (ranks[i], layout[i][0]))
        order = const_pos + tv_pos
        slot = {i: j for j, i in enumerate(const_pos)} | {i: j for j, i in enumerate(tv_pos)}
        const = np.empty((len(const_pos), d))
        by_row: dict[int, list[int]] = {}
        for i, item in enumerate(layout):
            by_row.setdefault(item[0], []).append(i)
        plan_rows: list[_Row] = []
        for members in by_row.values():
            _, o, tau, _, _, _ = layout[members[0]]
            comp = [i for i in members if layout[i][4] is None]
            explicit = [i for i in members if layout[i][4] is not None]
            known = [entry for i in explicit if (entry := layout[i][4]) is not None]
            for i in explicit:
                if not layout[i][5]:
                    const[slot[i]] = known[explicit.index(i)][0]
            plan_rows.append(
                _Row(
                    o,
                    tau,
                    known,
                    [(layout[i][5], slot[i]) for i in explicit],
                    slot[comp[0]] if comp else None,
                    layout[comp[0]][3] if comp else -1,
                    all(id(value) in nonnegative for value in known),
                    any(layout[i][5] for i in members),
                )
            )

        def check_rows() -> None:
            self._check_rows(strat, rows, plan_rows, evaluated, d, draw0)

        plan = _EntryPlan(const, len(tv_pos), plan_rows, check_rows)
        for row in plan_rows:  # constant rows: their complement into the constant table
            if row.time_varying:
                continue
            if row.complement is None:
                total = _row_total(row.known, np.empty((1, d)))
                plan.quick_check(row.nonnegative, total, None)
                continue
            total = _row_total(row.known, const[row.complement][None, :])
            high = float(total.max())
            rest = np.subtract(1.0, total, out=total)
            if high > 1:  # rounding can leave -1e-17 where the rest is exactly 1
                rest[(rest < 0) & (rest > -PROB_TOL)] = 0.0
            plan.quick_check(row.nonnegative, rest, high)
        if cache is not None:
            for v, columns in values:
                if all(id(column) in nonnegative for column in columns):
                    cache.mark_checked(v, "nonnegative probability")
        return (
            plan,
            np.asarray([layout[i][0] for i in order]),
            np.asarray(
                [self._destination(layout[i][1], layout[i][2], layout[i][3]) for i in order]
            ),
            order,
            [(layout[i][1], layout[i][3]) for i in order],
        )

    def _check_rows(
        self,
        strat: _Strategy,
        rows: Mapping[int, list[tuple[int, np.ndarray | None]]],
        plan_rows: list[_Row],
        evaluated: list[tuple[Expression, str, np.ndarray]],
        d: int,
        draw0: int,
    ) -> None:
        """The detailed checks of every row in every cycle (see :meth:`_check_in_detail`)
        when some row did not pass the quick test."""
        t_cycles = self.settings.cycles
        suspects: list[tuple[int, int, int, np.ndarray, bool]] = []
        for row in plan_rows:
            total = _row_total(row.known, np.empty((t_cycles if row.time_varying else 1, d)))
            if row.complement is None:
                if not (row.nonnegative and np.abs(total - 1.0).max() <= PROB_TOL):
                    suspects.append((row.origin, row.tau, -1, total, False))
                continue
            high = total.max()
            rest = np.subtract(1.0, total, out=total)
            if high > 1:
                rest[(rest < 0) & (rest > -PROB_TOL)] = 0.0
            if not (row.nonnegative and high <= 1 + PROB_TOL):
                suspects.append((row.origin, row.tau, row.complement_destination, rest, True))
        if suspects:
            self._check_in_detail(strat, rows, evaluated, suspects, draw0)

    def _check_in_detail(
        self,
        strat: _Strategy,
        rows: Mapping[int, list[tuple[int, np.ndarray | None]]],
        evaluated: list[tuple[Expression, str, np.ndarray]],
        suspects: list[tuple[int, int, int, np.ndarray, bool]],
        draw0: int,
    ) -> None:
        """The full checks of an entry table whose rows did not all pass the quick test:
        every explicit entry in [0, 1] (a non-finite value named first), then each suspect
        row's complement in [0, 1] (is_rest) or its total equal to 1; the first failure
        raises, as the rows pass that lie within the tolerance."""
        for row_exp, items in rows.items():
            o = int(np.searchsorted(self.offset, row_exp, side="right") - 1)
            tau = row_exp - int(self.offset[o])
            for dst, val in items:
                if val is not None and not _in_range(val):
                    for expr, context, value in evaluated:
                        expr.check_finite(value, context)
                    self._check_range(strat, o, dst, tau, val, draw0, False)
        for o, tau, dst, value, is_rest in suspects:
            if is_rest:
                if value.min() < -PROB_TOL or value.max() > 1 + PROB_TOL:
                    self._check_range(strat, o, dst, tau, value, draw0, True)
            else:
                self._check_sum(strat, o, tau, value, draw0)

    def _flow_sum(self, destinations: np.ndarray) -> FlowSum:
        """The entry-to-state sums of an entry layout (found once per layout)."""
        key = destinations.tobytes()
        if key not in self._flow_sums:
            self._flow_sums[key] = FlowSum(destinations, self.n_expanded)
        return self._flow_sums[key]

    def _destination(self, origin: int, tau: int, dest: int) -> int:
        k = int(self.tunnel[dest])
        if dest == origin and k > 1:
            return int(self.offset[dest]) + min(tau + 1, k - 1)
        return int(self.offset[dest])

    def _check_range(
        self,
        strat: _Strategy,
        o: int,
        dst: int,
        tau: int,
        v: np.ndarray,
        draw0: int,
        complement: bool,
    ) -> None:
        if v.min() >= -PROB_TOL and v.max() <= 1 + PROB_TOL:
            return
        bad = (v < -PROB_TOL) | (v > 1 + PROB_TOL)  # v is (T|1, d|1)
        if np.any(bad):
            ti, di = np.argwhere(bad)[0]
            where = f" (state_time {tau + 1})" if self.tunnel[o] > 1 else ""
            raise ProbabilityError(
                f"strategy {strat.name!r}: transition probability {self.states[o]}->"
                f"{self.states[dst]}{where} is {float(v[ti, di]):.6g}"
                f"{_cycle_and_draw(v.shape, ti, di, draw0)}; expected a probability in [0, 1]"
                + (
                    " (it is the complement 'C': the other entries sum to more than 1)"
                    if complement
                    else ""
                )
            )

    def _check_sum(self, strat: _Strategy, o: int, tau: int, total: np.ndarray, draw0: int) -> None:
        if np.abs(total - 1.0).max() <= PROB_TOL:
            return
        bad = np.abs(total - 1.0) > PROB_TOL  # total is (T|1, d)
        if np.any(bad):
            ti, di = np.argwhere(bad)[0]
            raise ProbabilityError(
                f"strategy {strat.name!r}: transitions from state {self.states[o]!r} sum to "
                f"{float(total[ti, di]):.10g}{_cycle_and_draw(total.shape, ti, di, draw0)}; "
                "expected 1 (use 'C' for the rest of the row)"
            )

    def _initial(self, strat: _Strategy, ns: Mapping[str, Any], d: int, draw0: int) -> np.ndarray:
        m = np.zeros((d, self.n_expanded))
        for s, e in strat.initial.items():
            v = e.evaluate(ns, f"strategy {strat.name!r} initial[{self.states[s]}]")
            if v.ndim == 3 and (v.shape[0] > 1 or v.shape[2] > 1):
                raise HeconError(
                    f"strategy {strat.name!r}: initial[{self.states[s]}] must not depend on "
                    "model_time or state_time"
                )
            v = np.broadcast_to(v.reshape(-1), (d,)) if v.size in (1, d) else v.reshape(-1)
            if np.any((v < -PROB_TOL) | (v > 1 + PROB_TOL)):
                raise ProbabilityError(
                    f"strategy {strat.name!r}: initial[{self.states[s]}] = "
                    f"{float(v[np.argmax((v < 0) | (v > 1))]):.6g}; expected a proportion in [0, 1]"
                )
            m[:, self.offset[s]] += v
        total = m.sum(axis=1)
        if np.any(np.abs(total - 1) > 1e-9):
            i = int(np.argmax(np.abs(total - 1)))
            raise ProbabilityError(
                f"strategy {strat.name!r}: initial state distribution sums to "
                f"{float(total[i]):.10g} (draw {draw0 + i}); expected 1"
            )
        return m

    def _check_costs(
        self, strat: _Strategy, values: np.ndarray, what: str, cache: EvalCache | None = None
    ) -> None:
        if self.settings.allow_negative_costs or (
            cache is not None and cache.checked(values, "cost")
        ):
            return
        if cache is not None and values.min() >= 0:
            cache.mark_checked(values, "cost")
            return
        if np.any(values < 0):
            raise HeconError(
                f"strategy {strat.name!r}: negative {what} ({float(values.min()):.6g}); costs must "
                "be >= 0 unless settings.allow_negative_costs is true"
            )

    def _run_chunk(
        self,
        strat: _Strategy,
        sampled: Mapping[str, np.ndarray],
        d: int,
        draw0: int,
        keep_cash: bool = False,
        cache: EvalCache | None = None,
        workspace: _Workspace | None = None,
    ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
        """Run one chunk of `d` draws. Internal layout is (states, draws) so that each cycle
        works on contiguous rows; returns per-draw outcomes, the summed (over draws) expanded
        trace (T+1, S_exp) and undiscounted cash flows per cost category (d, T+1)."""
        st = self.settings
        t_cycles = st.cycles
        ns = strat.evaluator.namespace(sampled, cache)
        work = workspace or _Workspace()
        plan, origins, dests, _, keys = self._entry_plan(strat, ns, d, draw0, by_rank=True)
        kernel = plan.kernel_inputs(origins)
        if not kernel.nonnegative:  # what the quick check of the first cycles would find
            plan.check_all()
        trace = work.array("trace", (t_cycles + 1, self.n_expanded, d))
        try:
            reward_cols, rewarded = self._reward_columns(strat, ns, origins, keys)
            trace[0] = self._initial(strat, ns, d, draw0).T  # (S_exp, d)
        except HeconError:
            plan.check_all()  # a bad entry in a later cycle is reported first, as it was found
            raise
        kinds, reward_matrix = _constant_rewards(reward_cols, len(origins))
        empty_store = np.empty((0, 0, 0))
        if reward_matrix is not None:  # constant rewards: their per-cycle sums, not the flows
            events = work.array("events", (t_cycles, len(kinds), d))
            flow_store = None
            # only the columns from the first to the last rewarded entry (by rank, typically
            # every row's 'die': one run)
            reward_first = int(rewarded[0])
            matrix = np.ascontiguousarray(reward_matrix[:, reward_first : int(rewarded[-1]) + 1])
            stored = np.zeros(0, dtype=np.int64)
        else:
            events = empty_store
            reward_first, matrix = 0, np.zeros((0, 0))
            flow_store = (
                work.array("flow store", (t_cycles, len(rewarded), d)) if len(rewarded) else None
            )
            stored = rewarded.astype(np.int64)
        kept = set(stored.tolist())
        if reward_matrix is not None:
            kept.update(range(reward_first, reward_first + matrix.shape[1]))
        flow_ops, empty, direct = self._flow_sum(dests).kernel_ops(frozenset(kept))
        high, off = cycle_loop(
            trace,
            plan.const,
            kernel.values,
            kernel.row_ptr,
            kernel.row_values,
            kernel.row_complement,
            kernel.entries,
            direct,
            flow_ops,
            empty,
            matrix,
            reward_first,
            events,
            stored,
            flow_store if flow_store is not None else empty_store,
            self._alive_weights,
            alive_points := work.array("alive points", (t_cycles + 1, d)),
            PROB_TOL,
            KERNEL_TILE,
        )
        if high > 1 + PROB_TOL or off > PROB_TOL:
            plan.check_all()  # the quick test failed: every cycle in detail
        totals = (
            {kind: events[:, i] for i, kind in enumerate(kinds)}
            if reward_matrix is not None
            else None
        )
        return self._accumulate(
            strat,
            ns,
            trace,
            flow_store,
            rewarded,
            reward_cols,
            d,
            keep_cash,
            totals,
            work,
            alive_points,
        )

    def _reward_columns(
        self,
        strat: _Strategy,
        ns: Mapping[str, Any],
        origins: np.ndarray,
        keys: list[tuple[int, int]],
    ) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], np.ndarray]:
        """Transition rewards on selected entries: (kind, columns, values (T|1, n_cols, d|1))
        and the sorted union of rewarded entry columns."""
        reward_cols: list[tuple[str, np.ndarray, np.ndarray]] = []
        for o, dst, kind, e in strat.rewards:
            cols = np.array([i for i, k in enumerate(keys) if k == (o, dst)])
            v = self._value(strat, e, ns, o, f"transition reward {kind}")  # (T|1, d|1, k_o)
            if kind.startswith("cost:"):
                where = f"transition cost {self.states[o]}->{self.states[dst]}"
                self._check_costs(strat, v, where, ns.cache if isinstance(ns, Namespace) else None)
            taus = origins[cols] - int(self.offset[o])
            reward_cols.append((kind, cols, np.transpose(v[:, :, taus], (0, 2, 1))))
        rewarded = (
            np.unique(np.concatenate([c for _, c, _ in reward_cols]))
            if reward_cols
            else np.zeros(0, dtype=int)
        )

        return reward_cols, rewarded

    def _accumulate(
        self,
        strat: _Strategy,
        ns: Mapping[str, Any],
        trace: np.ndarray,
        flow_store: np.ndarray | None,
        rewarded: np.ndarray,
        reward_cols: list[tuple[str, np.ndarray, np.ndarray]],
        d: int,
        keep_cash: bool = False,
        event_totals: Mapping[str, np.ndarray] | None = None,
        workspace: _Workspace | None = None,
        alive_points: np.ndarray | None = None,
    ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
        """Costs, QALYs and LYs per draw (or patient) from a trace (T+1, S_exp, d) and the
        flows of rewarded entries (T, n_rewarded, d), or else the per-cycle transition
        rewards of each kind, `event_totals` (T, d). Stacks of state values are built in
        the `workspace` buffers (else fresh arrays). `alive_points` (T+1, d), the occupancy
        of the alive states, is summed here unless the cycle loop gave it."""
        work = workspace or _Workspace()
        st = self.settings
        t_cycles = st.cycles
        length = st.cycle_length
        cost_op = occupancy_operator(
            st.counting, st.discount_costs, st.discount_method, t_cycles, length
        )
        out_op = occupancy_operator(
            st.counting, st.discount_outcomes, st.discount_method, t_cycles, length
        )
        undisc_op = occupancy_operator(st.counting, 0.0, st.discount_method, t_cycles, length)
        ev_w = self.event_weights
        ev_cost = event_discount(st.discount_costs, st.discount_method, t_cycles, length)
        ev_out = event_discount(st.discount_outcomes, st.discount_method, t_cycles, length)

        def cycle_factor(rate: float) -> np.ndarray | None:
            """delta_t if the operator of `rate` is delta_t times undisc_op on both points of
            every cycle (all but 'point' discounting), else None."""
            prev, cur = discount_weights(rate, st.discount_method, t_cycles, length)
            return prev if np.array_equal(prev, cur) else None

        def total(op: tuple[np.ndarray, np.ndarray], rp: np.ndarray, rc: np.ndarray) -> np.ndarray:
            return _weigh(op[0], rp) + _weigh(op[1], rc)

        summed: dict[tuple[bytes, bytes], np.ndarray] = {}
        cache = ns.cache if isinstance(ns, Namespace) else None

        def point_sums(op: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
            """sum_t op_prev[t] m_{t-1} + op_cur[t] m_t, (S, d): weights of constant values;
            once per distinct operator (costs and outcomes often share one)."""
            key = (op[0].tobytes(), op[1].tobytes())
            if key not in summed:
                flat = trace.reshape(t_cycles + 1, -1)
                sums = _weigh(op[1], flat[1:])
                rows = np.flatnonzero(op[0])
                if rows.size:
                    sums += _weigh(op[0][rows], flat[:-1][rows])
                summed[key] = sums.reshape(trace.shape[1:])
            return summed[key]

        def state_rewards(
            exprs: Mapping[int, Expression],
            what: str,
            rate: float,
            is_cost: bool,
            cash: np.ndarray | None = None,
        ) -> tuple[np.ndarray, np.ndarray]:
            """Per-draw (discounted with `op`, undiscounted) totals of the state values
            `exprs`, without building a (d, T, S) array of them; adds the undiscounted
            per-cycle values to `cash` (T, d) when given."""
            disc, undisc = np.zeros(d), np.zeros(d)
            op = cost_op if is_cost else out_op
            factor = cycle_factor(rate)
            sums: dict[int, np.ndarray] = {}
            streams: np.ndarray | None = None
            # a stack of values that every strategy of the block shares is kept (once per
            # block), under their expressions' cache keys: its states are not evaluated again
            keys = [(s, e.cache_key(ns)) for s, e in exprs.items()]
            plan = None
            if cache is not None and all(key is not None for _, key in keys):
                plan = ("stacked state values", what, rate, cash is None, tuple(keys))
            kept = cache.leaves.get(plan) if cache is not None and plan is not None else None
            # states without sub-states whose values vary by cycle (by the shapes of what
            # they read), in row order: evaluated straight into one (T, states, d) stack,
            # summed over the states by one product
            stacked = sorted(
                (int(self.offset[s]), s)
                for s, e in exprs.items()
                if not (kept is not None and s in kept[0])
                and self.tunnel[s] == 1
                and factor is not None
                and (cash is not None or _cycles_read(e, ns) > 1)
            )
            stack = None
            if stacked:
                new_kept = plan is not None and cache is not None and kept is None
                name = "state values"  # a kept stack gets its own buffer for the block
                if new_kept and cache is not None:
                    held = sum(_is_stack_plan(key) for key in cache.leaves)
                    name = f"kept state values {held}"
                stack = work.array(name, (t_cycles, len(stacked), d))
            slots = {s: i for i, (_, s) in enumerate(stacked)}
            for s, e in exprs.items():
                if kept is not None and s in kept[0]:
                    continue
                where = f"{what}[{self.states[s]}]"
                if s in slots and stack is not None:
                    target = stack[:, slots[s], :, None]
                    v = self._value(strat, e, ns, s, where, out=target)  # (T|1, d|1, 1)
                    if is_cost:
                        self._check_costs(strat, v, what, cache)
                    if v is not target:
                        target[...] = v
                    continue
                v = self._value(strat, e, ns, s, where)  # (T|1, d|1, k)
                if is_cost:
                    self._check_costs(strat, v, what, cache)
                o, k = int(self.offset[s]), int(self.tunnel[s])
                if v.shape[0] == 1 and cash is None:  # constant: weigh the summed points
                    if not sums:
                        sums[0], sums[1] = point_sums(op), point_sums(undisc_op)
                    disc += _contract(v, sums[0][None, o : o + k])
                    undisc += _contract(v, sums[1][None, o : o + k])
                    continue
                vt = np.broadcast_to(v, (t_cycles, v.shape[1], k))
                stream = _counted_stream(vt, trace[:, o : o + k], undisc_op)  # (T, d)
                if streams is None:
                    streams = stream
                else:
                    streams += stream
                if factor is None:  # 'point' discounting: different factors on a cycle's ends
                    disc += _contract_ends(vt, trace, op, o, k)
            if kept is not None:
                stream = _stacked_stream(kept[1], kept[2], trace, undisc_op)
                streams = stream if streams is None else streams + stream
            if stacked and stack is not None:
                rows = [o for o, _ in stacked]
                if plan is not None and cache is not None and kept is None:
                    stack.flags.writeable = False
                    cache.leaves[plan] = cache.hold(({s for _, s in stacked}, rows, stack))
                    for _, key in keys:  # the stack holds them now
                        if key is not None and key[0] != "name":
                            cache.forget(key)
                stream = _stacked_stream(rows, stack, trace, undisc_op)
                streams = stream if streams is None else streams + stream
            if streams is not None:  # the undiscounted values per cycle of all states
                if cash is not None:
                    cash += streams
                undisc += streams.sum(axis=0)
                if factor is not None:
                    disc += _weigh(factor, streams)
            return disc, undisc

        def event_stream(kind: str) -> np.ndarray | None:
            """Undiscounted per-cycle transition rewards of `kind` (counting weights
            applied), (T, d)."""
            if event_totals is not None:
                found = event_totals.get(kind)
                return None if found is None else found * ev_w[:, None]
            if flow_store is None:
                return None
            acc = None
            for k, cols, rv in reward_cols:
                if k == kind:
                    pos = np.searchsorted(rewarded, cols)
                    whole = np.array_equal(pos, np.arange(len(rewarded)))
                    flows = flow_store if whole else flow_store[:, pos, :]
                    if rv.shape[0] == 1 and rv.shape[2] == 1:  # one value per column
                        part = np.einsum("tcd,c->td", flows, rv[0, :, 0])
                    else:
                        part = np.einsum("tcd,tcd->td", flows, np.broadcast_to(rv, flows.shape))
                    acc = part if acc is None else acc + part
            return acc if acc is None else acc * ev_w[:, None]

        out: dict[str, np.ndarray] = {}
        cash: dict[str, np.ndarray] = {}  # category -> undiscounted costs (d, T+1)
        for cat in self.categories:
            cost_total = np.zeros(d)
            cost_undisc = np.zeros(d)
            exprs = strat.state_costs.get(cat, {})
            flows_cash = np.zeros((t_cycles, d)) if keep_cash else None
            if exprs:
                disc, undisc = state_rewards(
                    exprs, f"state cost in category {cat!r}", st.discount_costs, True, flows_cash
                )
                cost_total += disc
                cost_undisc += undisc
            events = event_stream(f"cost:{cat}")
            if events is not None:
                cost_total += _weigh(ev_cost, events)
                cost_undisc += events.sum(axis=0)
                if flows_cash is not None:
                    flows_cash += events
            if flows_cash is not None:
                cash[cat] = np.zeros((d, t_cycles + 1))
                cash[cat][:, 1:] = flows_cash.T
            if cat in strat.initial_costs:
                v0 = strat.initial_costs[cat].evaluate(ns, f"initial cost {cat}").reshape(-1)
                self._check_costs(strat, v0, f"initial cost {cat!r}")
                v0 = np.broadcast_to(v0, (d,))
                cost_total += v0
                cost_undisc += v0
                if cat in cash:
                    cash[cat][:, 0] += v0
            out[f"cost_{cat}"] = cost_total
            out[f"cost_undiscounted_{cat}"] = cost_undisc
        for p, cats in self.perspectives.items():
            out[f"cost_{p}"] = sum((out[f"cost_{c}"] for c in cats), np.zeros(d))
        out["cost"] = out[f"cost_{self.primary}"].copy()
        out["cost_undiscounted"] = sum(
            (out[f"cost_undiscounted_{c}"] for c in self.perspectives[self.primary]), np.zeros(d)
        )
        alive_pts = (
            alive_points
            if alive_points is not None
            else np.einsum("ksd,s->kd", trace, self._alive_weights)
        )
        out["ly"] = total(out_op, alive_pts[:-1], alive_pts[1:]) * length
        out["ly_undiscounted"] = total(undisc_op, alive_pts[:-1], alive_pts[1:]) * length
        qaly = np.zeros(d)
        qaly_u = np.zeros(d)
        if strat.utilities:
            disc, undisc = state_rewards(strat.utilities, "utility", st.discount_outcomes, False)
            qaly += disc * length
            qaly_u += undisc * length
        events = event_stream("qaly")
        if events is not None:
            qaly += _weigh(ev_out, events)
            qaly_u += events.sum(axis=0)
        out["qaly"] = qaly
        out["qaly_undiscounted"] = qaly_u
        return out, trace.sum(axis=2), cash

    def bytes_per_draw(self) -> int:
        """Upper estimate of a chunk's memory per draw when every value varies by cycle:
        one (cycles + 1) row of floats per expanded state of the trace and per expression
        evaluated for a strategy (a value kept for the block, or its stack). Constant values
        take less; the time-varying entries are read in place by the cycle kernel."""
        n_values = max(len(_expressions(s)) for s in self.strategies)
        return 8 * (self.settings.cycles + 1) * (self.n_expanded + n_values)

    def run(
        self,
        n_draws: int | None = None,
        seed: int | None = None,
        chunk_size: int | None = None,
        sampled: Mapping[str, np.ndarray] | None = None,
        keep_cashflows: bool = False,
        workers: int = 1,
    ) -> MarkovResult:
        """Deterministic run (``n_draws=None``: base-case values) or PSA with `n_draws` draws.

        `sampled` may supply the stochastic parameter draws directly (e.g. for DSA or for a
        Dask chunk); otherwise they are drawn with `seed` (required for a PSA). With
        `workers` > 1 blocks of draws run on that many threads, each holding its own chunk
        (memory grows accordingly), with the same result as one worker; on the 2-core
        benchmark machine this gains nothing (Python-level work holds the GIL), hence the
        default of 1.
        """
        if sampled is not None:
            draws = {k: np.asarray(v, dtype=float).reshape(-1) for k, v in sampled.items()}
            unknown = set(draws) - set(self.params.stochastic_names) - set(self.params.expressions)
            if unknown:
                raise HeconError(
                    f"cannot set {sorted(unknown)}: not parameters of the model (tables cannot "
                    "be set)"
                )
            missing = set(self.params.stochastic_names) - set(draws)
            base = self.params.base_values()
            n = max((v.size for v in draws.values()), default=1)
            for name in missing:
                draws[name] = np.broadcast_to(base[name], (n,))
        elif n_draws is None:
            draws = self.params.base_values()
            n = 1
        else:
            if seed is None:
                raise HeconError("a PSA needs a seed (same seed => identical results)")
            draws = self.params.sample(n_draws, seed)
            n = n_draws
        for k, v in draws.items():
            if v.size not in (1, n):
                raise HeconError(f"sampled parameter {k!r} has {v.size} values, expected {n}")
            draws[k] = np.broadcast_to(v, (n,))
        if workers < 1:
            raise HeconError(f"workers must be >= 1, got {workers}")
        if chunk_size is None:
            chunk_size = max(64, CHUNK_BYTES // self.bytes_per_draw())
        starts = list(range(0, n, chunk_size))
        frames = []
        traces = []
        cashflows: dict[str, dict[str, np.ndarray]] = {}
        names = [s.name for s in self.strategies]
        parts: dict[str, list[dict[str, np.ndarray]]] = {s: [] for s in names}
        trace_sums = {s: np.zeros((self.settings.cycles + 1, self.n_expanded)) for s in names}
        cash_parts: dict[str, list[dict[str, np.ndarray]]] = {s: [] for s in names}

        local = threading.local()  # one workspace per worker thread

        def run_block(start: int) -> list[tuple[dict[str, np.ndarray], np.ndarray, Any]]:
            """Every strategy on draws start..start+chunk_size. Chunks are outside, strategies
            inside: the strategies of one chunk share an EvalCache, so what no strategy
            overrides (life-table lookups, cost streams) is evaluated once."""
            stop = min(n, start + chunk_size)
            chunk = {k: v[start:stop] for k, v in draws.items()}
            cache = EvalCache(self.repeated)
            if not hasattr(local, "workspace"):
                local.workspace = _Workspace()
            workspace: _Workspace = local.workspace
            return [
                self._run_chunk(strat, chunk, stop - start, start, keep_cashflows, cache, workspace)
                for strat in self.strategies
            ]

        if workers > 1 and len(starts) > 1:
            # NumPy releases the GIL in its loops; blocks are independent and collected in
            # order, so the result is the same as a serial run
            with ThreadPoolExecutor(min(workers, len(starts))) as pool:
                blocks = list(pool.map(run_block, starts))
        else:
            blocks = [run_block(start) for start in starts]
        for block in blocks:
            for strat, (res, tr, cash) in zip(self.strategies, block, strict=True):
                parts[strat.name].append(res)
                trace_sums[strat.name] += tr
                if keep_cashflows:
                    cash_parts[strat.name].append(cash)
        for strat in self.strategies:
            trace_sum = trace_sums[strat.name]
            cols = {
                k: np.concatenate([p[k] for p in parts[strat.name]]) for k in parts[strat.name][0]
            }
            frame = pd.DataFrame({"strategy": strat.name, "draw": np.arange(n), **cols})
            frames.append(frame)
            mean_trace = np.add.reduceat(trace_sum, self.offset, axis=1) / n
            tf = pd.DataFrame(mean_trace, columns=self.states)
            tf.insert(0, "cycle", np.arange(self.settings.cycles + 1))
            tf.insert(0, "strategy", strat.name)
            traces.append(tf)
            if keep_cashflows:
                cashflows[strat.name] = {
                    c: np.concatenate([part[c] for part in cash_parts[strat.name]])
                    for c in self.categories
                }
        summary = pd.concat(frames, ignore_index=True)
        _assert_finite(summary)
        return MarkovResult(
            summary=summary,
            trace=pd.concat(traces, ignore_index=True),
            cashflows=cashflows,
            strategies=[s.name for s in self.strategies],
            effect=self.settings.effect,
            n_draws=n,
            parameters={k: np.asarray(v) for k, v in draws.items()},
            cycle_length=self.settings.cycle_length,
        )


def _expressions(strat: _Strategy) -> list[Expression]:
    """Every expression evaluated for `strat` in one block of draws."""
    exprs = list(strat.evaluator.expressions.values())
    exprs += [e for _, _, e in strat.entries if e is not None]
    exprs += [e for values in strat.state_costs.values() for e in values.values()]
    exprs += list(strat.utilities.values()) + [e for *_, e in strat.rewards]
    return exprs + list(strat.initial.values()) + list(strat.initial_costs.values())


def _contract(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum over cycles t and sub-states k of v[t, :, k] * w[t, k, :], per draw: v is
    (T|1, d|1, k), w is (T|1, k, d) with the same (or a summed, length-1) cycle axis."""
    if v.shape[1] == 1:
        return np.einsum("tk,tkd->d", v[:, 0], w)
    return np.einsum("tdk,tkd->d", v, w)


def _in_range(v: np.ndarray) -> bool:
    """All of `v` a probability (within PROB_TOL); False for NaN and infinities too."""
    return bool(v.min() >= -PROB_TOL and v.max() <= 1 + PROB_TOL)


def _weigh(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """sum_t weights[t] * values[t, ...] by einsum with a 1-d `weights`, which (unlike a 2-d
    one, or matmul) does not go to BLAS (see :func:`_unthreaded`)."""
    return np.einsum("t,t...->...", weights, values)


def _unthreaded(x: np.ndarray) -> np.ndarray:
    """Matrix `x` as a strided view: NumPy's matmul then uses its own loop instead of BLAS
    (whose gemm needs unit strides), whose threads gain nothing on these small products but
    keep a second core busy and contend with run()'s worker threads."""
    out = np.zeros((*x.shape[:-1], 2 * x.shape[-1]))[..., ::2]
    out[...] = x
    return out


def _constant_rewards(
    reward_cols: list[tuple[str, np.ndarray, np.ndarray]], n_entries: int
) -> tuple[list[str], np.ndarray | None]:
    """When every transition reward is one number per entry (the same in every cycle and
    draw): the reward kinds and the (kinds, entries) matrix that sums them from the flows of
    a cycle; else ([], None)."""
    if not reward_cols or any(rv.shape[0] != 1 or rv.shape[2] != 1 for *_, rv in reward_cols):
        return [], None
    kinds = list(dict.fromkeys(kind for kind, *_ in reward_cols))
    matrix = np.zeros((len(kinds), n_entries))
    for kind, cols, rv in reward_cols:
        matrix[kinds.index(kind), cols] += rv[0, :, 0]
    return kinds, _unthreaded(matrix)


def _is_stack_plan(key: Any) -> bool:
    """Whether `key` of an EvalCache's leaves names a kept stack of state values."""
    return isinstance(key, tuple) and key[:1] == ("stacked state values",)


def _cycles_read(e: Expression, ns: Mapping[str, Any]) -> int:
    """The length of the cycle axis of the values `e` reads in the time-major namespace
    `ns` (1: its value is the same in every cycle)."""
    values = [ns[n] for n in e.names if n in ns]
    return max((np.shape(v)[0] for v in values if np.ndim(v) == 3), default=1)


def _stacked_stream(
    rows: list[int], stack: np.ndarray, trace: np.ndarray, op: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """The counted stream (see :func:`_counted_stream`) summed over several states without
    sub-states (trace `rows`) from their stacked values (T, states, d), contracted against the
    trace by one product (compiled, reading the trace in place, when the rows are
    consecutive)."""
    if rows != list(range(rows[0], rows[0] + len(rows))):
        return _counted_stream(stack, trace[:, rows], op, _per_cycle_stacked)
    values = stack.view()
    values.flags.writeable = False  # one compiled signature for kept and fresh stacks
    first = rows[0]

    def per_cycle(cycles: np.ndarray, points: np.ndarray) -> np.ndarray:
        return stacked_products(values, trace, first, cycles, points)

    prev, cur = op
    cycles = np.arange(stack.shape[0])
    out = per_cycle(cycles, cycles + 1) if cur.any() else np.zeros((stack.shape[0], trace.shape[2]))
    _scale_stream(out, prev, cur, lambda at: per_cycle(at, at))
    return out


def _per_cycle_stacked(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_i v[t, i, :] * w[t, i, :] per cycle and draw; v and w are (T, n, d)."""
    return np.einsum("tid,tid->td", v, w)


def _counted_stream(
    v: np.ndarray,
    points: np.ndarray,
    op: tuple[np.ndarray, np.ndarray],
    per_cycle: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Per cycle t and draw: sum_k v[t, :, k] * (op_prev[t] m_{t-1} + op_cur[t] m_t), from
    v (T, d|1, k) and the trace points (T+1, k, d) of the sub-states. The counted occupancy
    is not built: the weights are applied to the few cycles where they are not 1 / 0.
    `per_cycle` replaces :func:`_per_cycle` for other layouts of `v`."""
    prev, cur = op
    per_cycle = per_cycle or _per_cycle
    out = per_cycle(v, points[1:]) if cur.any() else np.zeros((v.shape[0], points.shape[2]))
    _scale_stream(out, prev, cur, lambda rows: per_cycle(v[rows], points[:-1][rows]))
    return out


def _scale_stream(
    out: np.ndarray,
    prev: np.ndarray,
    cur: np.ndarray,
    at_start: Callable[[np.ndarray], np.ndarray],
) -> None:
    """Weigh the per-cycle stream `out` (T, d) of the cycles' end points by `cur` where it
    is not 1 and add the start points of the cycles where `prev` is not 0, whose products
    `at_start(cycles)` gives (see :func:`_counted_stream`)."""
    scaled = np.flatnonzero(cur != 1)
    if scaled.size == cur.size:
        out *= cur[:, None]
    elif scaled.size:
        out[scaled] *= cur[scaled, None]
    rows = np.flatnonzero(prev)
    if rows.size:
        out[rows] += prev[rows, None] * at_start(rows)


def _per_cycle(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_k v[t, :, k] * w[t, k, :] per cycle and draw; v is (T, d|1, k), w (T, k, d)."""
    if v.shape[2] == 1:  # one sub-state: a plain product
        return np.multiply(v[:, :, 0], w[:, 0, :])
    if v.shape[1] == 1:
        return np.einsum("tk,tkd->td", v[:, 0], w)
    return np.einsum("tdk,tkd->td", v, w)


def _contract_ends(
    v: np.ndarray, trace: np.ndarray, op: tuple[np.ndarray, np.ndarray], o: int, k: int
) -> np.ndarray:
    """sum_t v[t] * (op_prev[t] m_{t-1} + op_cur[t] m_t) over sub-states o..o+k, per draw;
    v is (T, d|1, k)."""
    out = np.zeros(trace.shape[2])
    for weights, points in ((op[0], trace[:-1, o : o + k]), (op[1], trace[1:, o : o + k])):
        rows = np.flatnonzero(weights)
        if rows.size:
            out += _contract(v[rows], points[rows] * weights[rows, None, None])
    return out


def _assert_finite(frame: pd.DataFrame) -> None:
    numeric = frame.select_dtypes("number")
    if not np.all(np.isfinite(numeric.to_numpy())):
        bad = numeric.columns[~np.isfinite(numeric.to_numpy()).all(axis=0)].tolist()
        raise HeconError(f"model produced non-finite results in {bad}; check the inputs")


def run_model(spec: ModelSpec, n_draws: int | None = None, seed: int | None = None) -> MarkovResult:
    """Compile and run a model (deterministic when `n_draws` is None)."""
    return MarkovModel(spec).run(n_draws=n_draws, seed=seed)
