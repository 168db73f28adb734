"""The Markov engine's cycle loop as one compiled kernel (numba).

For a chunk of draws and a strategy, :func:`cycle_loop` runs every cycle: the complements
'C' of the time-varying rows, the flows of every entry (cohort at the origin x the entry's
probability), their sums into the next cohort and the flows' transition rewards. NumPy did
the same with a dozen calls per cycle, each a pass over (entries, draws) rows and about 1 ms
of Python overhead per strategy and chunk in all; here each tile of :data:`TILE` draws goes
through all of a cycle's steps while its rows are in the L1 cache, and the entry values are
read from the evaluated arrays themselves (no copy into an entry table).

The arithmetic is NumPy's, in NumPy's order, so the results are bit-identical to the NumPy
loop it replaces: a row total is ``known[0] + known[1] + ...`` left to right, a complement
``1 - total`` (rounding residues in (-PROB_TOL, 0) set to 0), a flow ``m * value``, a state's
inflow its first entry plus the second (or, from three on, each arithmetic run of entries
summed left to right and the runs added, as :class:`~permedhub.hecon.markov_flows.FlowSum`
does). The one exception is the product of constant transition rewards with the flows, a
left-to-right sum over the rewarded entries here, where NumPy's ``matmul`` called BLAS
(``dgemv``, whose order depends on the BLAS kernel of the machine); the two differ by
rounding, about 1e-16 relative.

The kernel is compiled on first use and cached on disk (``cache=True``: numba's cache next
to this file, or in the user's cache directory where that is read-only), so a new process
loads it instead of compiling it again.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import List

TILE = 512
"""Draws per tile: the flows, complements and cohort rows of one tile and cycle (a few
dozen rows of 1 KB) stay in the L1 cache between the steps of the cycle."""

VALUE = types.Array(types.float64, 2, "C", readonly=True)
"""The type of an entry value in :func:`value_list`: (T|1, d|1), C-contiguous (copied if
not), for the kernel's loops to be vectorised."""

# entry sources (column 1 of `entries`)
FROM_CONST = 0  # a row of the constant table
FROM_VALUE = 1  # an evaluated value of the value list
FROM_COMPLEMENT = 2  # the complement of a time-varying row

# flow-sum operations (column 0 of `flow_ops`), as markov_flows.FlowSum's
OP_COPY, OP_ADD, OP_REDUCE, OP_REDUCE_ADD = 0, 1, 2, 3


def value_list(values: list[np.ndarray]) -> List:
    """`values` (2-d float arrays) as the typed list :func:`cycle_loop` reads.

    The list is made and filled by compiled functions of this module, cached on disk with the
    kernel: the typed list's own methods, called from Python, would be compiled anew in every
    process (about 0.7 s, most of a first run's time)."""
    out = _empty_values()
    for v in values:
        _append_value(out, _readonly(np.ascontiguousarray(v)))
    return out


def _readonly(v: np.ndarray) -> np.ndarray:
    """A read-only view of `v`: one type for every value, so one compiled `_append_value`."""
    view = v.view()
    view.flags.writeable = False
    return view


@njit(cache=True)
def _empty_values() -> List:
    return List.empty_list(VALUE)


@njit(cache=True)
def _append_value(values: List, v: np.ndarray) -> None:
    values.append(v)


@njit(cache=True, nogil=True, boundscheck=False)
def _load(v: np.ndarray, t: int, d0: int, n: int, out: np.ndarray, add: bool) -> None:
    """out[:n] = (or +=) v at cycle t, draws d0..d0+n, broadcasting a length-1 axis."""
    row = v[t if v.shape[0] > 1 else 0]
    if v.shape[1] > 1:
        src = row[d0 : d0 + n]
        for j in range(n):
            out[j] = out[j] + src[j] if add else src[j]
    else:
        x = row[0]
        for j in range(n):
            out[j] = out[j] + x if add else x


