"""Benchmark: Simon two-stage searches up to the cap n = 300, against the 2 s target.

Run:  .venv/bin/python benchmarks/trials_simon.py
Prints, for designs from rare to common responses (alpha 0.05, power 0.8), the wall time and the
peak memory the search allocated (tracemalloc) with the optimal and minimax designs found.
"""

from __future__ import annotations

import time
import tracemalloc

from permedhub.trials.errors import TrialInputError
from permedhub.trials.simon import simon_two_stage

TARGET_SECONDS = 2.0
CASES = [
    (0.05, 0.10),
    (0.01, 0.02),
    (0.10, 0.30),
    (0.20, 0.30),
    (0.30, 0.40),
    (0.45, 0.55),
    (0.60, 0.70),
    (0.80, 0.90),
]


def main() -> None:
    simon_two_stage(0.2, 0.4)  # warm imports and caches out of the first figure
    print(
        f"{'p0':>5} {'p1':>5} {'seconds':>8} {'peak MB':>8}  result (target < {TARGET_SECONDS} s)"
    )
    for p0, p1 in CASES:
        tracemalloc.start()
        start = time.perf_counter()
        try:
            result = simon_two_stage(p0, p1)
            found = (
                f"optimal {result.optimal.r1}/{result.optimal.n1}, "
                f"{result.optimal.r}/{result.optimal.n}; minimax n = {result.minimax.n}"
            )
        except TrialInputError as error:
            found = f"refused: {error}"
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        verdict = "ok" if seconds < TARGET_SECONDS else "SLOW"
        print(f"{p0:>5} {p1:>5} {seconds:>8.2f} {peak:>8.0f}  {verdict}: {found}")


if __name__ == "__main__":
    main()
