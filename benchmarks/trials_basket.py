"""Benchmark: exact Fujikawa basket designs with 4, 6, 8 and 10 baskets of n = 24.

Run:  .venv/bin/python benchmarks/trials_basket.py
Targets: every design gives exact results or a clear refusal (ExactComputationTooLarge) within
seconds, never an out-of-memory kill; 6 baskets are computed exactly; the memory the
computation allocates stays below 200 MB. Prints, per design, the outcomes enumerated, the wall
time, the peak memory allocated during the call (tracemalloc, which sees numpy's buffers) and
the process's peak resident size so far (getrusage), then a Monte-Carlo run of the refused
10-basket design with `fujikawa_simulated`.
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Callable

from permedhub.trials.basket import (
    EXACT_OUTCOME_LIMIT,
    BasketOperatingCharacteristics,
    FujikawaSettings,
    fujikawa_design,
    fujikawa_simulated,
)
from permedhub.trials.errors import ExactComputationTooLarge

N, P0 = 24, 0.2
MEMORY_TARGET_MB = 200.0
SETTINGS = FujikawaSettings(lambda_=0.99, epsilon=2.0, tau=0.0)  # Fujikawa et al.'s design (i)
CASES: list[tuple[str, list[float]]] = [
    ("4 baskets, global null", [P0] * 4),
    ("6 baskets, global null", [P0] * 6),
    ("6 baskets, six different rates", [0.1, 0.15, 0.2, 0.3, 0.4, 0.5]),
    ("8 baskets, global null", [P0] * 8),
    ("8 baskets, 7 null + 1 active", [P0] * 7 + [0.5]),
    ("10 baskets, global null", [P0] * 10),
]


def measure(
    call: Callable[[], BasketOperatingCharacteristics],
) -> tuple[str, float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = call()
        outcome = (
            f"exact, {result.details['exact_outcomes']:,} outcomes, FWER {result.fwer:.6f}"
            if result.exact
            else f"simulated, FWER {result.fwer:.4f} (SE {result.fwer_se:.4f})"
        )
    except ExactComputationTooLarge as error:
        outcome = f"refused: {error.outcomes:,} outcomes > {error.limit:,}"
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return outcome, seconds, peak


def main() -> None:
    fujikawa_design([P0] * 2, P0, N, SETTINGS)  # JSD table and imports out of the figures
    print(f"Fujikawa design (i), n = {N} per basket, p0 = {P0}; limit {EXACT_OUTCOME_LIMIT:,}")
    print(f"{'design':<32} {'seconds':>8} {'peak MB':>8} {'RSS MB':>7}  result")
    for label, rates in CASES:
        outcome, seconds, peak = measure(
            lambda rates=rates: fujikawa_design(rates, P0, N, SETTINGS)
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        flag = "" if peak < MEMORY_TARGET_MB else "  OVER MEMORY TARGET"
        print(f"{label:<32} {seconds:>8.2f} {peak:>8.0f} {rss:>7.0f}  {outcome}{flag}")
    outcome, seconds, peak = measure(
        lambda: fujikawa_simulated([P0] * 10, P0, N, SETTINGS, n_sim=20_000, seed=1)
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    label = "10 baskets, simulated (20,000)"
    print(f"{label:<32} {seconds:>8.2f} {peak:>8.0f} {rss:>7.0f}  {outcome}")


if __name__ == "__main__":
    main()
