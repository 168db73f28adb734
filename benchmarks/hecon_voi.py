"""Benchmark: EVPPI on 10,000 draws per parameter set (GAM and GP) and EVPI over a 100-point
WTP grid.

Run on demand: ``.venv/bin/python benchmarks/hecon_voi.py [--draws N] [--repeats R]``.

The PSA is synthetic (seeded): strategies whose incremental costs and effects depend
non-linearly on 6 parameters plus noise. At one threshold each EVPPI fits D - 1 metamodels (the
incremental net benefit of each strategy versus the first): 1 fit for D = 2 strategies, 3 for
D = 4. Prints the median wall time over the repeats. Target: <= 1 s per
parameter set.
"""

from __future__ import annotations

import argparse
import os
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


def timed(call: Callable[[], object], repeats: int) -> str:
    """Median wall time and median process CPU time (the CPU time is what the call costs on
    an idle machine when, as here, the work runs on one thread)."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return f"{statistics.median(wall):6.3f} s wall, {statistics.median(cpu):6.3f} s CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    full, theta = synthetic_psa(args.draws)
    wtp = 50_000.0
    sets = {
        "1 parameter": ["p_response"],
        "2 parameters": ["p_response", "hr_death"],
        "3 parameters": ["p_response", "hr_death", "u_response"],
    }
    two = psa_sample(full.costs[:, [0, 3]], full.effects[:, [0, 3]], ["soc", "high"])
    print(f"{args.draws} draws, median of {args.repeats}; cost/effect samples at one WTP")
    for psa in (two, full):
        fits = psa.n_strategies - 1  # one threshold: incremental net benefit regressed
        for method in ("gam", "gp"):
            for label, names in sets.items():
                seconds = timed(
                    lambda p=psa, n=names, m=method: evppi(p, theta, n, wtp=wtp, method=m, seed=1),
                    args.repeats,
                )
                value = evppi(psa, theta, names, wtp=wtp, method=method, seed=1)["evppi"].item()
                print(
                    f"EVPPI {psa.n_strategies} strategies ({fits} fit(s)) {method:3s} "
                    f"{label:12s}: {seconds}  (EVPPI = {value:,.1f})"
                )
    psa = full
    grid = np.linspace(0, 100_000, 100)
    seconds = timed(lambda: evpi(psa, grid), args.repeats)
    print(f"EVPI over a {grid.size}-point WTP grid ({psa.n_strategies} strategies): {seconds}")
    print(f"load average while running: {os.getloadavg()}")


if __name__ == "__main__":
    main()
