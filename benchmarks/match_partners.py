"""Times partner search (issue 14: p95 < 200 ms) on the SYNTHETIC benchmark graph.

    PYTHONPATH=$PWD/src .venv/bin/python benchmarks/match_partners.py --db /tmp/bench.sqlite

The graph is benchmarks/synthetic_graph.py's (100,000 organisations, 2,000 initiatives,
1,000,000 participations), loaded through the importer into `--db` unless that database
already holds it (then it is read as it is, not migrated). The first search builds the
organisations' profiles and vectors (timed apart); then `--requests` searches with ideas,
topics, regions and chosen partners drawn with a seed are timed, and p50/p95 printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic_graph
from permedhub.db import make_engine
from permedhub.match.partners import search_partners
from portal_pages import prepared

IDEAS = [
    "health economic models and payment strategies for personalised medicine",
    "pharmacogenomics to guide treatment of children with leukaemia",
    "federated analysis of electronic health records across regions",
    "biomarkers for early detection of pancreatic cancer",
    "implementation of genomic medicine in primary care",
]
REGIONS = [None, "celac", "african-union", "eu27"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--participations", type=int, default=1_000_000)
    parser.add_argument("--initiatives", type=int, default=2_000)
    parser.add_argument("--data", type=Path, default=synthetic_graph.DEFAULT_OUT)
    args = parser.parse_args()
    engine = make_engine(f"sqlite:///{args.db}")
    with engine.connect() as connection:
        tables = connection.execute(text("SELECT name FROM sqlite_master")).scalars().all()
        loaded = (
            connection.execute(
                text("SELECT count(*) FROM organisation WHERE id LIKE 'syn-org-%'")
            ).scalar_one()
            if "organisation" in tables
            else 0
        )
    if loaded < args.orgs:
        prepared(engine, args)
    rng = np.random.default_rng(args.seed)
    with Session(engine) as session:
        organisations = (
            session.execute(
                text("SELECT id FROM organisation WHERE id LIKE 'syn-org-%' ORDER BY id")
            )
            .scalars()
            .all()
        )
        topics = session.execute(text("SELECT id FROM topic ORDER BY id")).scalars().all()
        started = time.perf_counter()
        search_partners(session, IDEAS[0])
        print(f"first search (profiles and vectors of {len(organisations):,} organisations "
              f"built): {time.perf_counter() - started:.1f} s")  # fmt: skip
        times = []
        for _ in range(args.requests):
            region = REGIONS[rng.integers(len(REGIONS))]
            chosen = list(rng.choice(organisations, rng.integers(0, 3)))
            wanted = list(rng.choice(topics, rng.integers(0, 3), replace=False))
            started = time.perf_counter()
            search_partners(session, IDEAS[rng.integers(len(IDEAS))], topics=wanted,
                            regions=[region] if region else [], partners=chosen)  # fmt: skip
            times.append(time.perf_counter() - started)
    ms = np.array(times) * 1000
    print(f"partner search, {args.requests} requests: p50 {np.percentile(ms, 50):.0f} ms, "
          f"p95 {np.percentile(ms, 95):.0f} ms (target p95 < 200 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
