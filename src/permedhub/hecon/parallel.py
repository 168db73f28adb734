"""Very large PSAs with Dask (optional extra ``permedhub[dask]``).

The parameters of all draws are sampled centrally from the seed exactly as in
:meth:`MarkovModel.run` (one SeedSequence child stream per distribution), so the result is the
same as a serial run with the same seed; chunks of draws are then evaluated as Dask tasks on
whatever scheduler is active (threads, processes, or a ``dask.distributed`` cluster).
Shipping the sampled inputs costs 8 bytes per parameter and draw; every chunk returns only its
per-draw outcomes and its summed trace.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from permedhub.hecon.errors import HeconError
from permedhub.hecon.markov import MarkovModel, MarkovResult


def _run_chunk(
    model: MarkovModel, sampled: dict[str, np.ndarray], start: int
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    res = model.run(sampled=sampled)
    summary = res.summary.copy()
    summary["draw"] += start
    return summary, res.trace, res.n_draws


def run_psa_dask(
    model: MarkovModel,
    n_draws: int,
    seed: int,
    chunk_size: int = 2_000,
    scheduler: Any = None,
) -> MarkovResult:
    """PSA of `n_draws` draws in chunks of `chunk_size` as Dask tasks; same result as
    ``model.run(n_draws=n_draws, seed=seed)``."""
    try:
        import dask
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HeconError("Dask is not installed: pip install 'permedhub[dask]'") from exc
    if chunk_size < 1:
        raise HeconError(f"chunk_size must be >= 1, got {chunk_size}")
    draws = model.params.sample(n_draws, seed)
    base = model.params.base_values()
    tasks = []
    for start in range(0, n_draws, chunk_size):
        stop = min(n_draws, start + chunk_size)
        chunk = {k: v[start:stop] for k, v in draws.items()}
        if not chunk:  # a model without stochastic parameters: one base-case "draw" per row
            chunk = {k: np.broadcast_to(v, (stop - start,)) for k, v in base.items()}
        tasks.append(dask.delayed(_run_chunk)(model, chunk, start))
    parts = dask.compute(*tasks, scheduler=scheduler)
    summary = pd.concat([p[0] for p in parts])
    order = {s: i for i, s in enumerate(model.spec.strategies)}
    summary = summary.sort_values(
        ["strategy", "draw"], key=lambda c: c.map(order) if c.name == "strategy" else c
    ).reset_index(drop=True)
    weights = np.array([p[2] for p in parts], dtype=float)
    states = model.states
    traces = [p[1] for p in parts]
    trace = traces[0].copy()
    trace[states] = sum(t[states].to_numpy() * w for t, w in zip(traces, weights, strict=True)) / (
        weights.sum()
    )
    return MarkovResult(
        summary=summary,
        trace=trace,
        cashflows={},
        strategies=[s.name for s in model.strategies],
        effect=model.settings.effect,
        n_draws=n_draws,
        parameters=draws,
    )
