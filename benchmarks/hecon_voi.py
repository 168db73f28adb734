"""Benchmark: EVPPI on 10,000 draws per parameter set (GAM and GP) and EVPI over a 100-point
WTP grid.

Run on demand: ``.venv/bin/python benchmarks/hecon_voi.py [--draws N] [--repeats R]``.

The PSA is synthetic (seeded): 4 strategies whose incremental costs and effects depend
non-linearly on 6 parameters plus noise, as a cost/effect sample so that each EVPPI fits
2 x 3 metamodels (incremental costs and effects of 3 strategies versus the first) and evaluates
one threshold. Prints the median wall time over the repeats. Target: <= 1 s per parameter set.
For steadier numbers on a busy machine, run with ``OPENBLAS_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from permedhub.hecon.cea import PSASample, psa_sample
from permedhub.hecon.voi import evpi, evppi


def synthetic_psa(n_draws: int, seed: int = 2024) -> tuple[PSASample, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    theta = pd.DataFrame(
        {
            "p_response": rng.beta(20, 30, n_draws),
            "p_adverse": rng.beta(5, 45, n_draws),
            "c_drug": rng.gamma(100, 50, n_draws),
            "c_adverse": rng.gamma(25, 200, n_draws),
            "u_response": rng.beta(80, 20, n_draws),
            "hr_death": rng.lognormal(np.log(0.8), 0.1, n_draws),
        }
    )
    base_effect = 10 * theta["u_response"].to_numpy()
    costs = [np.full(n_draws, 20_000.0) + rng.normal(0, 500, n_draws)]
    effects = [base_effect + rng.normal(0, 0.05, n_draws)]
    for strength in (0.6, 0.8, 1.0):
        gain = strength * theta["p_response"] * (1 - theta["hr_death"]) * 6 * theta["u_response"]
        costs.append(
            costs[0]
            + strength * theta["c_drug"]
            + theta["p_adverse"] * theta["c_adverse"]
            + rng.normal(0, 300, n_draws)
        )
        effects.append(effects[0] + gain.to_numpy() - 0.2 * np.sqrt(theta["p_adverse"]))
    psa = psa_sample(
        np.column_stack(costs), np.column_stack(effects), ["soc", "low", "mid", "high"]
    )
    return psa, theta


def timed(call: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    psa, theta = synthetic_psa(args.draws)
    wtp = 50_000.0
    sets = {
        "1 parameter": ["p_response"],
        "2 parameters": ["p_response", "hr_death"],
        "3 parameters": ["p_response", "hr_death", "u_response"],
    }
    print(f"{args.draws} draws x {psa.n_strategies} strategies, median of {args.repeats}")
    for method in ("gam", "gp"):
        for label, names in sets.items():
            seconds = timed(
                lambda n=names, m=method: evppi(psa, theta, n, wtp=wtp, method=m, seed=1),
                args.repeats,
            )
            value = evppi(psa, theta, names, wtp=wtp, method=method, seed=1)["evppi"].item()
            print(f"EVPPI {method:3s} {label:12s}: {seconds:6.3f} s  (EVPPI = {value:,.1f})")
    grid = np.linspace(0, 100_000, 100)
    seconds = timed(lambda: evpi(psa, grid), args.repeats)
    print(f"EVPI over a {grid.size}-point WTP grid: {seconds:6.3f} s")


if __name__ == "__main__":
    main()
