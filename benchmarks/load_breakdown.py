"""Benchmark: where a load's time goes, per table, on a SYNTHETIC graph — SQLite and PostgreSQL.

Run:  .venv/bin/python benchmarks/load_breakdown.py [--orgs 100000] [--participations 1000000]
      [--initiatives 2000] [--backends sqlite,postgresql] [--foreground]

Loads the synthetic CSVs of benchmarks/synthetic_graph.py (the same throw-away databases as
benchmarks/graph_api.py) through `permedhub.graph.loading.load` and prints, besides rows/s, the
wall time spent in each table's bulk insert (COPY on PostgreSQL), in the country-activity
refresh and in the commit, and the CPU time of this process. What is left after those is the
loader's own Python work (plus, in the default background mode, waiting for the reading
process). The timers wrap the library's functions from outside; nothing in the library changes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy.engine import RootTransaction

import graph_api
from permedhub import bulk
from permedhub.db import ensure_ready
from permedhub.graph import loading
from permedhub.search import index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    graph_api.add_graph_arguments(parser)
    parser.add_argument(
        "--foreground", action="store_true", help="read and validate in this process too"
    )
    args = parser.parse_args()
    files = graph_api.synthetic_data(args)
    for backend in args.backends.split(","):
        databases = {
            "sqlite": graph_api.sqlite_database,
            "postgresql": lambda: graph_api.postgres_database(args.pg_url),
        }
        with databases[backend]() as engine:
            ensure_ready(engine)
            spent, counted = Counter[str](), Counter[str]()
            with _timed(spent, counted):
                wall, cpu = time.perf_counter(), time.process_time()
                report = loading.load(
                    engine, files, actor="benchmark", background=not args.foreground
                )
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            _print(backend, report.rows, wall, cpu, spent, counted)


class _timed:
    """Wrap the library's write steps with wall-clock timers for the duration of a load."""

    def __init__(self, spent: Counter[str], counted: Counter[str]):
        self.spent, self.counted = spent, counted
        self.saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> None:
        def insert_rows(connection: Any, table: Any, rows: Any) -> None:
            started = time.perf_counter()
            bulk.insert_rows(connection, table, rows)
            self.spent[f"insert {table.name}"] += time.perf_counter() - started
            self.counted[f"insert {table.name}"] += len(rows)

        def timer(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    self.spent[name] += time.perf_counter() - started

            return timed

        refresh = loading.activity.refresh
        for owner, name, replacement in (
            (loading, "insert_rows", insert_rows),
            (index, "insert_rows", insert_rows),
            (loading.activity, "refresh", timer("activity refresh", refresh)),
        ):
            self.saved.append((owner, name, getattr(owner, name)))
            setattr(owner, name, replacement)
        self.saved.append((RootTransaction, "commit", RootTransaction.commit))
        RootTransaction.commit = timer("commit", RootTransaction.commit)  # type: ignore[method-assign]

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self.saved):
            setattr(owner, name, original)


def _print(
    backend: str, rows: int, wall: float, cpu: float, spent: Counter[str], counted: Counter[str]
) -> None:
    print(f"\n{backend}: {rows:,} rows in {wall:.1f} s = {rows / wall:,.0f} rows/s")
    print(f"  this process's CPU time: {cpu:.1f} s")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        per_row = f" ({seconds / counted[name] * 1e6:.1f} µs/row)" if counted[name] else ""
        print(f"  {name:<32} {seconds:7.2f} s{per_row}")
    rest = wall - sum(spent.values())
    print(f"  {'everything else':<32} {rest:7.2f} s")


if __name__ == "__main__":
    main()
