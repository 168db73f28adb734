"""Summing a cycle's entry flows into the next cohort, without a matrix product.

The Markov engine keeps one flow row per non-zero transition entry, ``flows[e] =
m[origin[e]] * value[e]`` (entries, draws), and the next cohort is ``m'[j] = sum of the
flows of the entries into j``. A 0/1 incidence matrix does that in one product, but NumPy's
unthreaded matmul makes ``states x entries`` multiply-adds per draw for the handful that are
not zero, and it was most of a cycle's time. A :class:`FlowSum` does the same sums with a
few slice operations found once per entry layout: the entries into the states form regular
patterns in the entry order (every stage's 'stay', every stage's 'progress', every stage's
'die'), and each pattern that is an arithmetic run of entries into consecutive states is one
copy or add of a strided view.

* A state with one or two entries in: its first entry is copied, its second added
  (``a + b``: the matrix product's sum, ``0 + a + b``, rounded the same way).
* A state with three or more (typically 'dead'): each arithmetic run of its entries summed
  by one reduction; the order of the additions may differ from the product's, by rounding.
* A state with none: zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LIGHT = 2  # states with at most this many entries in are copied/added rank by rank


@dataclass(frozen=True)
class _Op:
    kind: str  # "copy" | "add" (rows to rows) | "reduce" | "reduce_add" (rows to one state)
    rows: slice  # entry rows of the flows
    states: slice | int  # destination state(s)


def _arithmetic_runs(values: list[int]) -> list[slice]:
    """`values` (increasing) as maximal slices with one positive step each."""
    runs: list[slice] = []
    i = 0
    while i < len(values):
        j = i + 1
        step = values[j] - values[i] if j < len(values) else 1
        while j < len(values) and values[j] - values[j - 1] == step:
            j += 1
        runs.append(slice(values[i], values[j - 1] + 1, step))
        i = j
    return runs


def _paired_runs(pairs: list[tuple[int, int]]) -> list[tuple[slice, slice]]:
    """(state, row) pairs sorted by state as (rows, states) slices: consecutive states whose
    rows advance by one positive step."""
    runs: list[tuple[slice, slice]] = []
    i = 0
    while i < len(pairs):
        j = i + 1
        step = pairs[j][1] - pairs[i][1] if j < len(pairs) else 1
        while (
            j < len(pairs)
            and step > 0
            and pairs[j][0] == pairs[j - 1][0] + 1
            and pairs[j][1] - pairs[j - 1][1] == step
        ):
            j += 1
        if j == i + 1:
            step = 1
        rows = slice(pairs[i][1], pairs[j - 1][1] + 1, step)
        runs.append((rows, slice(pairs[i][0], pairs[j - 1][0] + 1)))
        i = j
    return runs


def run_key(run: slice) -> tuple[int, int, int]:
    """A run of entry rows as (start, stop, step), the keys of :meth:`FlowSum.copies`."""
    return (run.start, run.stop, 1 if run.step is None else run.step)


def origin_runs(origins: np.ndarray) -> list[tuple[slice, slice]]:
    """An entry layout's origins as (entries, origin states) slice pairs: runs of consecutive
    entries whose origins advance by one positive step, so that a cycle's flows of a run are
    one product of a view of the cohort (no gather of its rows)."""
    return [
        (slice(entries.start, entries.stop, 1), states)
        for states, entries in _paired_runs([(i, int(o)) for i, o in enumerate(origins)])
    ]


class FlowSum:
    """``out[j] = sum of flows[e] over the entries e with destinations[e] == j``, for flows
    laid out (entries, draws) and `out` (states, draws)."""

    def __init__(self, destinations: np.ndarray, n_states: int) -> None:
        ops: list[_Op] = []
        ranks: list[list[tuple[int, int]]] = [[] for _ in range(LIGHT)]
        empty: list[int] = []
        for state in range(n_states):
            rows = [int(r) for r in np.flatnonzero(destinations == state)]
            if not rows:
                empty.append(state)
            elif len(rows) <= LIGHT:
                for rank, row in enumerate(rows):
                    ranks[rank].append((state, row))
            else:
                for i, run in enumerate(_arithmetic_runs(rows)):
                    ops.append(_Op("reduce" if i == 0 else "reduce_add", run, state))
        for rank, pairs in enumerate(ranks):
            for rows_, states in _paired_runs(pairs):
                ops.append(_Op("copy" if rank == 0 else "add", rows_, states))
        self.ops = ops
        self.empty = empty
        self.n_entries = len(destinations)
        self._kernel_ops: dict[frozenset[int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def copies(self) -> dict[tuple[int, int, int], slice | int]:
        """The runs of entries copied as they are into states, (start, stop, step) of the
        entry rows -> the states: a caller computing those flows may write them there
        itself (and pass the runs to :meth:`bind` as `written`)."""
        return {run_key(op.rows): op.states for op in self.ops if op.kind == "copy"}

    def kernel_ops(self, kept: frozenset[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The operations for :func:`~permedhub.hecon.markov_kernel.cycle_loop`: rows (kind,
        first entry row, step, count, first state) (kinds 0-3: copy, add, reduce,
        reduce_add; one state for the reductions), the states without entries in, and per
        entry the state its flow is written to directly (-1: to the flows). A run of
        entries that is copied as it is, none of them in `kept` (flows the caller reads
        afterwards, e.g. rewarded ones), goes straight to its states and its copy is
        dropped, as :meth:`bind` does with `written` runs."""
        found = self._kernel_ops.get(kept)
        if found is not None:
            return found
        kinds = {"copy": 0, "add": 1, "reduce": 2, "reduce_add": 3}
        rows = []
        direct = np.full(self.n_entries, -1, dtype=np.int64)
        for op in self.ops:
            entries = range(op.rows.start, op.rows.stop, op.rows.step or 1)
            if isinstance(op.states, slice):
                first, count = op.states.start, op.states.stop - op.states.start
            else:
                first, count = op.states, len(entries)
            if op.kind == "copy" and kept.isdisjoint(entries):
                direct[list(entries)] = np.arange(first, first + count)
                continue
            rows.append((kinds[op.kind], entries.start, entries.step, count, first))
        ops = np.array(rows, dtype=np.int64).reshape(-1, 5)
        found = self._kernel_ops[kept] = ops, np.array(self.empty, dtype=np.int64), direct
        return found

    def bind(
        self,
        flows: np.ndarray,
        out: np.ndarray,
        written: frozenset[tuple[int, int, int]] = frozenset(),
    ) -> BoundFlowSum:
        """The sums for the fixed `flows` buffer (entries, d) into ``out[t]`` for a series of
        cohorts `out` (T, states, d), except the copies of the `written` runs (see
        :meth:`copies`); states without entries are zeroed here, once."""
        out[:, self.empty] = 0.0
        return BoundFlowSum(
            [
                (op.kind, flows[op.rows], out[:, op.states])
                for op in self.ops
                if not (op.kind == "copy" and run_key(op.rows) in written)
            ],
            np.empty(flows.shape[1:]),
        )


@dataclass
class BoundFlowSum:
    steps: list[tuple[str, np.ndarray, np.ndarray]]  # (kind, flow rows view, out view (T, ...))
    scratch: np.ndarray

    def __call__(self, t: int) -> None:
        """Sum the current flows into cohort t."""
        for kind, rows, out_all in self.steps:
            out = out_all[t]
            if kind == "copy":
                np.copyto(out, rows)
            elif kind == "add":
                np.add(out, rows, out=out)
            elif kind == "reduce":
                np.add.reduce(rows, axis=0, out=out)
            else:
                np.add.reduce(rows, axis=0, out=self.scratch)
                np.add(out, self.scratch, out=out)
