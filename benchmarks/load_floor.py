"""Benchmark: the floor under a load's time, SYNTHETIC graph, SQLite and PostgreSQL.

Run:  .venv/bin/python benchmarks/load_floor.py [--orgs 100000] [--participations 1000000]
      [--initiatives 2000] [--backends sqlite,postgresql]

What would a load of the synthetic CSVs (benchmarks/synthetic_graph.py) cost if it did only the
unavoidable parts, each alone?

- reading and validating: `preparing.prepare` over the files, in this process, writing nothing;
- writing: the rows straight from the CSV cells (no validation, no existence checks, no search
  documents, no aggregates) through the library's own bulk insert (`bulk.insert_rows`: executemany
  on SQLite, COPY on PostgreSQL) into freshly migrated throw-away databases, plus one audit entry
  per row as a load writes them, in one transaction; on PostgreSQL also with the participation
  table's foreign keys dropped first (what their per-row checks cost).

`benchmarks/graph_api.py` measures the real load; this script says how far below it the floor
is, and so what the 50,000 rows/s target leaves for the rest.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import Connection, Engine, Table

import graph_api
from permedhub.bulk import insert_rows
from permedhub.db import ensure_ready
from permedhub.graph import models
from permedhub.graph.models import table_of
from permedhub.graph.preparing import CHUNK_ROWS, prepare  # one executemany / COPY a chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    graph_api.add_graph_arguments(parser)
    args = parser.parse_args()
    files = graph_api.synthetic_data(args)

    wall, cpu = time.perf_counter(), time.process_time()
    rows = sum(len(chunk.rows) for chunk in prepare(files))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"\nreading + validating {rows:,} rows: {wall:.1f} s ({cpu:.1f} s CPU) ", end="")
    print(f"= {rows / wall:,.0f} rows/s on one core")

    variants: list[tuple[str, Callable[[], Any], bool]] = [
        ("sqlite", graph_api.sqlite_database, False),
        ("postgresql", lambda: graph_api.postgres_database(args.pg_url), False),
        ("postgresql, no foreign keys", lambda: graph_api.postgres_database(args.pg_url), True),
    ]
    wanted = args.backends.split(",")
    for name, database, drop_foreign_keys in variants:
        if name.split(",")[0] not in wanted:
            continue
        with database() as engine:
            _write_floor(name, engine, files, drop_foreign_keys)


def _write_floor(name: str, engine: Engine, files: list[Path], drop_foreign_keys: bool) -> None:
    ensure_ready(engine)
    organisations, initiatives, participations = files
    steps: dict[str, float] = {}
    total = 0
    started = time.perf_counter()
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size=-262144")  # as loading.load
        if drop_foreign_keys:
            connection.exec_driver_sql(
                "ALTER TABLE participation DROP CONSTRAINT "
                "fk_participation_organisation_id_organisation, DROP CONSTRAINT "
                "fk_participation_initiative_id_initiative"
            )
        for label, path, to_row, table in (
            ("organisation", organisations, _organisation, table_of(models.Organisation)),
            ("initiative", initiatives, _initiative, table_of(models.Initiative)),
            ("participation", participations, _participation, table_of(models.Participation)),
        ):
            seconds, written = _insert_file(connection, path, to_row, table)
            steps[f"insert {label}"] = seconds
            steps["insert audit_entry"] = steps.get("insert audit_entry", 0.0) + _audit(
                connection, label, path, to_row
            )
            total += written
        clock = time.perf_counter()
    steps["commit"] = time.perf_counter() - clock
    wall = time.perf_counter() - started
    spent = sum(steps.values())
    print(f"\n{name}: writing {total:,} rows alone: {spent:.1f} s = {total / spent:,.0f} rows/s")
    print(f"  (wall {wall:.1f} s with building the rows from the CSV cells in Python)")
    for step, seconds in steps.items():
        print(f"  {step:<24} {seconds:6.2f} s")


def _cells(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def _chunks(path: Path, to_row: Callable[[dict[str, str]], dict[str, Any]]) -> Iterator[list[Any]]:
    chunk: list[dict[str, Any]] = []
    for cells in _cells(path):
        chunk.append(to_row(cells))
        if len(chunk) == CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert_file(
    connection: Connection, path: Path, to_row: Callable[..., dict[str, Any]], table: Table
) -> tuple[float, int]:
    seconds, written = 0.0, 0
    for chunk in _chunks(path, to_row):
        started = time.perf_counter()
        insert_rows(connection, table, chunk)
        seconds += time.perf_counter() - started
        written += len(chunk)
    return seconds, written


def _audit(
    connection: Connection, entity_type: str, path: Path, to_row: Callable[..., dict[str, Any]]
) -> float:
    """One creation entry per row, as `loading` writes them (no copy of the record)."""
    seconds = 0.0
    for chunk in _chunks(path, to_row):
        entries = [
            {
                "actor": "benchmark",
                "action": "create",
                "entity_type": entity_type,
                "entity_id": row["id"],
                "old": None,
                "new": None,
                "batch": "floor",
            }
            for row in chunk
        ]
        started = time.perf_counter()
        insert_rows(connection, table_of(models.AuditEntry), entries)
        seconds += time.perf_counter() - started
    return seconds


def _month(text_: str, last: bool) -> dt.date | None:
    if not text_:
        return None
    year, month = map(int, text_.split("-")[:2])
    if not last:
        return dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _marks(cells: dict[str, str]) -> dict[str, Any]:
    return {"source": cells["source"], "uncertain": {}, "approximate": {}}


def _organisation(cells: dict[str, str]) -> dict[str, Any]:
    return {
        "id": cells["id"],
        "name": cells["name"],
        "acronym": cells["acronym"] or None,
        "kind": cells["kind"],
        "country_code": cells["country"] or None,
        "subdivision_code": cells["subdivision"] or None,
        "expertise": [],
        "synthetic": True,
        **_marks(cells),
    }


def _initiative(cells: dict[str, str]) -> dict[str, Any]:
    return {
        "id": cells["id"],
        "name": cells["name"],
        "acronym": cells["acronym"],
        "kind": cells["kind"],
        "start_date": _month(cells["start"], last=False),
        "end_date": _month(cells["end"], last=True),
        "aims": [],
        "countries": [],
        "target_regions": cells["target_regions"].split(";"),
        "topics": [],
        "facts": {},
        "synthetic": True,
        **_marks(cells),
    }


def _participation(cells: dict[str, str]) -> dict[str, Any]:
    return {
        "id": f"{cells['initiative']}:{cells['organisation']}:{cells['role']}",
        "organisation_id": cells["organisation"],
        "initiative_id": cells["initiative"],
        "role": cells["role"],
        "start_date": _month(cells["start"], last=False),
        "end_date": _month(cells["end"], last=True),
        **_marks(cells),
    }


if __name__ == "__main__":
    main()
