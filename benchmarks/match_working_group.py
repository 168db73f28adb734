"""Times working-group selection (MILP) on a SYNTHETIC expert register.

    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/match_working_group.py
    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/match_working_group.py --experts 20000

The register is invented (ids start with `syn-`): experts spread over 6 regions and 5
sectors, each with 1-5 of 40 topics (a few topics rare, as in real registers). The request:
a group of 15 covering 12 topics (two of them rare) twice each, at least 2 experts from each
of three regions and 1 from two sectors, at most 5 per region. Target (issue 14): < 5 s for
5,000 experts. Each size is timed `--repeat` times after one warm-up on a small register.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from permedhub.match.working_group import GroupRequest, select_working_group

REGIONS = ["europe", "celac", "africa", "china", "north-america", "asia-pacific"]
SECTORS = ["academia", "healthcare", "industry", "government", "patients"]
TOPICS = [f"syn-topic-{i}" for i in range(40)]


def synthetic_register(experts: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weights = np.r_[np.full(38, 1.0), 0.1, 0.1]  # the last two topics are rare
    weights /= weights.sum()
    return pd.DataFrame({
        "expert_id": [f"syn-expert-{i}" for i in range(experts)],
        "region": rng.choice(REGIONS, experts, p=[0.45, 0.15, 0.12, 0.13, 0.1, 0.05]),
        "sector": rng.choice(SECTORS, experts, p=[0.5, 0.25, 0.12, 0.08, 0.05]),
        "topics": [list(rng.choice(TOPICS, rng.integers(1, 6), replace=False, p=weights))
                   for _ in range(experts)],
    })  # fmt: skip


REQUEST = GroupRequest(
    size=15,
    topics=[*TOPICS[:10], TOPICS[38], TOPICS[39]],
    cover=2,
    region_min={"celac": 2, "africa": 2, "china": 2},
    sector_min={"patients": 1, "government": 1},
    max_per_region=5,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    select_working_group(synthetic_register(1000, args.seed + 1), REQUEST)  # warm-up
    print(f"{'experts':>8} {'best s':>8} {'median s':>9}  largest region/sector  matches  target")
    for n in args.experts:
        register = synthetic_register(n, args.seed)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            group = select_working_group(register, REQUEST)
            times.append(time.perf_counter() - started)
        print(f"{n:>8,} {min(times):>8.3f} {float(np.median(times)):>9.3f}  "
              f"{group.largest_region:>10} / {group.largest_sector:<10} {group.topic_matches:>7}"
              f"  < 5 s at 5,000")  # fmt: skip


if __name__ == "__main__":
    main()