@njit(cache=True, nogil=True, boundscheck=False)
def _weighted_sum(m: np.ndarray, w: np.ndarray, out: np.ndarray, d0: int, n: int) -> None:
    """out[d0:d0+n] = sum_s w[s] * m[s, d0:d0+n], left to right from 0."""
    acc = out[d0 : d0 + n]
    for j in range(n):
        acc[j] = 0.0
    for s in range(m.shape[0]):
        x = w[s]
        row = m[s, d0 : d0 + n]
        for j in range(n):
            acc[j] = acc[j] + row[j] * x


@njit(cache=True, nogil=True, boundscheck=False)
def stacked_products(
    values: np.ndarray, trace: np.ndarray, first: int, cycles: np.ndarray, points: np.ndarray
) -> np.ndarray:
    """out[k] = sum_i values[cycles[k], i] * trace[points[k], first + i] (values (T, n, d),
    trace (T+1, S, d)), summed left to right from 0 as NumPy's einsum does: the state
    rewards of n consecutive states at the trace points `points`."""
    d = values.shape[2]
    out = np.empty((cycles.shape[0], d))
    for k in range(cycles.shape[0]):
        acc = out[k]
        for j in range(d):
            acc[j] = 0.0
        for i in range(values.shape[1]):
            v = values[cycles[k], i]
            m = trace[points[k], first + i]
            for j in range(d):
                acc[j] = acc[j] + v[j] * m[j]
    return out


