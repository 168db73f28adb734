"""Benchmark: 100,000 two-stage adaptive-enrichment trials, side by side with rpact.

Design (identical in both): normal endpoint, sigma = 1 in S and S^c, marker prevalence 0.4,
150 + 150 patients (1:1), inverse-normal combination with equal weights, no early efficacy
stop (rpact: getDesignInverseNormal(kMax = 2, typeOfDesign = "noEarlyEfficacy")), closed
testing with the Simes intersection test, epsilon selection (epsilon = 0.1 on the estimated
effect), stratified analysis, success criterion "all". Scenarios: the global null (FWER) and
effects (0.4 in S, 0.1 in S^c) (power). rpact fixes the sub-population sizes at
prevalence x n, so our summary engine is compared with `subgroup_sizes="expected"`; the
binomial (random) sub-population sizes and the patient-level engine are timed and reported too.

Run:  .venv/bin/python benchmarks/trials_enrichment.py [--n-sim 100000] [--no-rpact] [--json]
rpact comes from `apt-get install -y r-cran-rpact`; without Rscript the rpact column is empty.
Agreement: |ours - rpact| <= 3 * sqrt(SE_ours^2 + SE_rpact^2) for every compared probability.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import replace
from typing import Any

from permedhub.trials.engines.enrichment_patient import PatientLevelEngine
from permedhub.trials.engines.enrichment_summary import SummaryStatisticEngine
from permedhub.trials.engines.runner import run_simulation
from permedhub.trials.enrichment import EnrichmentDesign, EnrichmentSimulator, NormalScenario

DESIGN = EnrichmentDesign(
    stage_sample_sizes=(150, 150),
    prevalences=(0.4, 0.6),
    intersection_test="simes",
    selection="epsilon",
    epsilon=0.1,
    effect_measure="standardised_effect",
    stratified=True,
    subgroup_sizes="expected",
    success_criterion="all",
)
SCENARIOS = {"global null": NormalScenario(0.0, 0.0), "alternative": NormalScenario(0.4, 0.1)}
COMPARED = ("reject_S", "reject_F", "reject_any")

R_SCRIPT = r"""
suppressMessages(library(rpact))
args <- commandArgs(trailingOnly = TRUE)
n_sim <- as.integer(args[1])
design <- getDesignInverseNormal(kMax = 2, typeOfDesign = "noEarlyEfficacy", alpha = 0.025)
el <- list(subGroups = c("S", "R"), prevalences = c(0.4, 0.6), stDevs = c(1, 1),
           effects = matrix(c(0, 0, 0.4, 0.1), byrow = TRUE, ncol = 2))
started <- Sys.time()
cpu_started <- proc.time()
sim <- suppressWarnings(getSimulationEnrichmentMeans(design, effectList = el,
  plannedSubjects = c(150, 300), intersectionTest = "Simes", typeOfSelection = "epsilon",
  epsilonValue = 0.1, stratifiedAnalysis = TRUE, effectMeasure = "effectEstimate",
  successCriterion = "all", maxNumberOfIterations = n_sim, seed = 1))
seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
cpu <- sum((proc.time() - cpu_started)[1:2])
rejected <- apply(sim$rejectedPopulationsPerStage, c(2, 3), sum)  # [stage, scenario, population]
cat(sprintf("seconds %.6f\n", seconds))
cat(sprintf("cpu %.6f\n", cpu))
for (i in 1:2) cat(sprintf("scenario%d %.8f %.8f %.8f\n", i, rejected[i, 1], rejected[i, 2],
  sim$rejectAtLeastOne[i]))
