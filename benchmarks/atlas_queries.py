"""Atlas queries at the benchmark scale: coverage and gap queries (target < 1 s each) and a
region report (target < 10 s) over the SYNTHETIC graph of benchmarks/synthetic_graph.py
(100,000 organisations, 1,000,000 participations) plus 100,000 SYNTHETIC mapping records.

Run:  .venv/bin/python benchmarks/atlas_queries.py [--records 100000] [--repeats 3]
      [--orgs ... --participations ... --data DIR] [--backends sqlite,postgresql]

Into a throw-away database: the family seed, the synthetic graph (through graph.loading.load),
topics given to the synthetic initiatives (1-3 areas of the taxonomy each, drawn with the seed;
the synthetic CSVs have none), then 100,000 mapping records written as a survey CSV and
imported through `permedhub.atlas.loading.load` (so the import is measured too). Every
synthetic record has an id starting "syn-rec-" and says SYNTHETIC in its source. Prints the
median and worst of `--repeats` runs of each query.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import graph_api
import synthetic_graph
from permedhub.atlas import analyses
from permedhub.atlas.loading import load as load_records
from permedhub.atlas.report import region_report
from permedhub.atlas.schemas import COLUMN_NAMES
from permedhub.db import ensure_ready
from permedhub.graph.loading import load as load_graph

TYPES = ["policy-strategy", "funding-programme", "research-infrastructure", "biobank-genomics",
         "standard", "training-programme"]  # fmt: skip
CAPACITIES = ["", "none", "emerging", "established", "advanced"]
SOURCE = "SYNTHETIC benchmark record (benchmarks/atlas_queries.py, seed {seed}); not real data"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def topic_ids(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text("SELECT id FROM topic WHERE kind <> 'document' ORDER BY id")
            ).scalars()
        )


def tag_initiatives(engine: Engine, topics: list[str], seed: int) -> None:
    """Give each synthetic initiative 1-3 topics (the CSVs carry none)."""
    import json

    rng = np.random.default_rng(seed)
    with engine.begin() as connection:
        ids = connection.execute(text("SELECT id FROM initiative WHERE synthetic")).scalars().all()
        rows = [
            {
                "id": i,
                "topics": json.dumps(
                    sorted(rng.choice(topics, rng.integers(1, 4), replace=False).tolist())
                ),
            }
            for i in ids
        ]
        connection.execute(text("UPDATE initiative SET topics = :topics WHERE id = :id"), rows)


def write_records(path: Path, count: int, topics: list[str], seed: int) -> Path:
    """`count` SYNTHETIC mapping records as a survey CSV, countries drawn with the synthetic
    graph's weights (a fifth of them also in a second country)."""
    rng = np.random.default_rng(seed)
    countries = list(synthetic_graph.COUNTRY_WEIGHTS)
    weights = np.array(list(synthetic_graph.COUNTRY_WEIGHTS.values()), dtype=float)
    weights /= weights.sum()
    first = rng.choice(countries, count, p=weights)
    second = rng.choice(countries, count, p=weights)
    two = rng.random(count) < 0.2
    source = SOURCE.format(seed=seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMN_NAMES))
        writer.writeheader()
        for n in range(count):
            places = [first[n]] + ([second[n]] if two[n] and second[n] != first[n] else [])
            chosen = rng.choice(topics, rng.integers(1, 4), replace=False)
            writer.writerow(
                {
                    "id": f"syn-rec-{n:06d}",
                    "name": f"Synthetic mapping record {n}",
                    "type": TYPES[n % len(TYPES)],
                    "countries": ";".join(places),
                    "topics": ";".join(chosen),
                    "capacity": CAPACITIES[int(rng.integers(0, len(CAPACITIES)))],
                    "start": str(2000 + int(rng.integers(0, 25))),
                    "source": source,
                }
            )
    return path


def timed(label: str, repeats: int, run: Callable[[], Any]) -> tuple[str, float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    say(f"  {label}: median {statistics.median(times):.3f} s, max {max(times):.3f} s")
    return label, statistics.median(times), max(times)


def measure(
    engine: Engine, args: argparse.Namespace, backend: str
) -> list[tuple[str, float, float]]:
    started = time.perf_counter()
    ensure_ready(engine)
    if not args.graph_loaded:
        files = graph_api.synthetic_data(args)
        load_graph(engine, files, actor="benchmark")
        say(f"[{backend}] family + synthetic graph loaded in {time.perf_counter() - started:.0f} s")
    topics = topic_ids(engine)
    tag_initiatives(engine, topics, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        survey = write_records(Path(folder) / "records.csv", args.records, topics, args.seed)
        started = time.perf_counter()
        report = load_records(engine, [survey], actor="benchmark")
        imported = time.perf_counter() - started
    say(
        f"[{backend}] imported {report.counts['records'].created:,} mapping records in "
        f"{imported:.1f} s"
    )
    results = [("import of the survey CSV (once)", imported, imported)]
    r = args.repeats
    results += [
        timed("coverage by country (all)", r, lambda: analyses.coverage(engine)),
        timed("coverage by region (all)", r, lambda: analyses.coverage(engine, by="region")),
        timed("coverage of eu27's countries", r, lambda: analyses.coverage(engine, region="eu27")),
        timed("gaps of africa", r, lambda: analyses.gaps(engine, "africa")),
        timed("gaps of eu27", r, lambda: analyses.gaps(engine, "eu27")),
        timed("mutual interest eu27 x celac", r, lambda: analyses.mutual(engine, "eu27", "celac")),
        timed(
            "region report africa (with eu27)",
            r,
            lambda: region_report(engine, "africa", other="eu27"),
        ),
    ]
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    graph_api.add_graph_arguments(parser)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--graph-db",
        type=Path,
        help="SQLite: a copy of this database (the family and the synthetic graph already "
        "loaded, no atlas tables) instead of loading the graph again",
    )
    args = parser.parse_args(argv)
    args.graph_loaded = False
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        database = (
            graph_api.sqlite_database()
            if backend == "sqlite"
            else graph_api.postgres_database(args.pg_url)
        )
        with database as engine:
            if args.graph_db and backend == "sqlite":
                engine.dispose()
                shutil.copyfile(args.graph_db, str(engine.url.database))
                args.graph_loaded = True
            results = measure(engine, args, backend)
        print(
            f"\n{backend}: {args.orgs:,} organisations, {args.participations:,} "
            f"participations, {args.records:,} mapping records"
        )
        print(f"{'query':42} {'median s':>9} {'max s':>8}")
        for label, median, worst in results:
            print(f"{label:42} {median:9.3f} {worst:8.3f}")


if __name__ == "__main__":
    main()
