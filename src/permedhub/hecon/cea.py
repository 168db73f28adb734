"""Cost-effectiveness analysis on strategy costs and effects.

Works on numbers only, however they were produced (a cohort model, a microsimulation, a trial):

- :func:`calculate_icers`: the incremental table with strong and extended dominance and the
  efficiency frontier, statuses ``ND`` / ``ED`` / ``D`` with the ordering and tie rules of dampack's
  ``calculate_icers`` (Alarid-Escudero et al., R package dampack, ``R/icers.R``).
- :func:`net_benefit_table`: net monetary and net health benefit at a threshold.
- On a probabilistic sample (:class:`PSASample`, draws × strategies): :func:`ceac`, :func:`ceaf`,
  :func:`expected_loss` (dampack ``calc_exp_loss``) and :func:`ce_plane`. A whole
  willingness-to-pay grid is computed with array operations; no Python loop runs over draws.

Net monetary benefit is ``NMB = wtp * effect - cost``; net health benefit is
``NHB = effect - cost / wtp``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

STATUS_NON_DOMINATED = "ND"
STATUS_EXTENDED_DOMINATED = "ED"
STATUS_DOMINATED = "D"

# Upper bound on the number of float64 cells materialised at once when a WTP grid is
# evaluated (32 MB): the grid is processed in chunks of thresholds, never draw by draw.
_MAX_CELLS_PER_CHUNK = 4_000_000


class AnalysisInputError(ValueError):
    """Input to a health-economic analysis function is malformed (names the field and value)."""


# --------------------------------------------------------------------------- validation helpers


def _finite_vector(name: str, values: object) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisInputError(f"{name}: expected numbers, got {values!r}") from exc
    if array.ndim != 1:
        raise AnalysisInputError(f"{name}: expected a 1-D sequence, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise AnalysisInputError(
            f"{name}: expected finite numbers, got {array[bad[0]]} at position {bad[0]}"
        )
    return array


def _finite_matrix(name: str, values: object, n_columns: int | None = None) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisInputError(f"{name}: expected a numeric draws × strategies array") from exc
    if array.ndim != 2:
        raise AnalysisInputError(
            f"{name}: expected a 2-D array (draws × strategies), got shape {array.shape}"
        )
    if n_columns is not None and array.shape[1] != n_columns:
        raise AnalysisInputError(
            f"{name}: expected {n_columns} columns (one per strategy), got {array.shape[1]}"
        )
    if array.shape[0] == 0:
        raise AnalysisInputError(f"{name}: expected at least one draw, got 0 rows")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        row, column = bad[0]
        raise AnalysisInputError(
            f"{name}: expected finite numbers, got {array[row, column]} at draw {row}, "
            f"strategy column {column}"
        )
    return array


def validate_wtp(wtp: object, name: str = "wtp") -> FloatArray:
    """Return willingness-to-pay thresholds as a 1-D float array (a scalar becomes length 1).

    Raises :class:`AnalysisInputError` for an empty grid, non-finite or negative values.
    """
    array = np.atleast_1d(np.asarray(wtp, dtype=np.float64)) if _is_numeric(wtp) else None
    if array is None:
        raise AnalysisInputError(f"{name}: expected a number or a sequence of numbers, got {wtp!r}")
    array = _finite_vector(name, array)
    if array.size == 0:
        raise AnalysisInputError(f"{name}: expected at least one threshold, got none")
    negative = np.flatnonzero(array < 0)
    if negative.size:
        raise AnalysisInputError(
            f"{name}: expected thresholds >= 0, got {array[negative[0]]} at position {negative[0]}"
        )
    return array


def _is_numeric(values: object) -> bool:
    try:
        np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _strategy_names(strategies: Sequence[str] | None, n_strategies: int) -> tuple[str, ...]:
    if strategies is None:
        return tuple(f"strategy_{i + 1}" for i in range(n_strategies))
    names = tuple(str(s) for s in strategies)
    if len(names) != n_strategies:
        raise AnalysisInputError(
            f"strategies: expected {n_strategies} names (one per column), got {len(names)}"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise AnalysisInputError(f"strategies: names must be unique, {name!r} repeats")
        seen.add(name)
    return names


# --------------------------------------------------------------------------- PSA sample


@dataclass(frozen=True)
class PSASample:
    """Per-draw costs and effects: two arrays of shape (draws, strategies) and the names."""

    costs: FloatArray
    effects: FloatArray
    strategies: tuple[str, ...]

    @property
    def n_draws(self) -> int:
        return int(self.costs.shape[0])

    @property
    def n_strategies(self) -> int:
        return int(self.costs.shape[1])

    def index_of(self, strategy: str, field: str = "strategy") -> int:
        try:
            return self.strategies.index(strategy)
        except ValueError:
            raise AnalysisInputError(
                f"{field}: unknown strategy {strategy!r}; expected one of {list(self.strategies)}"
            ) from None

    def net_benefit(self, wtp: float) -> FloatArray:
        """Net monetary benefit per draw and strategy at one threshold."""
        return float(wtp) * self.effects - self.costs


def psa_sample(
    costs: object, effects: object, strategies: Sequence[str] | None = None
) -> PSASample:
    """Validate per-draw costs and effects (draws × strategies) into a :class:`PSASample`.

    A 1-D input is read as one draw per strategy (a deterministic result).
    """
    cost_array = np.asarray(costs, dtype=np.float64) if _is_numeric(costs) else costs
    effect_array = np.asarray(effects, dtype=np.float64) if _is_numeric(effects) else effects
    if isinstance(cost_array, np.ndarray) and cost_array.ndim == 1:
        cost_array = cost_array[None, :]
    if isinstance(effect_array, np.ndarray) and effect_array.ndim == 1:
        effect_array = effect_array[None, :]
    cost_matrix = _finite_matrix("costs", cost_array)
    effect_matrix = _finite_matrix("effects", effect_array)
    if cost_matrix.shape != effect_matrix.shape:
        raise AnalysisInputError(
            f"effects: expected the same shape as costs {cost_matrix.shape}, "
            f"got {effect_matrix.shape}"
        )
    names = _strategy_names(strategies, cost_matrix.shape[1])
    return PSASample(costs=cost_matrix, effects=effect_matrix, strategies=names)


@dataclass(frozen=True)
class WidePsaLayout:
    """The columns of a wide PSA table: cost and effect per strategy, the rest parameters."""

    strategies: list[str]
    cost_columns: list[str]
    effect_columns: list[str]
    parameters: list[str]


def wide_psa_layout(
    columns: Sequence[object],
    cost_prefix: str = "cost_",
    effect_prefix: str = "effect_",
    min_strategies: int = 1,
) -> WidePsaLayout:
    """Read the layout of a wide PSA table from its column names: every
    ``<cost_prefix><strategy>`` needs its ``<effect_prefix><strategy>`` and the reverse."""
    names = [str(c) for c in columns]
    strategies = [c[len(cost_prefix) :] for c in names if c.startswith(cost_prefix)]
    if len(strategies) < min_strategies:
        raise AnalysisInputError(
            f"columns: expected '{cost_prefix}<strategy>' and '{effect_prefix}<strategy>' "
            f"columns for at least {min_strategies} strateg{'y' if min_strategies == 1 else 'ies'}"
            f", got {names}"
        )
    cost_columns = [f"{cost_prefix}{s}" for s in strategies]
    effect_columns = [f"{effect_prefix}{s}" for s in strategies]
    missing = [c for c in effect_columns if c not in names]
    if missing:
        lacking = [c[len(effect_prefix) :] for c in missing]
        raise AnalysisInputError(
            f"columns: missing column(s) {missing}: every {cost_prefix}<strategy> needs its "
            f"{effect_prefix}<strategy> (missing effect for {', '.join(lacking)})"
        )
    extra_effects = [c for c in names if c.startswith(effect_prefix) and c not in effect_columns]
    if extra_effects:
        raise AnalysisInputError(
            f"columns: effect column(s) {extra_effects} have no matching '{cost_prefix}' column"
        )
    outcomes = set(cost_columns) | set(effect_columns)
    parameters = [c for c in names if c not in outcomes]
    return WidePsaLayout(strategies, cost_columns, effect_columns, parameters)


def psa_from_wide_frame(
    frame: pd.DataFrame, cost_prefix: str = "cost_", effect_prefix: str = "effect_"
) -> PSASample:
    """Read a wide PSA frame with columns ``<cost_prefix><strategy>`` and
    ``<effect_prefix><strategy>`` (one row per draw). Other columns are ignored."""
    layout = wide_psa_layout(frame.columns, cost_prefix, effect_prefix)
    return psa_sample(
        _numeric_columns(frame, layout.cost_columns),
        _numeric_columns(frame, layout.effect_columns),
        layout.strategies,
    )


def psa_from_tidy_frame(
    frame: pd.DataFrame,
    draw: str = "draw",
    strategy: str = "strategy",
    cost: str = "cost",
    effect: str = "effect",
) -> PSASample:
    """Read a tidy PSA frame (one row per draw and strategy)."""
    missing = [c for c in (draw, strategy, cost, effect) if c not in frame.columns]
    if missing:
        raise AnalysisInputError(f"columns: missing {missing}; got {list(frame.columns)}")
    duplicated = frame.duplicated(subset=[draw, strategy])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise AnalysisInputError(
            f"rows: draw/strategy pair repeats at row {row} "
            f"({frame[draw].iloc[row]!r}, {frame[strategy].iloc[row]!r})"
        )
    strategies = list(dict.fromkeys(frame[strategy].astype(str)))
    costs = frame.pivot(index=draw, columns=strategy, values=cost)
    effects = frame.pivot(index=draw, columns=strategy, values=effect)
    costs.columns = costs.columns.astype(str)
    effects.columns = effects.columns.astype(str)
    if costs.isna().any().any():
        raise AnalysisInputError("rows: every draw needs one row per strategy; some are missing")
    return psa_sample(
        _numeric_columns(costs, strategies), _numeric_columns(effects, strategies), strategies
    )


def _numeric_columns(frame: pd.DataFrame, columns: Sequence[str]) -> FloatArray:
    for column in columns:
        converted = pd.to_numeric(frame[column], errors="coerce")
        bad = converted.isna() & frame[column].notna() | ~np.isfinite(converted.fillna(0.0))
        if bad.any() or frame[column].isna().any():
            position = int(np.flatnonzero((bad | frame[column].isna()).to_numpy())[0])
            raise AnalysisInputError(
                f"column {column!r}: expected a finite number at row {position}, "
                f"got {frame[column].iloc[position]!r}"
            )
    return frame[list(columns)].apply(pd.to_numeric).to_numpy(dtype=np.float64)


# --------------------------------------------------------------------------- ICER table


def calculate_icers(
    cost: Sequence[float] | FloatArray,
    effect: Sequence[float] | FloatArray,
    strategies: Sequence[str],
) -> pd.DataFrame:
    """Incremental cost-effectiveness table with strong and extended dominance.

    Follows dampack ``calculate_icers`` (``R/icers.R``):

    1. Sort strategies by cost ascending, then effect descending (stable: input order breaks
       exact ties).
    2. Strong dominance: a strategy is dominated (``D``) when an earlier strategy in that order
       has an equal or greater effect (so it costs at least as much for no more effect; of two
       identical strategies the first listed stays).
    3. Extended dominance: among the remaining strategies compute ICERs against the previous
       one; every strategy (other than the first and last) whose ICER exceeds the next one's is
       extended-dominated (``ED``). Repeat until no new ``ED`` is found or two remain.
    4. ICERs of the non-dominated strategies (``ND``, the efficiency frontier) against the
       previous frontier strategy; the first has no incremental values (NaN).

    Rows are returned ND first, then ED, then D, each ordered by cost ascending and effect
    descending. Columns: strategy, cost, effect, inc_cost, inc_effect, icer, status.
    """
    cost_vector = _finite_vector("cost", cost)
    effect_vector = _finite_vector("effect", effect)
    if cost_vector.size == 0:
        raise AnalysisInputError("cost: expected at least one strategy, got none")
    if effect_vector.size != cost_vector.size:
        raise AnalysisInputError(
            f"effect: expected {cost_vector.size} values (one per strategy), "
            f"got {effect_vector.size}"
        )
    names = _strategy_names(strategies, cost_vector.size)

    # np.lexsort sorts by the last key first; it is stable, like dplyr::arrange.
    order = np.lexsort((-effect_vector, cost_vector))
    sorted_effect = effect_vector[order]
    best_earlier_effect = np.maximum.accumulate(np.concatenate(([-np.inf], sorted_effect[:-1])))
    strongly_dominated = sorted_effect <= best_earlier_effect
    status = np.full(order.size, STATUS_NON_DOMINATED, dtype=object)
    status[strongly_dominated] = STATUS_DOMINATED

    sorted_cost = cost_vector[order]
    while True:
        frontier = np.flatnonzero(status == STATUS_NON_DOMINATED)
        if frontier.size <= 2:
            break
        icers = np.diff(sorted_cost[frontier]) / np.diff(sorted_effect[frontier])
        # icers[i - 1] is the ICER of frontier[i] versus frontier[i - 1].
        newly_extended = frontier[1:-1][icers[:-1] > icers[1:]]
        if newly_extended.size == 0:
            break
        status[newly_extended] = STATUS_EXTENDED_DOMINATED

    frame = pd.DataFrame(
        {
            "strategy": [names[i] for i in order],
            "cost": sorted_cost,
            "effect": sorted_effect,
            "inc_cost": np.nan,
            "inc_effect": np.nan,
            "icer": np.nan,
            "status": status.astype(str),
        }
    )
    frontier = np.flatnonzero(status == STATUS_NON_DOMINATED)
    if frontier.size > 1:
        inc_cost = np.diff(sorted_cost[frontier])
        inc_effect = np.diff(sorted_effect[frontier])
        frame.loc[frontier[1:], "inc_cost"] = inc_cost
        frame.loc[frontier[1:], "inc_effect"] = inc_effect
        frame.loc[frontier[1:], "icer"] = inc_cost / inc_effect
    rank = {STATUS_NON_DOMINATED: 0, STATUS_EXTENDED_DOMINATED: 1, STATUS_DOMINATED: 2}
    frame["_rank"] = frame["status"].map(rank)
    frame = frame.sort_values("_rank", kind="stable").drop(columns="_rank")
    return frame.reset_index(drop=True)


def efficiency_frontier(icers: pd.DataFrame) -> list[str]:
    """Strategies on the efficiency frontier (status ND), cheapest first."""
    return icers.loc[icers["status"] == STATUS_NON_DOMINATED, "strategy"].tolist()


def icers_from_psa(psa: PSASample) -> pd.DataFrame:
    """ICER table on the PSA means (dampack: ``calculate_icers`` on ``summary(psa)``)."""
    return calculate_icers(psa.costs.mean(axis=0), psa.effects.mean(axis=0), psa.strategies)


def net_benefit_table(
    cost: Sequence[float] | FloatArray,
    effect: Sequence[float] | FloatArray,
    strategies: Sequence[str],
    wtp: float,
) -> pd.DataFrame:
    """NMB and NHB per strategy at one threshold (NHB needs ``wtp > 0``)."""
    threshold = validate_wtp(wtp)
    if threshold.size != 1:
        raise AnalysisInputError(f"wtp: expected one threshold, got {threshold.size}")
    if threshold[0] == 0:
        raise AnalysisInputError("wtp: expected a threshold > 0 (NHB divides cost by it), got 0")
    cost_vector = _finite_vector("cost", cost)
    effect_vector = _finite_vector("effect", effect)
    if effect_vector.size != cost_vector.size:
        raise AnalysisInputError(
            f"effect: expected {cost_vector.size} values (one per strategy), "
            f"got {effect_vector.size}"
        )
    names = _strategy_names(strategies, cost_vector.size)
    nmb = threshold[0] * effect_vector - cost_vector
    return pd.DataFrame(
        {
            "strategy": list(names),
            "cost": cost_vector,
            "effect": effect_vector,
            "nmb": nmb,
            "nhb": effect_vector - cost_vector / threshold[0],
            "optimal": nmb == nmb.max(),
        }
    )


# --------------------------------------------------------------------------- WTP-grid analyses


@dataclass(frozen=True)
class _GridSummary:
    """Per-threshold summaries of a PSA: shapes (n_wtp, n_strategies)."""

    expected_nmb: FloatArray
    probability_optimal: FloatArray
    expected_max_nmb: FloatArray  # shape (n_wtp,)


def _wtp_chunks(wtp: FloatArray, psa: PSASample) -> Iterator[FloatArray]:
    per_threshold = max(psa.n_draws * psa.n_strategies, 1)
    size = max(1, _MAX_CELLS_PER_CHUNK // per_threshold)
    for start in range(0, wtp.size, size):
        yield wtp[start : start + size]


def summarise_grid(psa: PSASample, wtp: object) -> tuple[FloatArray, _GridSummary]:
    """Expected NMB, probability of being optimal and E[max NMB] over a WTP grid.

    Ties between strategies in a draw go to the first strategy (dampack breaks them at random).
    """
    thresholds = validate_wtp(wtp)
    expected = np.empty((thresholds.size, psa.n_strategies))
    probability = np.empty((thresholds.size, psa.n_strategies))
    expected_max = np.empty(thresholds.size)
    start = 0
    for chunk in _wtp_chunks(thresholds, psa):
        nmb = chunk[:, None, None] * psa.effects[None, :, :] - psa.costs[None, :, :]
        best = nmb.argmax(axis=2)
        stop = start + chunk.size
        expected[start:stop] = nmb.mean(axis=1)
        expected_max[start:stop] = np.take_along_axis(nmb, best[:, :, None], axis=2).mean(
            axis=(1, 2)
        )
        counts = (best[:, :, None] == np.arange(psa.n_strategies)[None, None, :]).sum(axis=1)
        probability[start:stop] = counts / psa.n_draws
        start = stop
    return thresholds, _GridSummary(expected, probability, expected_max)


def ceac(psa: PSASample, wtp: object) -> pd.DataFrame:
    """Cost-effectiveness acceptability curves: for each threshold and strategy the share of
    draws in which the strategy has the highest NMB, and whether it is on the
    cost-effectiveness acceptability frontier (highest expected NMB), as dampack ``ceac``.

    Columns: wtp, strategy, probability, on_frontier.
    """
    thresholds, summary = summarise_grid(psa, wtp)
    optimal = summary.expected_nmb.argmax(axis=1)
    n_wtp, n_strat = summary.probability_optimal.shape
    return pd.DataFrame(
        {
            "wtp": np.repeat(thresholds, n_strat),
            "strategy": np.tile(np.array(psa.strategies, dtype=object), n_wtp),
            "probability": summary.probability_optimal.ravel(),
            "on_frontier": (optimal[:, None] == np.arange(n_strat)[None, :]).ravel(),
        }
    )


def ceaf(psa: PSASample, wtp: object) -> pd.DataFrame:
    """Cost-effectiveness acceptability frontier: per threshold the strategy with the highest
    expected NMB and its probability of being optimal. Columns: wtp, strategy, probability,
    expected_nmb."""
    thresholds, summary = summarise_grid(psa, wtp)
    optimal = summary.expected_nmb.argmax(axis=1)
    rows = np.arange(thresholds.size)
    return pd.DataFrame(
        {
            "wtp": thresholds,
            "strategy": [psa.strategies[i] for i in optimal],
            "probability": summary.probability_optimal[rows, optimal],
            "expected_nmb": summary.expected_nmb[rows, optimal],
        }
    )


def expected_loss(psa: PSASample, wtp: object) -> pd.DataFrame:
    """Expected loss curves (dampack ``calc_exp_loss``; Alarid-Escudero et al., Value Health
    2019;22(5):611-618): for each threshold and strategy, the mean over draws of
    ``max_s NMB_s - NMB_strategy``. The minimum over strategies is the EVPI.

    Columns: wtp, strategy, expected_loss, on_frontier.
    """
    thresholds, summary = summarise_grid(psa, wtp)
    loss = summary.expected_max_nmb[:, None] - summary.expected_nmb
    optimal = loss.argmin(axis=1)
    n_wtp, n_strat = loss.shape
    return pd.DataFrame(
        {
            "wtp": np.repeat(thresholds, n_strat),
            "strategy": np.tile(np.array(psa.strategies, dtype=object), n_wtp),
            "expected_loss": loss.ravel(),
            "on_frontier": (optimal[:, None] == np.arange(n_strat)[None, :]).ravel(),
        }
    )


def ce_plane(psa: PSASample, comparator: str) -> pd.DataFrame:
    """Incremental cost and effect of every other strategy versus ``comparator``, per draw.

    Columns: draw, strategy, inc_cost, inc_effect.
    """
    reference = psa.index_of(comparator, field="comparator")
    others = [i for i in range(psa.n_strategies) if i != reference]
    if not others:
        raise AnalysisInputError("comparator: the CE plane needs at least two strategies")
    inc_cost = psa.costs[:, others] - psa.costs[:, [reference]]
    inc_effect = psa.effects[:, others] - psa.effects[:, [reference]]
    return pd.DataFrame(
        {
            "draw": np.repeat(np.arange(psa.n_draws), len(others)),
            "strategy": np.tile(
                np.array([psa.strategies[i] for i in others], dtype=object), psa.n_draws
            ),
            "inc_cost": inc_cost.ravel(),
            "inc_effect": inc_effect.ravel(),
        }
    )
