"""Benchmark: PSA of 10,000 draws x 4 strategies x 100 cycles x 10 states, time-varying.

Run on demand: ``.venv/bin/python benchmarks/hecon_psa.py [--draws N] [--naive-draws M]
[--workers W] [--baseline-src DIR]``.

Two models of the same size: the *benchmark* model (Gompertz background mortality written as
one formula, constant costs and utilities) and a *user-style* model written as a modeller
would: background mortality looked up by age in a life table (``mx(age)``, the DARTH US 2015
table from ``../shared/hecon`` when present, else a Gompertz table written to a temporary
CSV), stage-specific mortality hazard ratios and a cost growth rate drawn in the PSA, costs
that grow with the cycle plus a first-two-cycles surcharge, utilities falling with age, and a
one-off cost of dying. For each it prints the wall time and the CPU time (each the best of
--repeat runs; under load from other processes the wall time includes waiting for a core) and
the peak traced memory (tracemalloc: NumPy's allocations, i.e. beyond the imports) against
the targets (<= 0.5 s and <= 100 MB for the user-style model; the benchmark model keeps its
original <= 1 s / <= 100 MB). With ``--baseline-src DIR`` (the ``src`` folder of another
checkout, e.g. ``git archive <commit> src | tar -x -C /tmp/base``) the same workloads run on
that engine in a subprocess and printed side by side. The first run of the user-style model
in each of --repeat new processes is timed too (numba's start-up included, its on-disk cache
filled by the runs before). The naive per-draw Python loop
(scalar parameters, one 10x10 matrix per cycle) checks the benchmark model's costs.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
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


SHARED_LIFE_TABLE = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "hecon"
    / "darth_LifeTable_USA_Mx_2015.csv"
)
TARGETS = {"benchmark": (1.0, 100.0), "user-style": (0.5, 100.0)}  # (s, MB)


def gompertz_life_table(folder: Path) -> Path:
    """A synthetic life table (ages 0-110, m_x = 2e-4 exp(0.085 x)) when the shared one is
    absent: the same file lookup as a real table."""
    path = folder / "gompertz_life_table.csv"
    ages = np.arange(111)
    rows = "\n".join(f"{a},{2e-4 * np.exp(0.085 * a):.6g}" for a in ages)
    path.write_text("Age,Total\n" + rows + "\n", encoding="utf-8")
    return path


def user_style_model(life_table: Path) -> dict[str, Any]:
    """The benchmark's structure written as a user would (see the module doc)."""
    stages = [f"stage{i}" for i in range(1, N_STATES)]
    params: dict[str, Any] = {
        "mx": {"file": str(life_table), "key": "Age", "column": "Total", "method": "step"},
        "age0": 50,
        "hr": 1.0,
        "age": "age0 + (model_time - 1) * cycle_length",
        "growth": {"distribution": "normal", "mean": 0.02, "sd": 0.005},
    }
    transitions: dict[str, dict[str, Any]] = {}
    costs: dict[str, Any] = {}
    utilities: dict[str, Any] = {}
    for i, s in enumerate(stages, start=1):
        params[f"p{i}"] = {"distribution": "beta", "alpha": 10 + i, "beta": 90}
        params[f"hr_d{i}"] = {"distribution": "lognormal", "mean": 1 + 0.1 * i, "se": 0.05}
        params[f"c{i}"] = {"distribution": "gamma", "mean": 1000 * i, "se": 200 * i}
        params[f"u{i}"] = {"distribution": "beta", "mean": 0.95 - 0.07 * i, "se": 0.02}
        params[f"pd{i}"] = f"rate_to_prob(mx(age) * hr_d{i}, cycle_length)"
        row: dict[str, Any] = {s: "C", "dead": f"pd{i}"}
        if i < len(stages):
            row[stages[i]] = f"(1 - pd{i}) * p{i} * hr"
        transitions[s] = row
        costs[s] = f"c{i} * (1 + growth) ** (model_time - 1) + (500 if model_time <= 2 else 0)"
        utilities[s] = f"max(u{i} - 0.004 * (age - age0), 0)"
    doc = benchmark_model()
    doc.update(
        name="user-style benchmark",
        parameters=params,
        transitions=transitions,
        state_costs={"medical": costs},
        state_utilities=utilities,
        transition_rewards=[{"from": s, "to": "dead", "costs": {"medical": 3000}} for s in stages],
    )
    return doc


def measure(doc: dict[str, Any], draws: int, seed: int, repeat: int, workers: int) -> dict:
    """Best-of-`repeat` wall time and CPU time, and the peak traced memory of one more run."""
    model = MarkovModel(load_model(doc))
    # an engine without the workers option (e.g. an older checkout given as the baseline)
    options = {"workers": workers} if "workers" in inspect.signature(model.run).parameters else {}
    model.run(n_draws=100, seed=seed, **options)  # warm-up (imports, caches)
    timings = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = model.run(n_draws=draws, seed=seed, **options)
        timings.append((time.perf_counter() - start, time.process_time() - cpu))
    # the best of each: on a shared machine the wall time of a run includes the time it waited
    # for a core, its CPU time does not
    wall, cpu_time = min(w for w, _ in timings), min(c for _, c in timings)
    tracemalloc.start()
    model.run(n_draws=draws, seed=seed, **options)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    mean = result.mean()
    return {
        "wall": wall,
        "cpu": cpu_time,
        "peak_mb": peak / 1e6,
        "cost": mean["cost"].tolist(),
        "qaly": mean["qaly"].tolist(),
        "result": result,
    }


