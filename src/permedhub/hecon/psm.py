"""Partitioned survival models (three states: progression-free, progressed, dead).

State membership at time t is read from the curves: PF(t) = S_PFS(t), PD(t) = S_OS(t) -
S_PFS(t), dead = 1 - S_OS(t), at the trace points t_k = k L (k = 0..T). Where a PFS curve lies
above the OS curve (impossible: progression-free implies alive), PFS is clamped to OS and a
:class:`CurveCrossingWarning` names the strategy and the first time it happens.

Rewards use the same counting and discounting conventions as the Markov engine
(:mod:`permedhub.hecon.conventions`): costs per cycle in a state, utilities per year.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from permedhub.hecon.conventions import occupancy_operator
from permedhub.hecon.errors import HeconError
from permedhub.hecon.spec import Settings
from permedhub.hecon.survival import Survival

PSM_STATES = ("progression_free", "progressed", "dead")


class CurveCrossingWarning(UserWarning):
    """PFS above OS: PFS was clamped to OS."""


@dataclass
class PSMStrategy:
    pfs: Survival
    os: Survival
    state_costs: dict[str, dict[str, float | np.ndarray]] = field(default_factory=dict)
    utilities: dict[str, float | np.ndarray] = field(default_factory=dict)
    initial_costs: dict[str, float | np.ndarray] = field(default_factory=dict)


@dataclass
class PSMResult:
    summary: pd.DataFrame  # strategy, draw, cost, cost_<category>, qaly, ly
    trace: pd.DataFrame  # strategy, cycle, time, progression_free, progressed, dead (mean)


def _occupancy(name: str, strat: PSMStrategy, times: np.ndarray) -> np.ndarray:
    pf = strat.pfs.survival(times)
    os = strat.os.survival(times)
    pf, os = np.broadcast_arrays(pf, os)
    crossing = pf > os + 1e-12
    if np.any(crossing):
        first = int(np.argmax(crossing.any(axis=0)))
        warnings.warn(
            f"strategy {name!r}: PFS exceeds OS from t = {times[first]:g} years "
            f"({int(crossing.any(axis=1).sum())} draw(s)); PFS clamped to OS",
            CurveCrossingWarning,
            stacklevel=3,
        )
        pf = np.minimum(pf, os)
    # (draws, T+1, 3)
    return np.stack([pf, os - pf, 1 - os], axis=2)


def partitioned_survival(strategies: Mapping[str, PSMStrategy], settings: Settings) -> PSMResult:
    """Run a partitioned survival model for each strategy (vectorised over draws)."""
    if not strategies:
        raise HeconError("partitioned survival model needs at least one strategy")
    t_cycles, length = settings.cycles, settings.cycle_length
    times = np.arange(t_cycles + 1) * length
    cost_op = occupancy_operator(
        settings.counting, settings.discount_costs, settings.discount_method, t_cycles, length
    )
    out_op = occupancy_operator(
        settings.counting, settings.discount_outcomes, settings.discount_method, t_cycles, length
    )
    frames, traces = [], []
    for name, strat in strategies.items():
        occ = _occupancy(name, strat, times)
        d = occ.shape[0]

        def counted(op: tuple[np.ndarray, np.ndarray], occ: np.ndarray = occ) -> np.ndarray:
            return op[0][None, :, None] * occ[:, :-1] + op[1][None, :, None] * occ[:, 1:]

        w_cost, w_out = counted(cost_op), counted(out_op)
        cols: dict[str, np.ndarray] = {}
        total_cost = np.zeros(d)
        for cat, per_state in strat.state_costs.items():
            c = np.zeros(d)
            for state, value in per_state.items():
                if state not in PSM_STATES:
                    raise HeconError(
                        f"strategy {name!r}: unknown state {state!r} in costs; states are "
                        + ", ".join(PSM_STATES)
                    )
                v = np.asarray(value, dtype=float).reshape(-1, 1)
                c = c + (v * w_cost[:, :, PSM_STATES.index(state)]).sum(axis=1)
            c = c + np.asarray(strat.initial_costs.get(cat, 0.0), dtype=float)
            cols[f"cost_{cat}"] = c
            total_cost = total_cost + c
        for cat, v0 in strat.initial_costs.items():
            if cat not in strat.state_costs:
                cols[f"cost_{cat}"] = np.broadcast_to(np.asarray(v0, dtype=float), (d,)).copy()
                total_cost = total_cost + cols[f"cost_{cat}"]
        qaly = np.zeros(d)
        for state, value in strat.utilities.items():
            if state not in PSM_STATES:
                raise HeconError(f"strategy {name!r}: unknown state {state!r} in utilities")
            v = np.asarray(value, dtype=float).reshape(-1, 1)
            qaly = qaly + (v * w_out[:, :, PSM_STATES.index(state)]).sum(axis=1) * length
        ly = w_out[:, :, :2].sum(axis=(1, 2)) * length
        frames.append(
            pd.DataFrame(
                {
                    "strategy": name,
                    "draw": np.arange(d),
                    "cost": total_cost,
                    **cols,
                    "qaly": qaly,
                    "ly": ly,
                }
            )
        )
        mean = occ.mean(axis=0)
        tf = pd.DataFrame(mean, columns=list(PSM_STATES))
        tf.insert(0, "time", times)
        tf.insert(0, "cycle", np.arange(t_cycles + 1))
        tf.insert(0, "strategy", name)
        traces.append(tf)
    summary = pd.concat(frames, ignore_index=True).fillna(0.0)
    if not np.all(np.isfinite(summary.select_dtypes("number").to_numpy())):
        raise HeconError("partitioned survival model produced non-finite results")
    return PSMResult(summary, pd.concat(traces, ignore_index=True))
