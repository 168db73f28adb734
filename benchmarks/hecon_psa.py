"""Benchmark: PSA of 10,000 draws x 4 strategies x 100 cycles x 10 states, time-varying.

Run on demand: ``.venv/bin/python benchmarks/hecon_psa.py [--draws N] [--naive-draws M]``.
Prints the wall time and peak traced memory (tracemalloc) of the vectorised engine, and the
time of a naive per-draw Python loop (scalar parameters, one 10x10 matrix per cycle) over a
subset of draws, extrapolated per draw, with the ratio. Targets: <= 1 s and <= 100 MB.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from typing import Any

import numpy as np

from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model

N_STATES = 10  # 9 disease stages + dead
CYCLES = 100
STRATEGY_HR = {"usual": 1.0, "drug_a": 0.85, "drug_b": 0.75, "drug_ab": 0.65}


def benchmark_model() -> dict[str, Any]:
    """Progressive 9-stage disease with age-dependent (Gompertz) background mortality."""
    stages = [f"stage{i}" for i in range(1, N_STATES)]
    params: dict[str, Any] = {
        "age0": 50,
        "hr": 1.0,
        "mu": "rate_to_prob(0.0002 * exp(0.085 * (age0 + model_time)))",
    }
    transitions: dict[str, dict[str, Any]] = {}
    costs: dict[str, Any] = {}
    utilities: dict[str, Any] = {}
    for i, s in enumerate(stages, start=1):
        params[f"p{i}"] = {"distribution": "beta", "alpha": 10 + i, "beta": 90}
        params[f"c{i}"] = {"distribution": "gamma", "mean": 1000 * i, "se": 200 * i}
        params[f"u{i}"] = {"distribution": "beta", "mean": 0.95 - 0.07 * i, "se": 0.02}
        row: dict[str, Any] = {s: "C", "dead": f"min(mu * (1 + 0.1 * {i}), 0.5)"}
        if i < len(stages):
            row[stages[i]] = f"p{i} * hr"
        transitions[s] = row
        costs[s] = f"c{i}"
        utilities[s] = f"u{i}"
    strategies = {
        name: {"parameters": {"hr": hr}, "initial_costs": {"drug": 5000 * (1 - hr)}}
        for name, hr in STRATEGY_HR.items()
    }
    return {
        "name": "benchmark",
        "settings": {
            "cycles": CYCLES,
            "cycle_length": 1,
            "discount_costs": 0.035,
            "discount_outcomes": 0.035,
            "discount_method": "cycle_end",
            "counting": "half_cycle",
            "effect": "qaly",
        },
        "states": [{"name": s} for s in stages] + [{"name": "dead", "dead": True}],
        "parameters": params,
        "strategies": strategies,
        "transitions": transitions,
        "initial": {"stage1": 1},
        "state_costs": {"medical": costs},
        "state_utilities": utilities,
        "initial_costs": {"drug": 0},
    }


def naive_per_draw(model: MarkovModel, draws: dict[str, np.ndarray], n: int) -> np.ndarray:
    """The textbook loop: per draw, per strategy, per cycle a dense 10x10 matrix."""
    results = np.empty((n, len(STRATEGY_HR)))
    disc = 1.035 ** -np.arange(1, CYCLES + 1)
    for k in range(n):
        for j, hr in enumerate(STRATEGY_HR.values()):
            m = np.zeros(N_STATES)
            m[0] = 1.0
            cost = 5000 * (1 - hr)
            for t in range(1, CYCLES + 1):
                mu = 1 - np.exp(-0.0002 * np.exp(0.085 * (50 + t)))
                p = np.zeros((N_STATES, N_STATES))
                for i in range(1, N_STATES):
                    pd_ = min(mu * (1 + 0.1 * i), 0.5)
                    p[i - 1, N_STATES - 1] = pd_
                    if i < N_STATES - 1:
                        p[i - 1, i] = draws[f"p{i}"][k] * hr
                    p[i - 1, i - 1] = 1 - p[i - 1].sum()
                p[-1, -1] = 1
                new = m @ p
                c = np.array([draws[f"c{i}"][k] for i in range(1, N_STATES)] + [0.0])
                w = 0.5 if t == CYCLES else 1.0
                cost += disc[t - 1] * (w * new @ c + (0.5 * m @ c if t == 1 else 0.0))
                m = new
            results[k, j] = cost
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--naive-draws", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (best is reported)")
    args = parser.parse_args()

    model = MarkovModel(load_model(benchmark_model()))
    model.run(n_draws=100, seed=args.seed)  # warm-up (imports, caches)

    timings = []
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = model.run(n_draws=args.draws, seed=args.seed)
        timings.append((time.perf_counter() - start, time.process_time() - cpu))
    elapsed, cpu_time = min(timings)

    tracemalloc.start()
    model.run(n_draws=args.draws, seed=args.seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    draws = result.parameters
    start = time.perf_counter()
    naive = naive_per_draw(model, draws, args.naive_draws)
    naive_per = (time.perf_counter() - start) / args.naive_draws
    engine_costs = result.summary.pivot(index="draw", columns="strategy")["cost"]
    engine_costs = engine_costs[list(STRATEGY_HR)].to_numpy()[: args.naive_draws]
    max_diff = float(np.max(np.abs(naive - engine_costs) / engine_costs))

    print(
        f"PSA {args.draws} draws x {len(STRATEGY_HR)} strategies x {CYCLES} cycles x "
        f"{N_STATES} states (time-varying)"
    )
    print(
        f"  vectorised engine: {elapsed:.3f} s wall (best of {args.repeat}), {cpu_time:.3f} s CPU, "
        f"peak traced memory {peak / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(
        f"  naive per-draw loop: {naive_per * 1e3:.1f} ms per draw "
        f"(measured on {args.naive_draws} draws) -> {naive_per * args.draws:.1f} s for "
        f"{args.draws}; ratio {naive_per * args.draws / elapsed:.0f}x"
    )
    print(f"  naive vs engine max relative cost difference: {max_diff:.2e}")


if __name__ == "__main__":
    main()