def workloads(life_table: Path) -> dict[str, dict[str, Any]]:
    return {"benchmark": benchmark_model(), "user-style": user_style_model(life_table)}


def run_all(args: argparse.Namespace, life_table: Path) -> dict[str, dict]:
    return {
        name: measure(doc, args.draws, args.seed, args.repeat, args.workers)
        for name, doc in workloads(life_table).items()
    }


def baseline(args: argparse.Namespace, life_table: Path) -> dict[str, dict]:
    """The same workloads on the engine in --baseline-src, in a subprocess."""
    cmd = [sys.executable, __file__, "--json", "--life-table", str(life_table)]
    cmd += ["--draws", str(args.draws), "--seed", str(args.seed), "--repeat", str(args.repeat)]
    env = {**os.environ, "PYTHONPATH": str(Path(args.baseline_src).resolve())}
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out))


def first_run(life_table: Path, draws: int, seed: int) -> float:
    """Seconds of the user-style model's first run in this process (imports and model
    building excluded): what a new CLI or web process waits, JIT start-up included."""
    model = MarkovModel(load_model(user_style_model(life_table)))
    start = time.perf_counter()
    model.run(n_draws=draws, seed=seed)
    return time.perf_counter() - start


def first_runs(args: argparse.Namespace, life_table: Path, src: str | None) -> list[float]:
    """`first_run` in --repeat new processes, on this engine or the one in `src`."""
    cmd = [sys.executable, __file__, "--first-run", "--life-table", str(life_table)]
    cmd += ["--draws", str(args.draws), "--seed", str(args.seed)]
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())} if src else None
    return [
        float(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
        for _ in range(args.repeat)
    ]


def _cell(fig: dict | None) -> str:
    if fig is None:
        return "-"
    return f"{fig['wall']:.3f} s ({fig['cpu']:.2f} CPU), {fig['peak_mb']:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--naive-draws", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (best is reported)")
    parser.add_argument("--workers", type=int, default=1, help="engine threads (run(workers=))")
    parser.add_argument("--baseline-src", help="src folder of another engine to compare with")
    parser.add_argument("--life-table", help="life-table CSV (Age, Total) for the user model")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    parser.add_argument(
        "--first-run", action="store_true", help="print the seconds of a first run only"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.life_table:
            life_table = Path(args.life_table)
        elif SHARED_LIFE_TABLE.is_file():
            life_table = SHARED_LIFE_TABLE.resolve()
        else:
            life_table = gompertz_life_table(Path(tmp))
        if args.first_run:
            print(first_run(life_table, args.draws, args.seed))
            return
        now = run_all(args, life_table)
        if args.json:
            print(
                json.dumps(
                    {k: {f: v for f, v in fig.items() if f != "result"} for k, fig in now.items()}
                )
            )
            return
        before = baseline(args, life_table) if args.baseline_src else {}
        # after run_all: numba's on-disk cache holds the kernel, as on any machine past its
        # first model
        fresh = first_runs(args, life_table, None)
        fresh_before = first_runs(args, life_table, args.baseline_src) if before else []

    print(
        f"PSA {args.draws} draws x {len(STRATEGY_HR)} strategies x {CYCLES} cycles x "
        f"{N_STATES} states (time-varying); load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores; life table {life_table.name}"
    )
    header = f"  {'model':11s} {'target':16s} {'baseline':32s} {'now':32s}"
    print(header)
    for name, fig in now.items():
        t_s, t_mb = TARGETS[name]
        target = f"<= {t_s:g} s, {t_mb:g} MB"
        flag = "ok" if fig["wall"] <= t_s and fig["peak_mb"] <= t_mb else "OVER TARGET"
        print(f"  {name:11s} {target:16s} {_cell(before.get(name)):32s} {_cell(fig):32s} {flag}")
        if name in before:
            diff = max(
                abs(a - b) / abs(b)
                for key in ("cost", "qaly")
                for a, b in zip(fig[key], before[name][key], strict=True)
            )
            print(
                f"  {'':11s} mean cost/QALY per strategy vs baseline: max relative diff {diff:.1e}"
            )

    print(
        f"  user-style first run in a new process ({args.repeat} processes, JIT start-up "
        f"included): now {min(fresh):.3f}-{max(fresh):.3f} s"
        + (f", baseline {min(fresh_before):.3f}-{max(fresh_before):.3f} s" if fresh_before else "")
    )

    result = now["benchmark"]["result"]
    model = MarkovModel(load_model(benchmark_model()))
    draws = result.parameters
    start = time.perf_counter()
    naive = naive_per_draw(model, draws, args.naive_draws)
    naive_per = (time.perf_counter() - start) / args.naive_draws
    engine_costs = result.summary.pivot(index="draw", columns="strategy")["cost"]
    engine_costs = engine_costs[list(STRATEGY_HR)].to_numpy()[: args.naive_draws]
    max_diff = float(np.max(np.abs(naive - engine_costs) / engine_costs))
    elapsed = now["benchmark"]["wall"]
    print(
        f"  naive per-draw loop (benchmark model): {naive_per * 1e3:.1f} ms per draw (measured "
        f"on {args.naive_draws} draws) -> {naive_per * args.draws:.1f} s for {args.draws}; "
        f"ratio {naive_per * args.draws / elapsed:.0f}x; max relative cost difference "
        f"{max_diff:.2e}"
    )


if __name__ == "__main__":
    main()
