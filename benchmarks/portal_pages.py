"""Benchmark: server time per portal page (p50/p95) on the SEEDED family and on a SYNTHETIC graph.

Run:  .venv/bin/python benchmarks/portal_pages.py [--graph both|seeded|synthetic]
      [--orgs 100000] [--participations 1000000] [--initiatives 2000] [--requests 50]
      [--db /tmp/portal-bench.sqlite] [--pages initiative list ...]

The seeded graph is a throw-away SQLite database migrated and seeded with the family (what
`make run` serves): home, every region, search (whole, partial and country-name queries), the
initiatives with calls and their projects, and every project page. The synthetic graph adds the
CSVs of benchmarks/synthetic_graph.py, loaded through the importer — or reuses `--db` when that
file already holds them, so repeated runs skip the load. Each HTML page, CSV table and the home
page's network/map JSON is requested in process (httpx + ASGITransport, so the time is the
server's plus ~0.3 ms of client) with seeded random ids, and p50/p95 are printed per page
against the issue's target: p95 < 100 ms. Pages built on whole-graph aggregates are measured
twice: with the portal's 30-second cache warm (what visitors normally get) and cold (cleared
before each request). The real database is never touched.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic_graph
from graph_api import synthetic_data
from permedhub.db import ensure_ready, make_engine
from permedhub.graph.geography import REGIONS
from permedhub.graph.loading import load
from permedhub.web.pages.public import HOME_NETWORK_QUERY

# What the home page's script asks for on a first visit: every kind but "project".
HOME_NETWORK = f"/network.json?{HOME_NETWORK_QUERY}"
TARGET_P95_MS = 100.0
TIME_BUDGET_PER_PAGE_S = 60.0
# Whole-graph aggregates (counts, network, timeline) are cached for 30 s; "cold" rows clear the
# cache before every request, so they show what the first visitor after a change waits.
COLD = "(cache cold)"
# Downloads prepared once per graph version: "first after a change" rows drop every cached
# answer before each request, as a write to the graph makes them stale.
CHANGED = "(first after a change)"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepared(engine: Engine, args: argparse.Namespace) -> None:
    """Migrate, seed and load the synthetic graph unless this database already has it."""
    ensure_ready(engine)
    with engine.connect() as connection:
        loaded = connection.execute(
            text("SELECT count(*) FROM organisation WHERE id LIKE 'syn-org-%'")
        ).scalar_one()
    if loaded >= args.orgs:
        say(f"reusing the {loaded:,} synthetic organisations already in the database")
        return
    started = time.perf_counter()
    report = load(engine, synthetic_data(args), actor="benchmark")
    say(f"loaded {report.rows:,} synthetic rows in {time.perf_counter() - started:.0f} s")


# Queries a visitor types: whole words, words no record has (partial matches) and country names
# or demonyms in other languages.
PARTIAL_WORDS = ["cancer alemania wibblefrotz", "hospital xyzzy", "synthetic organisation qqq"]
COUNTRY_WORDS = ["Alemania", "allemand", "Reino Unido", "brasileira"]


def largest_initiative(engine: Engine) -> str:
    """The initiative with most partners: its partners.csv is the biggest download."""
    with engine.connect() as connection:
        return str(
            connection.execute(
                text(
                    "SELECT initiative_id FROM participation GROUP BY initiative_id "
                    "ORDER BY count(*) DESC, initiative_id LIMIT 1"
                )
            ).scalar_one()
        )


def downloads(engine: Engine, n: int) -> dict[str, list[str]]:
    """The biggest partners.csv, repeated and first after a change, and the home network
    computed for every request (layout included)."""
    largest = f"/initiatives/{largest_initiative(engine)}/partners.csv"
    return {
        f"largest partners.csv {CHANGED}": [largest] * max(5, n // 2),
        "largest partners.csv, repeat": [largest] * n,
        f"home network.json {COLD}": [HOME_NETWORK] * max(5, n // 2),
    }


def seeded_plan(engine: Engine, n: int, seed: int) -> dict[str, list[str]]:
    """Pages of the seeded family: the ids come from the database, drawn the same every run."""
    rng = np.random.default_rng(seed + 3)
    with engine.connect() as connection:
        projects = list(
            connection.execute(
                text("SELECT id FROM initiative WHERE kind = 'project' ORDER BY id")
            ).scalars()
        )
        with_calls = list(
            connection.execute(text("SELECT DISTINCT initiative_id FROM call ORDER BY 1")).scalars()
        )
    regions = rng.choice([r.id for r in REGIONS], n)
    partial = rng.choice(PARTIAL_WORDS[:2], n)
    countries = rng.choice(COUNTRY_WORDS, n)
    return {
        "home /": ["/"] * n,
        f"home / {COLD}": ["/"] * max(5, n // 4),
        "home map.json": ["/map.json"] * n,
        "region": [f"/regions/{r}" for r in regions],
        "search page": [f"/search?q={w}" for w in rng.choice(["era permed", "cancer", "data"], n)],
        "search partial": [f"/search?q={w}" for w in partial],
        "search country word": [f"/search?q={w}" for w in countries],
        "initiative with calls + projects": [
            f"/initiatives/{i}" for i in rng.choice(with_calls or ["erapermed"], n)
        ],
        "project": [f"/initiatives/{p}" for p in rng.choice(projects, n)] if projects else [],
        "subnational list": ["/subnational"] * n,
        "home network.json": [HOME_NETWORK] * n,
        **downloads(engine, n),
    }


def plan(args: argparse.Namespace, engine: Engine) -> dict[str, list[str]]:
    """The same seeded random pages for every run."""
    rng = np.random.default_rng(args.seed + 2)
    n = args.requests
    orgs = rng.integers(1, args.orgs + 1, n)
    initiatives = rng.integers(1, args.initiatives + 1, n)
    countries = rng.choice(list(synthetic_graph.COUNTRY_WEIGHTS), n)
    regions = rng.choice([r.id for r in REGIONS], n)
    words = rng.choice(["synthetic", "organisation 12", "era permed", "hospital", "syn-i1"], n)
    return {
        "home /": ["/"] * n,
        "home network.json": [HOME_NETWORK] * n,
        "home network.json, every kind": ["/network.json"] * n,
        "home map.json": ["/map.json"] * n,
        f"home / {COLD}": ["/"] * max(5, n // 4),
        f"search page {COLD}": [f"/search?q={w}" for w in words[: max(5, n // 4)]],
        f"country {COLD}": [f"/countries/{c}" for c in countries[: max(5, n // 4)]],
        f"region {COLD}": [f"/regions/{r}" for r in regions[: max(5, n // 4)]],
        "initiative": [f"/initiatives/syn-ini-{k:05d}" for k in initiatives],
        # Long lists come a page at a time: a later page must cost what the first does.
        "initiative partners page 3": [f"/initiatives/syn-ini-{k:05d}?page=3" for k in initiatives],
        "initiative partners.csv": [
            f"/initiatives/syn-ini-{k:05d}/partners.csv" for k in initiatives
        ],
        "organisation": [f"/organisations/syn-org-{k:06d}" for k in orgs],
        "country": [f"/countries/{c}" for c in countries],
        "country organisations page 5": [f"/countries/{c}?page=5" for c in countries],
        "region": [f"/regions/{r}" for r in regions],
        "search page": [f"/search?q={w}" for w in words],
        "search as you type": [f"/search/results?q={w}" for w in words],
        "search partial": [f"/search?q={w}" for w in rng.choice(PARTIAL_WORDS, n)],
        "search country word": [f"/search?q={w}" for w in rng.choice(COUNTRY_WORDS, n)],
        "initiative with calls + projects": ["/initiatives/erapermed"] * n,
        "subnational list": [f"/subnational?page={k % 20 + 1}" for k in orgs],
        "initiatives list": ["/initiatives"] * n,
        "organisations list": [f"/organisations?page={k % 50 + 1}" for k in orgs],
        **downloads(engine, n),
    }


async def measure(engine: Engine, pages: dict[str, list[str]]) -> pd.DataFrame:
    from permedhub.web.app import create_app

    os.environ.setdefault("PERMEDHUB_SECRET_KEY", "benchmark-only")
    app = create_app(engine, prepare_database=False)
    transport = httpx.ASGITransport(app=app)
    rows = []
    say(f"load average 1/5/15 min at start: {_load_average()}")
    async with httpx.AsyncClient(transport=transport, base_url="https://bench") as client:
        for page, paths in pages.items():
            if not paths:
                continue
            for path in paths[:2]:  # warm-up: connection pool, statement caches
                await client.get(path)
            timings: list[float] = []
            statuses: dict[int, int] = {}
            budget_end = time.perf_counter() + TIME_BUDGET_PER_PAGE_S
            for path in paths:
                if COLD in page or CHANGED in page:
                    app.state.page_cache.clear()
                if CHANGED in page and hasattr(app.state, "download_cache"):
                    app.state.download_cache.clear()
                started = time.perf_counter()
                response = await client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if time.perf_counter() > budget_end:
                    break
            p50, p95 = np.percentile(timings, [50, 95])
            rows.append(
                {
                    "page": page,
                    "requests": len(timings),
                    "status": " ".join(f"{n}x{s}" for s, n in sorted(statuses.items())),
                    "p50 ms": round(float(p50), 1),
                    "p95 ms": round(float(p95), 1),
                    f"p95 < {TARGET_P95_MS:g} ms": "yes" if p95 < TARGET_P95_MS else "NO",
                }
            )
            say(f"  {page}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (load average {_load_average()})")
    return pd.DataFrame(rows)


def _load_average() -> str:
    """The machine is shared: every figure is quoted with the load it was measured under."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graph", choices=["both", "seeded", "synthetic"], default="both")
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--participations", type=int, default=1_000_000)
    parser.add_argument("--initiatives", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    parser.add_argument("--data", type=Path, default=synthetic_graph.DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=synthetic_graph.DEFAULT_SEED)
    parser.add_argument("--db", type=Path, help="SQLite file to build once and reuse")
    parser.add_argument(
        "--pages",
        nargs="+",
        metavar="WORD",
        help="measure only the pages whose row name contains one of these words",
    )
    return parser.parse_args(argv)


def chosen(pages: dict[str, list[str]], words: list[str] | None) -> dict[str, list[str]]:
    """The plan's pages named by `--pages` (all without it)."""
    if not words:
        return pages
    return {name: paths for name, paths in pages.items() if any(w in name for w in words)}


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.graph in ("both", "seeded"):
        with tempfile.TemporaryDirectory(prefix="permedhub-portal-bench-") as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'seeded.sqlite'}")
            try:
                ensure_ready(engine)
                table = asyncio.run(
                    measure(
                        engine, chosen(seeded_plan(engine, args.requests, args.seed), args.pages)
                    )
                )
            finally:
                engine.dispose()
        print("Portal pages on SQLite, the seeded family")
        print(table.to_string(index=False))
    if args.graph in ("both", "synthetic"):
        with tempfile.TemporaryDirectory(prefix="permedhub-portal-bench-") as folder:
            path = args.db or Path(folder) / "bench.sqlite"
            engine = make_engine(f"sqlite:///{path}")
            try:
                prepared(engine, args)
                table = asyncio.run(measure(engine, chosen(plan(args, engine), args.pages)))
            finally:
                engine.dispose()
        print(
            f"Portal pages on SQLite, synthetic graph of {args.orgs:,} organisations, "
            f"{args.initiatives:,} initiatives, {args.participations:,} participations"
        )
        print(table.to_string(index=False))
    print(f"load average 1/5/15 min at the end: {_load_average()}")


if __name__ == "__main__":
    main()
