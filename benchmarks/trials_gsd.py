"""Benchmark: group-sequential designs against rpact, side by side.

Run:  .venv/bin/python benchmarks/trials_gsd.py
Part 1 (target: faster than rpact for every boundary family and K <= 20): per design, the
time of the bounds alone (`efficacy_bounds` vs rpact's `getDesignGroupSequential`) and of the
whole design (`design_gsd`: bounds, drift, inflation, expected sizes, stopping probabilities vs
`getDesignGroupSequential` + `getDesignCharacteristics`) for O'Brien-Fleming, Pocock,
Wang-Tsiatis (Delta 0.25), Haybittle-Peto and the Lan-DeMets spending families, K = 2..20,
with the largest critical-value difference. Part 2: K = 2..10 with beta-spending futility
(rpact supports it only with alpha-spending designs). Needs Rscript with rpact and jsonlite
(Debian: r-cran-rpact r-cran-jsonlite) for the rpact columns.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from permedhub.trials.gsd import design_gsd, efficacy_bounds

FloatArray = NDArray[np.float64]

LOOKS = range(2, 11)
ALPHA, BETA = 0.025, 0.1
FAMILY_LOOKS = (2, 5, 10, 15, 20)
REPEATS = 5
# permedhub boundary -> (rpact typeOfDesign, extra arguments)
FAMILIES = {
    "obf": ("OF", {}),
    "pocock": ("P", {}),
    "wt": ("WT", {"delta_wt": 0.25}),
    "hp": ("HP", {}),
    "ld-obf": ("asOF", {}),
    "ld-pocock": ("asP", {}),
}

FAMILY_SCRIPT = """
suppressMessages(library(rpact))
out <- list()
for (type in c(%(types)s)) for (K in c(%(looks)s)) {
  make <- function() {
    if (type == "WT") getDesignGroupSequential(kMax = K, alpha = 0.025, beta = 0.1, sided = 1,
                                               typeOfDesign = type, deltaWT = 0.25)
    else getDesignGroupSequential(kMax = K, alpha = 0.025, beta = 0.1, sided = 1,
                                  typeOfDesign = type)
  }
  d <- make()
  t0 <- Sys.time(); for (i in 1:%(repeats)d) d <- make(); t1 <- Sys.time()
  for (i in 1:%(repeats)d) getDesignCharacteristics(d); t2 <- Sys.time()
  out[[paste(type, K)]] <- list(
    bounds = as.numeric(difftime(t1, t0, units = "secs")) / %(repeats)d,
    characteristics = as.numeric(difftime(t2, t1, units = "secs")) / %(repeats)d,
    critical = d$criticalValues)
}
cat(jsonlite::toJSON(out, digits = 12, auto_unbox = TRUE))
"""


def _per_call(call: Callable[[], object]) -> float:
    call()  # warm caches (grids, imports) as rpact's first call does above
    start = time.perf_counter()
    for _ in range(REPEATS):
        call()
    return (time.perf_counter() - start) / REPEATS


def family_timings() -> dict[tuple[str, int], tuple[float, float, FloatArray]]:
    """(boundary, K) -> (seconds for the bounds, seconds for the whole design, bounds)."""
    result = {}
    for boundary, (_, extra) in FAMILIES.items():
        for looks in FAMILY_LOOKS:
            bounds = efficacy_bounds(looks, boundary, ALPHA, **extra)  # type: ignore[arg-type]
            result[boundary, looks] = (
                _per_call(lambda: efficacy_bounds(looks, boundary, ALPHA, **extra)),  # type: ignore[arg-type]  # noqa: B023
                _per_call(lambda: design_gsd(looks, boundary, ALPHA, BETA, **extra)),  # type: ignore[arg-type]  # noqa: B023
                np.asarray(bounds),
            )
    return result


def rpact_family_timings() -> dict[str, dict[str, object]] | None:
    script = FAMILY_SCRIPT % {
        "types": ", ".join(f'"{rpact}"' for rpact, _ in FAMILIES.values()),
        "looks": ", ".join(str(k) for k in FAMILY_LOOKS),
        "repeats": REPEATS,
    }
    return _rscript(script)


def _rscript(script: str) -> Any:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.R"
        path.write_text(script)
        completed = subprocess.run(
            ["Rscript", str(path)], capture_output=True, text=True, check=False
        )
    if completed.returncode != 0:
        print("rpact run failed:", completed.stderr.strip()[:300])
        return None
    return json.loads(completed.stdout)


def print_families() -> None:
    ours = family_timings()
    theirs = rpact_family_timings()
    print(
        f"Part 1: one design, alpha {ALPHA} one-sided, beta {BETA}; ms per call (mean of "
        f"{REPEATS}); target: permedhub faster than rpact in both columns"
    )
    print(
        f"{'family':10s} {'K':>3s} {'bounds':>8s} {'rpact':>8s} {'design':>8s} "
        f"{'rpact':>8s} {'|dz| max':>9s}  verdict"
    )
    slower = 0
    for (boundary, looks), (bounds_s, design_s, bounds) in ours.items():
        rpact_name = FAMILIES[boundary][0]
        if theirs is None:
            print(
                f"{boundary:10s} {looks:3d} {bounds_s * 1e3:8.1f} {'-':>8s} "
                f"{design_s * 1e3:8.1f} {'-':>8s}"
            )
            continue
        row = theirs[f"{rpact_name} {looks}"]
        r_bounds = float(row["bounds"])
        r_design = r_bounds + float(row["characteristics"])
        critical = np.asarray(row["critical"], dtype=float)
        # rpact reports a first-look bound beyond 8 as Inf; compare the looks both report.
        finite = np.isfinite(critical)
        diff = float(np.max(np.abs(bounds[finite] - critical[finite])))
        note = "" if finite.all() else f" (rpact: Inf at {int((~finite).sum())} look)"
        ok = bounds_s < r_bounds and design_s < r_design
        slower += not ok
        print(
            f"{boundary:10s} {looks:3d} {bounds_s * 1e3:8.1f} {r_bounds * 1e3:8.1f} "
            f"{design_s * 1e3:8.1f} {r_design * 1e3:8.1f} {diff:9.1e}  "
            f"{'faster' if ok else 'SLOWER'}{note}"
        )
    if theirs is None:
        print("rpact: not available (Rscript or rpact missing)")
    else:
        print(f"rows where permedhub is slower than rpact: {slower} of {len(ours)}")


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
    payload = _rscript(R_SCRIPT)
    if payload is None:
        return None
    return {k: float(v) for k, v in payload["elapsed"].items()}, payload["bounds"]


def main() -> None:
    print_families()
    print()
    print_futility()


def print_futility() -> None:
    timings = python_designs()
    total = sum(timings.values())
    print(
        f"Part 2: {4 * 3 * len(LOOKS)} designs, K = 2..10, alpha {ALPHA}, beta {BETA}, with "
        "and without futility"
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
