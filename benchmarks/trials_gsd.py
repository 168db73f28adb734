"""Benchmark: group-sequential designs K = 2..10 (Pocock, OBF, Lan-DeMets) with futility.

Run:  .venv/bin/python benchmarks/trials_gsd.py
Prints the time to compute every design (bounds, drift, inflation factor, expected sample sizes,
stopping probabilities) and, when Rscript with rpact is available, rpact's time for the
Lan-DeMets designs (rpact supports beta-spending futility only with alpha-spending designs)
together with the largest difference in critical values between the two.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from permedhub.trials.gsd import design_gsd

LOOKS = range(2, 11)
ALPHA, BETA = 0.025, 0.1


def python_designs() -> dict[str, float]:
    timings: dict[str, float] = {}
    for boundary in ("pocock", "obf", "ld-obf", "ld-pocock"):
        for futility in ("none", "nonbinding", "binding"):
            start = time.perf_counter()
            for looks in LOOKS:
                design_gsd(looks, boundary, ALPHA, BETA, futility=futility)  # type: ignore[arg-type]
            timings[f"{boundary}/{futility}"] = time.perf_counter() - start
    return timings


R_SCRIPT = """
suppressMessages(library(rpact))
out <- list()
t0 <- Sys.time()
for (type in c("asOF", "asP")) for (binding in c(FALSE, TRUE)) for (K in 2:10) {
  d <- getDesignGroupSequential(kMax = K, alpha = 0.025, beta = 0.1, sided = 1,
         typeOfDesign = type, typeBetaSpending = ifelse(type == "asOF", "bsOF", "bsP"),
         bindingFutility = binding)
  ch <- getDesignCharacteristics(d)
  out[[paste(type, binding, K)]] <- d$criticalValues
}
elapsed <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
cat(jsonlite::toJSON(list(elapsed = elapsed, bounds = out), digits = 10, auto_unbox = TRUE))
"""


def rpact_designs() -> tuple[float, dict[str, list[float]]] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bench.R"
        script.write_text(R_SCRIPT)
        completed = subprocess.run(
            ["Rscript", str(script)], capture_output=True, text=True, check=False
        )
    if completed.returncode != 0:
        print("rpact run failed:", completed.stderr.strip()[:300])
        return None
    payload = json.loads(completed.stdout)
    return float(payload["elapsed"]), payload["bounds"]


def main() -> None:
    timings = python_designs()
    total = sum(timings.values())
    print(
        f"permedhub.trials.gsd: {4 * 3 * len(LOOKS)} designs, K = 2..10, alpha {ALPHA}, beta {BETA}"
    )
    for name, seconds in timings.items():
        print(f"  {name:22s} {seconds * 1000:8.1f} ms for K = 2..10")
    print(f"  total {total:.2f} s")
    start = time.perf_counter()
    for looks in LOOKS:
        for binding in ("nonbinding", "binding"):
            design_gsd(looks, "ld-obf", ALPHA, BETA, futility=binding)  # type: ignore[arg-type]
            design_gsd(looks, "ld-pocock", ALPHA, BETA, futility=binding)  # type: ignore[arg-type]
    ours = time.perf_counter() - start
    rpact = rpact_designs()
    if rpact is None:
        print("rpact: not available (Rscript or rpact missing)")
        return
    elapsed, bounds = rpact
    worst = 0.0
    for key, values in bounds.items():
        family, binding, looks = key.split()
        boundary = "ld-obf" if family == "asOF" else "ld-pocock"
        futility = "binding" if binding == "TRUE" else "nonbinding"
        mine = design_gsd(int(looks), boundary, ALPHA, BETA, futility=futility)  # type: ignore[arg-type]
        worst = max(worst, float(np.max(np.abs(mine.efficacy_bounds - np.asarray(values)))))
    print(
        f"Lan-DeMets OBF/Pocock with beta-spending futility (binding and non-binding), K = 2..10 "
        f"(36 designs): permedhub {ours:.2f} s, rpact {elapsed:.2f} s (ratio rpact/permedhub "
        f"{elapsed / ours:.2f}); max |critical value difference| {worst:.2e}"
    )


if __name__ == "__main__":
    main()
