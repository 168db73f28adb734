"""Run a model document end to end: deterministic results, incremental table, optional PSA
(CEAC, CE plane), as one object that the CLI and the portal render (JSON or HTML report)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from permedhub.hecon import cea, voi
from permedhub.hecon.markov import MarkovModel, MarkovResult
from permedhub.hecon.spec import ModelSpec


@dataclass
class ModelRun:
    spec: ModelSpec
    deterministic: pd.DataFrame  # per strategy: cost, effect, qaly, ly, cost_<category>...
    icers: pd.DataFrame  # strategy, cost, effect, inc_cost, inc_effect, icer, status
    trace: pd.DataFrame  # deterministic trace
    psa: MarkovResult | None = None
    psa_summary: pd.DataFrame | None = None  # per strategy mean, sd, 2.5%, 97.5%
    ceac: pd.DataFrame | None = None
    evpi: pd.DataFrame | None = None  # per-person EVPI over the WTP grid
    wtp_grid: np.ndarray | None = None
    seed: int | None = None


def run_analysis(
    spec: ModelSpec, n_draws: int | None = None, seed: int | None = None, wtp_max: float = 100_000
) -> ModelRun:
    """Deterministic run, incremental table (strong/extended dominance), and with `n_draws` a
    seeded PSA with summary statistics, the CEAC and the per-person EVPI over 0..`wtp_max`."""
    model = MarkovModel(spec)
    base = model.run()
    effect = spec.settings.effect
    det = base.mean()
    det["effect"] = det[effect]
    first = ["cost", "effect", "qaly", "ly"]
    det = det[first + [c for c in det.columns if c not in first]]
    icers = cea.calculate_icers(det["cost"].to_numpy(), det["effect"].to_numpy(), list(det.index))
    out = ModelRun(spec, det, icers, base.trace)
    if n_draws:
        psa = model.run(n_draws=n_draws, seed=seed)
        rows = []
        for strategy, group in psa.summary.groupby("strategy", sort=False):
            for outcome in ("cost", effect):
                x = group[outcome].to_numpy()
                rows.append(
                    {
                        "strategy": strategy,
                        "outcome": outcome,
                        "mean": x.mean(),
                        "sd": x.std(ddof=1) if x.size > 1 else 0.0,
                        "p2.5": np.percentile(x, 2.5),
                        "p97.5": np.percentile(x, 97.5),
                    }
                )
        costs, effects = psa.matrices()
        sample = cea.psa_sample(costs, effects, psa.strategies)
        grid = np.linspace(0, wtp_max, 51)
        out.psa = psa
        out.psa_summary = pd.DataFrame(rows)
        out.ceac = cea.ceac(sample, grid)
        out.evpi = voi.evpi(sample, grid)
        out.wtp_grid = grid
        out.seed = seed
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def to_json(run: ModelRun) -> dict[str, Any]:
    """A JSON-serialisable summary (NaN -> null)."""
    det = run.deterministic.reset_index()
    payload: dict[str, Any] = {
        "model": run.spec.name,
        "settings": run.spec.settings.model_dump(),
        "effect": run.spec.settings.effect,
        "deterministic": records(det),
        "icers": records(run.icers),
    }
    if run.psa is not None and run.psa_summary is not None:
        payload["psa"] = {
            "draws": run.psa.n_draws,
            "seed": run.seed,
            "summary": records(run.psa_summary),
            "ceac": records(run.ceac) if run.ceac is not None else [],
            "evpi": records(run.evpi) if run.evpi is not None else [],
        }
    return payload
