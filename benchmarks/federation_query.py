"""Benchmark: one cohort query over 5 federation nodes of 1,000,000 SYNTHETIC persons each.

Run:  .venv/bin/python benchmarks/federation_query.py            # 5 x 1,000,000, 20 cohorts
      .venv/bin/python benchmarks/federation_query.py --one-node-at-a-time --threads 1
      .venv/bin/python benchmarks/federation_query.py --persons 100000 --cohorts 5

Writes 5 synthetic DuckDB regions (reused on later runs from --folder), starts 5
`permedhub node serve` processes on free 127.0.0.1 ports, sends each cohort with the hub
(`permedhub.federation.hub.query_nodes`: signing, concurrent HTTP, validation) and prints the
end-to-end time per cohort (target < 5 s), the per-node round trip and the node's own query
time from its audit log (p95 target < 1 s), and each node's peak resident memory (VmHWM).
The cohorts are 20 distinct ones far apart (different conditions, age bands, breakdowns), so
neither the repeat nor the differencing rule refuses them and each node's differencing check
runs against a growing history, as it would for one researcher.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import yaml

from permedhub.federation.cohort import parse_cohort
from permedhub.federation.hub import load_nodes, query_nodes
from permedhub.federation.state import NodeState
from permedhub.federation.store import write_tables
from permedhub.federation.synthetic import REGION_PROFILES, generate, region_spec

TARGET_END_TO_END = 5.0
TARGET_NODE_P95 = 1.0
CONDITIONS = [201826, 320128, 46271022, 255573, 4329847]
DRUG_FOR = {201826: 1503297, 320128: 1308216, 46271022: 1545958, 255573: 1545958,
            4329847: 1545958}  # fmt: skip
AGES = [(18, 39), (40, 59), (60, 79), (80, 99)]


def cohorts(count: int) -> list[dict]:
    made = []
    for i, (condition, (low, high)) in enumerate((c, a) for a in AGES for c in CONDITIONS):
        if len(made) == count:
            break
        criteria = [{"domain": "condition", "concept_ids": [condition]},
                    {"domain": "drug", "concept_ids": [DRUG_FOR[condition]]}]  # fmt: skip
        if condition == 201826:
            criteria.append({"domain": "measurement", "concept_ids": [3004410],
                             "value": {"min": 7.0}})  # fmt: skip
        made.append({
            "name": f"bench {i}", "reference_date": "2024-01-01",
            "age": {"min": low, "max": high},
            "observation": {"from": "2019-01-01", "to": "2020-12-31"},
            "inclusion": criteria,
            "exclusion": [{"domain": "condition", "concept_ids": [316139]}],
            "breakdown": ["sex", "age_band"] if i % 2 else [],
        })  # fmt: skip
    return made


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_regions(folder: Path, names: list[str], persons: int, seed: int) -> list[str]:
    urls = []
    for i, name in enumerate(names):
        path = folder / f"{name}-{persons}-{seed + i}.duckdb"
        if not path.exists():
            started = time.perf_counter()
            region = generate(region_spec(name, persons, seed + i))
            generated = time.perf_counter() - started
            write_tables(f"duckdb:///{path}", region.tables)
            written = time.perf_counter() - started - generated
            print(f"  region {name}: generated in {generated:.1f} s, written in {written:.1f} s",
                  file=sys.stderr)  # fmt: skip
        urls.append(f"duckdb:///{path}")
    return urls


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--cohorts", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads per node")
    parser.add_argument(
        "--one-node-at-a-time",
        action="store_true",
        help="ask the nodes one after another (a node's query time without "
        "the others competing for the cores; end to end is then the sum)",
    )
    parser.add_argument(
        "--folder", type=Path, default=Path(tempfile.gettempdir()) / "permedhub-federation-bench"
    )
    args = parser.parse_args()  # fmt: skip

    names = list(REGION_PROFILES)[: args.nodes]
    names += [f"region{i}" for i in range(len(names), args.nodes)]
    args.folder.mkdir(parents=True, exist_ok=True)
    urls = make_regions(args.folder, names, args.persons, args.seed)
    run = Path(tempfile.mkdtemp(prefix="run-", dir=args.folder))
    entries, processes = [], []
    for name, url in zip(names, urls, strict=True):
        secret = secrets.token_hex(32)
        (run / f"{name}.secret").write_text(secret)
        (run / f"{name}.yaml").write_text(yaml.safe_dump({"users": {"bench": {"secret": secret}}}))
        port = free_port()
        command = [sys.executable, "-m", "permedhub.cli.main", "node", "serve", "--data", url,
                   "--credentials", str(run / f"{name}.yaml"), "--state", str(run / name),
                   "--port", str(port), "--name", name, "--per-minute", "1000"]  # fmt: skip
        if args.threads:
            command += ["--threads", str(args.threads)]
        processes.append(subprocess.Popen(command, env=dict(os.environ)))
        entries.append({"name": name, "url": f"http://127.0.0.1:{port}", "user": "bench",
                        "secret_file": f"{name}.secret", "timeout": 30})  # fmt: skip
    (run / "nodes.yaml").write_text(yaml.safe_dump({"nodes": entries}))
    try:
        started = time.perf_counter()
        for entry in entries:
            while True:
                try:
                    if httpx.get(f"{entry['url']}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        print(f"{args.nodes} nodes x {args.persons:,} persons up in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        nodes = load_nodes(run / "nodes.yaml")
        end_to_end, round_trips, answered = [], [], 0
        for definition in cohorts(args.cohorts):
            cohort = parse_cohort(json.dumps(definition))
            started = time.perf_counter()
            if args.one_node_at_a_time:
                outcomes = [query_nodes(cohort, [node]).nodes[0] for node in nodes]
            else:
                outcomes = query_nodes(cohort, nodes).nodes
            end_to_end.append(time.perf_counter() - started)
            round_trips += [o.seconds for o in outcomes]
            answered += sum(o.status == "answered" for o in outcomes)
            problems = [(o.node, o.status, o.detail) for o in outcomes
                        if o.status != "answered"]  # fmt: skip
            if problems:
                print(f"  {definition['name']}: {problems}", file=sys.stderr)
        node_seconds = [
            entry["detail"]["seconds"]
            for name in names
            for entry in NodeState(run / name / "node-state.sqlite").audit_log(10_000)
            if entry["event"] == "answered"
        ]
        total = len(end_to_end) * args.nodes
        e2e, trip, own = np.array(end_to_end), np.array(round_trips), np.array(node_seconds)
        print(f"answered {answered}/{total} node queries")
        print(f"end to end per cohort: median {np.median(e2e):.2f} s, max {e2e.max():.2f} s "
              f"(target < {TARGET_END_TO_END} s): "
              f"{'ok' if e2e.max() < TARGET_END_TO_END else 'SLOW'}")  # fmt: skip
        print(f"node round trip: p50 {np.percentile(trip, 50):.2f} s, "
              f"p95 {np.percentile(trip, 95):.2f} s")  # fmt: skip
        print(f"node's own query time: p50 {np.percentile(own, 50):.2f} s, "
              f"p95 {np.percentile(own, 95):.2f} s (target p95 < {TARGET_NODE_P95} s): "
              f"{'ok' if np.percentile(own, 95) < TARGET_NODE_P95 else 'SLOW'}")  # fmt: skip
        peaks = [peak_rss_mb(p.pid) for p in processes]
        print("node peak RSS (VmHWM): " + ", ".join(
            f"{name} {mb:.0f} MB" for name, mb in zip(names, peaks, strict=True)))  # fmt: skip
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
