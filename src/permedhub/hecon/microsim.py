"""Individual-level (microsimulation) version of a Markov model.

Each patient is one column of the engine's (states, draws) layout, so patients are simulated
together, vectorised, with one uniform random number per patient and cycle. The same model
document serves cohort and microsimulation:

* patient characteristics (e.g. biomarker status, age) are per-patient values of model
  parameters, passed as columns of `characteristics`;
* history-dependent risks: a parameter named ``visits_<state>`` (defined in the model, e.g.
  ``visits_RevisionTHR: 0`` for the cohort) is replaced, for each patient and cycle, by the
  number of times the patient has entered ``<state>`` so far (the starting state counts);
  only transition probabilities may depend on such history variables;
* every strategy uses the same random numbers (common random numbers), which reduces the
  Monte-Carlo noise of between-strategy differences.

Results are per patient; :attr:`MicrosimResult.summary` gives the mean and its Monte-Carlo
standard error (sd / sqrt(n)) per strategy and outcome. In expectation the microsimulation
equals the cohort model run with the same per-patient parameters (tested).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from permedhub.hecon.distributions import make_rng
from permedhub.hecon.errors import HeconError
from permedhub.hecon.markov import MarkovModel, _Strategy

OUTCOMES = ("cost", "qaly", "ly", "cost_undiscounted", "qaly_undiscounted", "ly_undiscounted")


@dataclass
class MicrosimResult:
    patients: pd.DataFrame  # strategy, patient, cost, qaly, ly, ...
    summary: pd.DataFrame  # strategy, outcome, mean, mc_se
    occupancy: pd.DataFrame  # strategy, cycle, <states> (share of patients)


def _dependencies(model: MarkovModel, names: set[str]) -> set[str]:
    """All parameters the given names depend on (transitively), including themselves."""
    exprs = model.params.expressions
    seen: set[str] = set()
    stack = list(names)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n in exprs:
            stack.extend(exprs[n].names | exprs[n].calls)
    return seen


def _history_states(model: MarkovModel) -> dict[str, int]:
    out = {}
    for name in model.params.expressions:
        if name.startswith("visits_"):
            state = name[len("visits_") :]
            if state not in model.index:
                raise HeconError(f"history parameter {name!r}: unknown state {state!r}")
            out[name] = model.index[state]
    return out


def _check_history_only_in_transitions(
    model: MarkovModel, strat: _Strategy, hist: set[str]
) -> None:
    exprs = list(strat.utilities.values()) + list(strat.initial.values())
    exprs += [e for per in strat.state_costs.values() for e in per.values()]
    exprs += [e for *_, e in strat.rewards] + list(strat.initial_costs.values())
    for e in exprs:
        if _dependencies(model, set(e.names)) & hist:
            raise HeconError(
                f"strategy {strat.name!r}: {e.source!r} depends on a history variable "
                f"({', '.join(sorted(hist))}); only transition probabilities may"
            )


def _columns(characteristics: pd.DataFrame | Mapping[str, Any] | None, n: int) -> dict[str, Any]:
    if characteristics is None:
        return {}
    frame = pd.DataFrame(characteristics)
    if len(frame) != n:
        raise HeconError(f"characteristics have {len(frame)} rows, expected {n} patients")
    return {c: frame[c].to_numpy(dtype=float) for c in frame.columns}


PATIENT_BLOCK = 5_000
"""Patients are simulated in blocks of this size (bounded memory); block b uses child b of
SeedSequence(seed), so results depend on the seed only, not on available memory."""


def microsimulate(
    model: MarkovModel,
    n_patients: int,
    seed: int,
    characteristics: pd.DataFrame | Mapping[str, Any] | None = None,
) -> MicrosimResult:
    """Simulate `n_patients` individuals through every strategy of `model`."""
    if n_patients < 1:
        raise HeconError(f"n_patients must be >= 1, got {n_patients}")
    columns = _columns(characteristics, n_patients)
    base = model.params.base_values()
    sampled: dict[str, np.ndarray] = {k: np.broadcast_to(v, (n_patients,)) for k, v in base.items()}
    for k, v in columns.items():
        if k not in model.params.stochastic_names and k not in model.params.expressions:
            raise HeconError(f"characteristic {k!r} is not a parameter of the model")
        sampled[k] = v
    history = _history_states(model)
    t_cycles = model.settings.cycles
    starts = list(range(0, n_patients, PATIENT_BLOCK))
    streams = np.random.SeedSequence(seed).spawn(len(starts))
    frames, occupancy = [], []
    for strat in model.strategies:
        _check_history_only_in_transitions(model, strat, set(history))
        outs: list[dict[str, np.ndarray]] = []
        shares = np.zeros((t_cycles + 1, model.n_expanded))
        for start, stream in zip(starts, streams, strict=True):
            stop = min(n_patients, start + PATIENT_BLOCK)
            block = {k: v[start:stop] for k, v in sampled.items()}
            # the same stream for every strategy: common random numbers
            out, occ_sum = _simulate_block(
                model, strat, block, stop - start, history, make_rng(stream)
            )
            outs.append(out)
            shares += occ_sum
        cols = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
        frames.append(
            pd.DataFrame({"strategy": strat.name, "patient": np.arange(n_patients), **cols})
        )
        occ = pd.DataFrame(
            np.add.reduceat(shares, model.offset, axis=1) / n_patients, columns=model.states
        )
        occ.insert(0, "cycle", np.arange(t_cycles + 1))
        occ.insert(0, "strategy", strat.name)
        occupancy.append(occ)
    per_patient = pd.concat(frames, ignore_index=True)
    rows = []
    for name, group in per_patient.groupby("strategy", sort=False):
        for outcome in OUTCOMES:
            x = group[outcome].to_numpy()
            se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("inf")
            rows.append({"strategy": name, "outcome": outcome, "mean": x.mean(), "mc_se": se})
    return MicrosimResult(per_patient, pd.DataFrame(rows), pd.concat(occupancy, ignore_index=True))


def _simulate_block(
    model: MarkovModel,
    strat: _Strategy,
    sampled: Mapping[str, np.ndarray],
    n: int,
    history: Mapping[str, int],
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One block of `n` patients: per-patient outcomes and the summed occupancy (T+1, S_exp)."""
    t_cycles = model.settings.cycles
    visits = {name: np.zeros(n) for name in history}
    ns = strat.evaluator.namespace({**sampled, **visits})
    const, tv, origins, dests, _, keys = model._entry_tables(strat, ns, n, 0)
    reward_cols, rewarded = model._reward_columns(strat, ns, origins, keys)
    init = model._initial(strat, ns, n, 0)  # (P, S_exp)
    state = _choose(np.cumsum(init.T, axis=0), rng.random(n))
    for name, s in history.items():
        visits[name] += _in_state(model, state, s)
    trace = np.zeros((t_cycles + 1, model.n_expanded, n))
    patients = np.arange(n)
    trace[0, state, patients] = 1.0
    flow_store = np.zeros((t_cycles, len(rewarded), n)) if len(rewarded) else None
    for t in range(t_cycles):
        if history and t > 0:
            ns_t = strat.evaluator.namespace({**sampled, **visits})
            const, tv, *_ = model._entry_tables(strat, ns_t, n, 0)
        values = np.concatenate([const, tv[t]]) if tv.shape[1] else const
        mass = np.where(origins[:, None] == state[None, :], values, 0.0)
        chosen = _choose(np.cumsum(mass, axis=0), rng.random(n))
        new_state = dests[chosen]
        for name, s in history.items():
            visits[name] += _in_state(model, new_state, s) & ~_in_state(model, state, s)
        state = new_state
        trace[t + 1, state, patients] = 1.0
        if flow_store is not None:
            flow_store[t] = chosen[None, :] == rewarded[:, None]
    out, occupancy, _ = model._accumulate(strat, ns, trace, flow_store, rewarded, reward_cols, n)
    return out, occupancy


def _choose(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per column, the first row whose cumulative probability exceeds u; when rounding leaves
    u above the last cumulative value, the last row with positive probability."""
    idx = (cumulative <= u[None, :]).sum(axis=0)
    n = cumulative.shape[0]
    over = idx >= n
    if over.any():
        mass = np.diff(cumulative[:, over], axis=0, prepend=0.0)
        idx[over] = n - 1 - np.argmax(mass[::-1] > 0, axis=0)
    return idx


def _in_state(model: MarkovModel, expanded: np.ndarray, state: int) -> np.ndarray:
    lo = int(model.offset[state])
    return (expanded >= lo) & (expanded < lo + int(model.tunnel[state]))