cat(sprintf("version %s\n", as.character(packageVersion("rpact"))))
"""


def ours(engine_name: str, n_sim: int, seed: int, design: EnrichmentDesign) -> dict[str, Any]:
    results: dict[str, Any] = {}
    total = cpu_total = 0.0
    for label, scenario in SCENARIOS.items():
        engine = (
            SummaryStatisticEngine(design, scenario)
            if engine_name == "summary"
            else PatientLevelEngine(design, scenario)
        )
        simulator = EnrichmentSimulator(design, scenario, engine)
        run_simulation(simulator, 1_000, seed)  # warm-up (imports, allocator), not timed
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = run_simulation(simulator, n_sim, seed)
        elapsed = time.perf_counter() - started
        total += elapsed
        cpu_total += time.process_time() - cpu_started
        results[label] = {
            "seconds": elapsed,
            **{m: (summary[m].mean, summary[m].se) for m in (*COMPARED, "fwer")},
        }
    results["seconds_total"] = total
    results["cpu_seconds_total"] = cpu_total
    return results


def rpact(n_sim: int) -> dict[str, Any] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as handle:
        handle.write(R_SCRIPT)
        path = handle.name
    try:
        started = time.perf_counter()
        output = subprocess.run(
            ["Rscript", path, str(n_sim)], check=True, capture_output=True, text=True
        ).stdout
        wall = time.perf_counter() - started
    finally:
        os.unlink(path)
    lines = dict(line.split(" ", 1) for line in output.strip().splitlines())
    result: dict[str, Any] = {
        "seconds_total": float(lines["seconds"]),
        "cpu_seconds_total": float(lines["cpu"]),
        "wall_seconds": wall,
    }
    result["version"] = lines["version"]
    for index, label in enumerate(SCENARIOS, start=1):
        s, f, any_ = (float(v) for v in lines[f"scenario{index}"].split())
        result[label] = {
            name: (value, math.sqrt(value * (1 - value) / n_sim))
            for name, value in zip(COMPARED, (s, f, any_), strict=True)
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-rpact", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    figures: dict[str, Any] = {"n_sim_per_scenario": args.n_sim, "scenarios": list(SCENARIOS)}
    figures["summary (fixed sizes, as rpact)"] = ours("summary", args.n_sim, args.seed, DESIGN)
    binomial = replace(DESIGN, subgroup_sizes="binomial")
    figures["summary (binomial sizes)"] = ours("summary", args.n_sim, args.seed, binomial)
    figures["patient-level (binomial sizes)"] = ours("patient", args.n_sim, args.seed, binomial)
    reference = None if args.no_rpact else rpact(args.n_sim)
    figures["rpact"] = reference

    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{args.n_sim:,} simulated trials per scenario, 2 scenarios (global null, alternative)")
    print("seconds per scenario: wall clock (shared machine) and CPU time of the process")
    print(f"{'engine':34} {'wall':>8} {'cpu':>8}  {'rpact/ours wall':>15} {'cpu':>8}")
    rpact_wall = reference["seconds_total"] / 2 if reference else None
    rpact_cpu = reference["cpu_seconds_total"] / 2 if reference else None
    for name in ("summary (fixed sizes, as rpact)", "summary (binomial sizes)",
                 "patient-level (binomial sizes)"):  # fmt: skip
        wall = figures[name]["seconds_total"] / 2
        cpu = figures[name]["cpu_seconds_total"] / 2
        ratios = (
            f"{rpact_wall / wall:15.1f} {rpact_cpu / cpu:8.1f}" if rpact_wall and rpact_cpu else ""
        )
        print(f"{name:34} {wall:8.3f} {cpu:8.3f}  {ratios}")
    if reference:
        print(f"{'rpact ' + reference['version']:34} {rpact_wall:8.1f} {rpact_cpu:8.1f}")
        print("\nagreement with rpact (ours = summary engine, fixed sizes):")
        mine = figures["summary (fixed sizes, as rpact)"]
        for label in SCENARIOS:
            for metric in COMPARED:
                (a, se_a), (b, se_b) = mine[label][metric], reference[label][metric]
                z = (a - b) / math.hypot(se_a, se_b) if se_a or se_b else 0.0
                verdict = "ok" if abs(z) <= 3 else "DIFFERS"
                name = "FWER" if label == "global null" and metric == "reject_any" else metric
                print(f"  {label:12} {name:11} ours {a:.4f} ({se_a:.4f})  rpact {b:.4f}"
                      f" ({se_b:.4f})  z = {z:+.2f}  {verdict}")  # fmt: skip
    patient = figures["patient-level (binomial sizes)"]
    summary = figures["summary (binomial sizes)"]
    print("\npatient-level vs summary engine (binomial sizes):")
    for label in SCENARIOS:
        for metric in COMPARED:
            (a, se_a), (b, se_b) = patient[label][metric], summary[label][metric]
            z = (a - b) / math.hypot(se_a, se_b) if se_a or se_b else 0.0
            print(f"  {label:12} {metric:11} patient {a:.4f}  summary {b:.4f}  z = {z:+.2f}")


if __name__ == "__main__":
    main()
