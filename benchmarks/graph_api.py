"""Benchmark: load throughput and API latency on a SYNTHETIC graph, SQLite vs PostgreSQL.

Run:  .venv/bin/python benchmarks/graph_api.py [--orgs 100000] [--participations 1000000]
      [--initiatives 2000] [--requests 200] [--backends sqlite,postgresql] [--profile]

For each backend it makes a throw-away database (a temporary SQLite file; on PostgreSQL a new
database `permedhub_bench_<random>` on --pg-url, dropped at the end), migrates and seeds it with
the family, loads the synthetic CSVs of benchmarks/synthetic_graph.py (generated on first use
into benchmarks/data/, git-ignored) through `permedhub.graph.loading.load` and reports rows/s.
Then it sends --requests requests with random synthetic ids, country codes, region ids and
search words to the FastAPI app in process (httpx + ASGITransport: the time is the server's plus
about 0.3 ms of client) and reports p50/p95 per endpoint, side by side, against the targets:
load >= 50,000 rows/s, entity endpoints p95 < 20 ms, search p95 < 50 ms.

The real database is never touched. Without `permedhub.web.app` the API part is skipped (and
the table says so); with --profile the load runs under cProfile and the top functions print;
with --vacuum PostgreSQL is vacuumed and analysed between the load and the requests (what
autovacuum does within a minute or so of a load). The table quotes the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import json
import os
import pstats
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic_graph
from permedhub.db import ensure_ready, make_engine
from permedhub.graph.geography import REGIONS
from permedhub.graph.loading import load

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_LOAD_ROWS_PER_S = 50_000
TARGET_ENTITY_P95_MS = 20.0
TARGET_SEARCH_P95_MS = 50.0
# Endpoints whose p95 must stay under the entity target; the others under the search target.
ENTITY_ENDPOINTS = ("organisation", "country", "network")
SEARCH_ENDPOINTS = ("search (specific)", "search (broad)")
BROAD_QUERIES = (
    "synthetic",
    "organisation",
    "university",
    "hospital",
    "research institute",
    "initiative",
    "Germany",
    "Horizon 2020",
)


@dataclass
class Measured:
    backend: str
    seed_s: float = float("nan")
    load_rows: int = 0
    load_s: float = float("nan")
    database_mb: float = float("nan")
    latencies_ms: dict[str, np.ndarray] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    # os.getloadavg() when the requests started and ended: the machine is shared, so every
    # latency figure is quoted with the load it was measured under.
    load_average: list[tuple[float, float, float]] = field(default_factory=list)
    note: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.load_rows / self.load_s if self.load_s else float("nan")


# ---------------------------------------------------------------- data and databases


def synthetic_data(args: argparse.Namespace) -> list[Path]:
    """The synthetic CSVs for these sizes, generated unless a matching set exists."""
    folder = args.data / f"syn-{args.orgs}-{args.initiatives}-{args.participations}-{args.seed}"
    manifest = folder / "MANIFEST.json"
    if not manifest.exists():
        started = time.perf_counter()
        synthetic_graph.generate(
            folder,
            n_organisations=args.orgs,
            n_participations=args.participations,
            n_initiatives=args.initiatives,
            seed=args.seed,
        )
        say(f"generated synthetic CSVs in {folder} ({time.perf_counter() - started:.1f} s)")
    return [folder / f"{name}.csv" for name in ("organisations", "initiatives", "participations")]


@contextmanager
def sqlite_database() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="permedhub-bench-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_database(admin_url: str) -> Iterator[Engine]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"permedhub_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(admin_url).set(database=name).render_as_string(False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def database_mb(engine: Engine) -> float:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            size = connection.execute(text("SELECT pg_database_size(current_database())"))
            return float(size.scalar_one()) / 2**20
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
        page_size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
        return float(pages * page_size) / 2**20


# ---------------------------------------------------------------- load


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def progress_printer(total: int, backend: str) -> Callable[[int], None]:
    started = time.perf_counter()
    done = 0
    step = max(total // 10, 1)

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if done % step == 0:
            elapsed = time.perf_counter() - started
            say(f"  {backend}: {done:,}/{total:,} rows read, {done / elapsed:,.0f} rows/s")

    return tick


def measure_load(engine: Engine, files: list[Path], result: Measured, profile: bool) -> None:
    started = time.perf_counter()
    ensure_ready(engine)
    result.seed_s = time.perf_counter() - started
    total = sum(sum(1 for _ in path.open(encoding="utf-8")) - 1 for path in files)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = load(
        engine, files, actor="benchmark", progress=progress_printer(total, result.backend)
    )
    if profiler:
        profiler.disable()
    result.load_s = time.perf_counter() - started
    result.load_rows = report.rows
    result.database_mb = database_mb(engine)
    say(
        f"{result.backend}: loaded {report.rows:,} rows in {result.load_s:.1f} s "
        f"= {result.rows_per_s:,.0f} rows/s"
    )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(f"\n--- cProfile of the load on {result.backend} (top 30, cumulative) ---")
        print(out.getvalue())


# ---------------------------------------------------------------- API latency


Request = tuple[str, dict[str, str]]  # path, query parameters


def request_plan(args: argparse.Namespace) -> dict[str, list[Request]]:
    """The same random requests for every backend (seeded)."""
    rng = np.random.default_rng(args.seed + 1)
    n = args.requests
    orgs = rng.integers(1, args.orgs + 1, n)
    countries = rng.choice(list(synthetic_graph.COUNTRY_WEIGHTS), n)
    regions = rng.choice([r.id for r in REGIONS], n)
    numbers = rng.integers(1, args.orgs + 1, n)
    initiatives = rng.integers(1, args.initiatives + 1, n)
    specific = [
        f"Synthetic Organisation {k}" if i % 2 else f"SYN-I{j}"
        for i, (k, j) in enumerate(zip(numbers, initiatives, strict=True))
    ]
    broad = list(rng.choice(BROAD_QUERIES, n))
    return {
        "organisation": [(f"/api/organisations/syn-org-{k:06d}", {}) for k in orgs],
        "country": [(f"/api/countries/{c}", {}) for c in countries],
        "network": [("/api/network", {"region": str(r)}) for r in regions],
        "search (specific)": [("/api/search", {"q": q}) for q in specific],
        "search (broad)": [("/api/search", {"q": str(q)}) for q in broad],
    }


async def _measure_api(
    engine: Engine, plan: dict[str, list[Request]], result: Measured, budget_s: float
) -> None:
    from permedhub.web.app import create_app

    app = create_app(engine)
    transport = httpx.ASGITransport(app=app)
    result.load_average.append(os.getloadavg())
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for endpoint, requests in plan.items():
            budget_end = time.perf_counter() + budget_s
            path, params = requests[0]  # warm-up: connection pool, statement caches
            await client.get(path, params=params)
            timings: list[float] = []
            statuses: Counter[int] = Counter()
            for path, params in requests:
                if time.perf_counter() > budget_end and timings:
                    break
                started = time.perf_counter()
                response = await client.get(path, params=params)
                timings.append((time.perf_counter() - started) * 1000)
                statuses[response.status_code] += 1
            result.latencies_ms[endpoint] = np.array(timings)
            result.statuses[endpoint] = statuses
            say(
                f"  {result.backend} {endpoint}: {len(timings)} requests, "
                f"p50 {np.percentile(timings, 50):.1f} ms, p95 {np.percentile(timings, 95):.1f} ms"
            )
    result.load_average.append(os.getloadavg())


def web_app_available() -> bool:
    return importlib.util.find_spec("permedhub.web.app") is not None


# ---------------------------------------------------------------- report


def table(results: list[Measured]) -> pd.DataFrame:
    rows: dict[str, dict[str, str]] = {}

    def put(metric: str, target: str, values: Callable[[Measured], str]) -> None:
        rows[metric] = {"target": target, **{r.backend: values(r) for r in results}}

    put("migrate + seed family (s)", "", lambda r: f"{r.seed_s:.1f}")
    put("rows loaded", "", lambda r: f"{r.load_rows:,}")
    put("load time (s)", "", lambda r: f"{r.load_s:.1f}")
    put("load throughput (rows/s)", f">= {TARGET_LOAD_ROWS_PER_S:,}", lambda r: _rate(r))
    put("database size (MB)", "", lambda r: f"{r.database_mb:,.0f}")
    put("load average 1/5/15 min, API start", "", partial(_load_average, at=0))
    put("load average 1/5/15 min, API end", "", partial(_load_average, at=-1))
    endpoints = sorted({e for r in results for e in r.latencies_ms}, key=list(PLAN_ORDER).index)
    for endpoint in endpoints:
        limit = TARGET_SEARCH_P95_MS if endpoint in SEARCH_ENDPOINTS else TARGET_ENTITY_P95_MS
        for q in (50, 95):
            put(
                f"{endpoint} p{q} (ms)",
                f"< {limit:g}" if q == 95 else "",
                partial(_latency, endpoint=endpoint, q=q),
            )
        put(f"{endpoint} requests / HTTP status", "", partial(_statuses, endpoint=endpoint))
    return pd.DataFrame(rows).T


PLAN_ORDER = ("organisation", "country", "network", "search (specific)", "search (broad)")


def _rate(result: Measured) -> str:
    rate = result.rows_per_s
    flag = "" if rate >= TARGET_LOAD_ROWS_PER_S else "  (below target)"
    return f"{rate:,.0f}{flag}"


def _latency(result: Measured, endpoint: str, q: int) -> str:
    values = result.latencies_ms.get(endpoint)
    if values is None or values.size == 0:
        return "not measured"
    value = float(np.percentile(values, q))
    limit = TARGET_SEARCH_P95_MS if endpoint in SEARCH_ENDPOINTS else TARGET_ENTITY_P95_MS
    flag = "  (over target)" if q == 95 and value >= limit else ""
    return f"{value:.1f}{flag}"


def _load_average(result: Measured, at: int) -> str:
    if not result.load_average:
        return "-"
    return " / ".join(f"{x:.2f}" for x in result.load_average[at])


def _statuses(result: Measured, endpoint: str) -> str:
    counts = result.statuses.get(endpoint, Counter())
    return " ".join(f"{n}x{status}" for status, n in sorted(counts.items())) or "-"


# ---------------------------------------------------------------- main


def settle(engine: Engine) -> None:
    """VACUUM ANALYZE on PostgreSQL, as autovacuum would a minute or so after a load (--vacuum).

    Without it PostgreSQL answers the first requests from tables with no visibility map (no
    index-only scans) and, for tables nobody analysed, no planner statistics. SQLite has
    neither concern and is left as loaded.
    """
    if engine.dialect.name != "postgresql":
        return
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    say(f"postgresql: VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")


def run_backend(
    backend: str,
    args: argparse.Namespace,
    files: list[Path],
    plan: dict[str, list[Request]] | None,
) -> Measured:
    result = Measured(backend)
    database = sqlite_database() if backend == "sqlite" else postgres_database(args.pg_url)
    with database as engine:
        measure_load(engine, files, result, args.profile)
        if args.vacuum and engine.dialect.name == "postgresql":
            settle(engine)
            result.note += "measured after VACUUM ANALYZE (--vacuum). "
        if plan is not None:
            asyncio.run(_measure_api(engine, plan, result, args.budget_s))
        else:
            result.note = "API not measured: permedhub.web.app does not exist"
    return result


def add_graph_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every load benchmark shares: the synthetic graph's size and seed, where its
    CSVs live, and the backends to measure."""
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--participations", type=int, default=1_000_000)
    parser.add_argument("--initiatives", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=synthetic_graph.DEFAULT_SEED)
    parser.add_argument("--data", type=Path, default=synthetic_graph.DEFAULT_OUT)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="server to create the db on")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_graph_arguments(parser)
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=120.0,
        help="seconds per endpoint after which no new request starts",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the load")
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="PostgreSQL: VACUUM ANALYZE between the load and the requests",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"--backends: unknown {sorted(unknown)}; expected sqlite and/or postgresql")
    return args


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    # SystemExit unwinds the `finally` blocks: the temporary databases are removed.
    raise SystemExit(143)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    files = synthetic_data(args)
    plan = request_plan(args) if web_app_available() else None
    if plan is None:
        say("permedhub.web.app does not exist: measuring load throughput only")
    results = [run_backend(backend, args, files, plan) for backend in args.backends]
    frame = table(results)
    print(
        f"\nSYNTHETIC graph: {args.orgs:,} organisations, {args.initiatives:,} initiatives, "
        f"{args.participations:,} participations (seed {args.seed}); "
        f"{args.requests} requests per endpoint, in process (httpx ASGITransport)\n"
    )
    print(frame.to_string())
    for result in results:
        if result.note:
            print(f"{result.backend}: {result.note.strip()}")
    if args.json:
        figures = {"arguments": vars(args), "table": frame.to_dict(orient="index")}
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