@njit(cache=True, nogil=True, boundscheck=False)
def cycle_loop(
    trace: np.ndarray,
    const: np.ndarray,
    values: List,
    row_ptr: np.ndarray,
    row_values: np.ndarray,
    row_complement: np.ndarray,
    entries: np.ndarray,
    direct: np.ndarray,
    flow_ops: np.ndarray,
    empty: np.ndarray,
    reward_matrix: np.ndarray,
    reward_first: int,
    events: np.ndarray,
    stored: np.ndarray,
    flow_store: np.ndarray,
    alive: np.ndarray,
    alive_points: np.ndarray,
    tol: float,
    tile: int,
) -> tuple[float, float]:
    """Propagate the cohort `trace` (T+1, S, d) from trace[0] through all T cycles.

    Time-varying rows r (T|1, d|1 values): ``row_values[row_ptr[r]:row_ptr[r+1]]`` index
    their explicit values in `values`, in the order of the row; ``row_complement[r]`` is 1
    when the row has a complement. `entries` (E, 3): origin state, source (FROM_*), index
    (constant-table row, value, or time-varying row); an entry with ``direct[e] >= 0`` has
    its flow written straight to that state of the next cohort (its copy is not among the
    operations; it comes before them, as a copy would). `flow_ops` (F, 5): kind (OP_*), first
    entry, step between entries, count, first destination state (one destination for the
    reduce operations); states in `empty` have no entries in. With a (K, n) `reward_matrix`
    the flows of entries reward_first..reward_first+n give events[t] (K, d); else the flows
    of the `stored` entries are copied to flow_store[t] (T, n_stored, d). The occupancy of
    the states weighted by `alive` (S,), summed left to right from 0 as NumPy's einsum does,
    goes to alive_points (T+1, d).

    Returns, for the caller's quick check of the rows, the largest total of the rows with a
    complement and the largest distance from 1 of the totals of the rows without one (the
    caller has checked that the values are >= 0, which NaN fails: neither is NaN).

    Every inner loop runs over a fresh slice of the tile from index 0, the form in which
    LLVM vectorises it."""
    n_cycles = trace.shape[0] - 1
    d = trace.shape[2]
    n_rows = row_ptr.shape[0] - 1
    n_entries = entries.shape[0]
    n_kinds = reward_matrix.shape[0]
    n_rewarded = reward_matrix.shape[1]
    tile = max(1, min(d, tile))
    flows = np.empty((n_entries, tile))
    rest = np.empty((max(n_rows, 1), tile))
    scratch = np.empty(tile)
    # per-draw maxima (a running scalar maximum would be a chain the loop cannot vectorise)
    high = np.full(tile, -np.inf)
    off = np.zeros(tile)
    for d0 in range(0, d, tile):
        _weighted_sum(trace[0], alive, alive_points[0], d0, min(tile, d - d0))
    for t in range(n_cycles):
        for d0 in range(0, d, tile):
            n = min(tile, d - d0)
            # complements of the time-varying rows (totals for rows without one)
            for r in range(n_rows):
                total = rest[r, :n]
                k0, k1 = row_ptr[r], row_ptr[r + 1]
                if k1 == k0:
                    for j in range(n):
                        total[j] = 0.0
                for k in range(k0, k1):
                    _load(values[row_values[k]], t, d0, n, total, k > k0)
                if row_complement[r]:
                    for j in range(n):
                        x = total[j]
                        high[j] = x if x > high[j] else high[j]
                        x = 1.0 - x
                        total[j] = 0.0 if (x < 0.0 and x > -tol) else x
                else:
                    for j in range(n):
                        x = abs(total[j] - 1.0)
                        off[j] = x if x > off[j] else off[j]
            # flows: occupancy of the origin x the entry's probability
            m = trace[t]
            nxt = trace[t + 1]
            for e in range(n_entries):
                source, index = entries[e, 1], entries[e, 2]
                occupancy = m[entries[e, 0], d0 : d0 + n]
                f = flows[e, :n] if direct[e] < 0 else nxt[direct[e], d0 : d0 + n]
                if source == FROM_CONST:
                    c = const[index, d0 : d0 + n]
                    for j in range(n):
                        f[j] = occupancy[j] * c[j]
                elif source == FROM_COMPLEMENT:
                    c = rest[index, :n]
                    for j in range(n):
                        f[j] = occupancy[j] * c[j]
                else:
                    v = values[index]
                    row = v[t if v.shape[0] > 1 else 0]
                    if v.shape[1] > 1:
                        c = row[d0 : d0 + n]
                        for j in range(n):
                            f[j] = occupancy[j] * c[j]
                    else:
                        x = row[0]
                        for j in range(n):
                            f[j] = occupancy[j] * x
            # the next cohort: each state's inflows
            for s in empty:
                out = nxt[s, d0 : d0 + n]
                for j in range(n):
                    out[j] = 0.0
            for q in range(flow_ops.shape[0]):
                kind, first, step, count, state = flow_ops[q]
                if kind <= OP_ADD:  # OP_COPY or OP_ADD
                    for i in range(count):
                        f = flows[first + i * step, :n]
                        out = nxt[state + i, d0 : d0 + n]
                        if kind == OP_COPY:
                            for j in range(n):
                                out[j] = f[j]
                        else:
                            for j in range(n):
                                out[j] = out[j] + f[j]
                    continue
                # the entries' sum left to right (np.add.reduce), into or onto the state
                acc = scratch[:n]
                f = flows[first, :n]
                for j in range(n):
                    acc[j] = f[j]
                for i in range(1, count):
                    f = flows[first + i * step, :n]
                    for j in range(n):
                        acc[j] = acc[j] + f[j]
                out = nxt[state, d0 : d0 + n]
                if kind == OP_REDUCE:
                    for j in range(n):
                        out[j] = acc[j]
                else:
                    for j in range(n):
                        out[j] = out[j] + acc[j]
            _weighted_sum(nxt, alive, alive_points[t + 1], d0, n)
            # transition rewards of the cycle
            if n_kinds:
                for k in range(n_kinds):
                    out = events[t, k, d0 : d0 + n]
                    for j in range(n):
                        out[j] = 0.0
                    for i in range(n_rewarded):
                        w = reward_matrix[k, i]
                        f = flows[reward_first + i, :n]
                        for j in range(n):
                            out[j] = out[j] + w * f[j]
            else:
                for i in range(stored.shape[0]):
                    f = flows[stored[i], :n]
                    out = flow_store[t, i, d0 : d0 + n]
                    for j in range(n):
                        out[j] = f[j]
    return high.max(), off.max()
