"""Benchmark: group-sequential designs K = 2..10 (Pocock, OBF, Lan-DeMets) with futility.

Run:  .venv/bin/python benchmarks/trials_gsd.py
Prints the time to compute every design (bounds, drift, inflation factor, expected sample sizes,
stopping probabilities) and, when Rscript with rpact is available, rpact's time for the same
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
bounds <- list()
design <- function(type, K, futility) {
  if (futility == "none") {
    d <- getDesignGroupSequential(kMax = K, alpha = 0.025, beta = 0.1, sided = 1,
                                  typeOfDesign = type)
  } else {
    d <- getDesignGroupSequential(kMax = K, alpha = 0.025, beta = 0.1, sided = 1,
           typeOfDesign = type, typeBetaSpending = ifelse(type == "asOF", "bsOF", "bsP"),
           bindingFutility = futility == "binding")
  }
  getDesignCharacteristics(d)
  d$criticalValues
}
elapsed <- list()
for (futility in c("none", "nonbinding", "binding")) {
  t0 <- Sys.time()
  for (type in c("asOF", "asP")) for (K in 2:10) {
    bounds[[paste(type, futility, K)]] <- design(type, K, futility)
  }
  elapsed[[futility]] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
}
cat(jsonlite::toJSON(list(elapsed = elapsed, bounds = bounds), digits = 10, auto_unbox = TRUE))
"""


def rpact_designs() -> tuple[dict[str, float], dict[str, list[float]]] | None:
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
    return {k: float(v) for k, v in payload["elapsed"].items()}, payload["bounds"]


def main() -> None:
    timings = python_designs()
    total = sum(timings.values())
    print(
        f"permedhub.trials.gsd: {4 * 3 * len(LOOKS)} designs, K = 2..10, alpha {ALPHA}, beta {BETA}"
    )
    for name, seconds in timings.items():
        print(f"  {name:22s} {seconds * 1000:8.1f} ms for K = 2..10")
    print(f"  total {total:.2f} s")
    rpact = rpact_designs()
    if rpact is None:
        print("rpact: not available (Rscript or rpact missing)")
        return
    elapsed, bounds = rpact
    print("Lan-DeMets OBF + Pocock (asOF/asP, bsOF/bsP), K = 2..10, 18 designs per row,")
    print("design + characteristics (inflation, ASN) in both packages, same run:")
    for futility in ("none", "nonbinding", "binding"):
        ours = timings[f"ld-obf/{futility}"] + timings[f"ld-pocock/{futility}"]
        theirs = elapsed[futility]
        print(
            f"  futility {futility:10s} permedhub {ours:7.2f} s   rpact {theirs:7.2f} s   "
            f"rpact/permedhub {theirs / ours:6.2f}"
        )
    worst = 0.0
    for key, values in bounds.items():
        family, futility, looks = key.split()
        boundary = "ld-obf" if family == "asOF" else "ld-pocock"
        mine = design_gsd(int(looks), boundary, ALPHA, BETA, futility=futility)  # type: ignore[arg-type]
        worst = max(worst, float(np.max(np.abs(mine.efficacy_bounds - np.asarray(values)))))
    print(f"  max |critical value difference| over the 54 designs: {worst:.2e}")


if __name__ == "__main__":
    main()
