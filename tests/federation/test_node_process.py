"""Nodes as real `permedhub node serve` processes, and the hub's `permedhub federation query`
against them and against nodes that misbehave."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import yaml
from federation_support import Region, RunningNode, node_env
from oracle import expected_members

from permedhub.federation import signing
from permedhub.federation.cohort import parse_cohort
from serving import free_port, permedhub_command, serving_process

HERE = Path(__file__).resolve().parent
COHORT = {
    "name": "T2DM on metformin, 40-80",
    "reference_date": "2024-01-01",
    "age": {"min": 40, "max": 80},
    "inclusion": [
        {"domain": "condition", "concept_ids": [201826]},
        {"domain": "drug", "concept_ids": [1503297]},
    ],
}
FAKE_MODES = ("garbage", "wrong_shape", "slow", "hangup", "error")


def published(region: Region, definition: dict) -> int | None:
    true = len(expected_members(region.synthetic.tables, parse_cohort(json.dumps(definition))))
    return None if true < 10 else -(-true // 10) * 10


def post(node: RunningNode, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{node.url}/queries", content=body, headers=headers, timeout=10)


def signed(node: RunningNode, body: bytes, **options: float) -> dict[str, str]:
    return signing.sign(node.user, node.secret, "POST", "/queries", body, **options)


@pytest.fixture(scope="module")
def fake_nodes() -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        urls = {}
        for mode in FAKE_MODES:
            port = free_port()
            command = [sys.executable, str(HERE / "fake_node.py"), mode, str(port)]
            stack.enter_context(serving_process(command, f"http://127.0.0.1:{port}/health", {}))
            urls[mode] = f"http://127.0.0.1:{port}"
        yield urls


def _body(definition: dict) -> bytes:
    return json.dumps(definition).encode()


def test_health_names_the_node_and_says_the_data_are_synthetic(
    running_nodes: dict[str, RunningNode],
) -> None:
    health = httpx.get(f"{running_nodes['north'].url}/health").json()
    assert health["node"] == "north" and health["synthetic"] is True
    assert health["data"].startswith("SYNTHETIC")


def test_an_unsigned_call_is_refused(running_nodes: dict[str, RunningNode]) -> None:
    response = post(running_nodes["north"], _body(COHORT), {})
    assert response.status_code == 401
    assert response.json()["refused"] == "unauthenticated" and "count" not in response.text


def test_a_call_signed_with_another_secret_is_refused(
    running_nodes: dict[str, RunningNode],
) -> None:
    node = running_nodes["north"]
    body = _body({**COHORT, "name": "wrong secret"})
    headers = signing.sign(node.user, "x" * 64, "POST", "/queries", body)
    response = post(node, body, headers)
    assert response.status_code == 401 and response.json()["detail"] == "bad signature"


def test_a_tampered_body_is_refused(running_nodes: dict[str, RunningNode]) -> None:
    node = running_nodes["north"]
    headers = signed(node, _body({**COHORT, "age": {"min": 41, "max": 80}}))
    response = post(node, _body({**COHORT, "age": {"min": 42, "max": 80}}), headers)
    assert response.status_code == 401


def test_a_replayed_call_is_refused(running_nodes: dict[str, RunningNode]) -> None:
    node = running_nodes["north"]
    body = _body({**COHORT, "age": {"min": 45, "max": 80}})
    headers = signed(node, body)
    assert post(node, body, headers).status_code == 200
    again = post(node, body, headers)
    assert again.status_code == 401 and again.json()["refused"] == "replayed"


def test_a_stale_call_is_refused(running_nodes: dict[str, RunningNode]) -> None:
    node = running_nodes["north"]
    body = _body({**COHORT, "age": {"min": 46, "max": 80}})
    response = post(node, body, signed(node, body, now=time.time() - 1000))
    assert response.status_code == 401 and "stale" in response.json()["detail"]


def test_an_oversized_body_is_refused_before_it_is_read_whole(
    running_nodes: dict[str, RunningNode],
) -> None:
    node = running_nodes["north"]
    body = _body({**COHORT, "name": "x" * 70_000})
    response = post(node, body, signed(node, body))
    assert response.status_code == 413 and response.json()["refused"] == "too_large"


def _nodes_file(folder: Path, entries: list[dict]) -> Path:
    path = folder / "nodes.yaml"
    path.write_text(yaml.safe_dump({"nodes": entries}), encoding="utf-8")
    return path


def _entry(folder: Path, name: str, url: str, secret: str, **extra: object) -> dict:
    (folder / f"{name}.secret").write_text(secret, encoding="utf-8")
    return {"name": name, "url": url, "user": "alice", "secret_file": f"{name}.secret", **extra}


def _trust(node: RunningNode) -> dict[str, str]:
    return {"ca": str(node.ca)} if node.ca else {}


def run_hub(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(permedhub_command("federation", "query", *arguments),
                          capture_output=True, text=True, env=node_env(), timeout=60)  # fmt: skip


def test_the_hub_reports_every_node_answered_or_not(
    regions: dict[str, Region], running_nodes: dict[str, RunningNode],
    fake_nodes: dict[str, str], tmp_path: Path,
) -> None:  # fmt: skip
    entries = [_entry(tmp_path, name, node.url, node.secret, **_trust(node))
               for name, node in running_nodes.items()]  # fmt: skip
    entries += [_entry(tmp_path, mode, url, "s" * 64, timeout=1.5)
                for mode, url in fake_nodes.items()]  # fmt: skip
    entries.append(_entry(tmp_path, "nobody", f"http://127.0.0.1:{free_port()}", "s" * 64))
    cohort_file = tmp_path / "cohort.json"
    cohort_file.write_text(json.dumps(COHORT), encoding="utf-8")
    started = time.perf_counter()
    done = run_hub(str(cohort_file), "--nodes", str(_nodes_file(tmp_path, entries)), "--json")
    elapsed = time.perf_counter() - started
    assert done.returncode == 1, done.stderr  # some nodes did not answer
    result = json.loads(done.stdout)
    status = {o["node"]: o["status"] for o in result["nodes"]}
    assert status == {"north": "answered", "islands": "answered", "garbage": "garbage",
                      "wrong_shape": "garbage", "slow": "timeout", "hangup": "unreachable",
                      "error": "error", "nobody": "unreachable"}  # fmt: skip
    counts = {o["node"]: o["count"] for o in result["nodes"] if o["status"] == "answered"}
    assert counts == {name: published(regions[name], COHORT) for name in ("north", "islands")}
    assert result["total"] == sum(c for c in counts.values() if c is not None)
    assert set(result["not_answered"]) == set(status) - {"north", "islands"}
    assert any("double-counted" in caveat for caveat in result["caveats"])
    slow = next(o for o in result["nodes"] if o["node"] == "slow")
    assert 1.4 < slow["seconds"] < 5  # timed out, and the others were asked meanwhile
    assert elapsed < 20


def test_the_hub_refuses_a_malformed_cohort_naming_the_field(tmp_path: Path) -> None:
    cohort_file = tmp_path / "cohort.json"
    cohort_file.write_text(json.dumps({**COHORT, "age": {"min": "forty"}}), encoding="utf-8")
    nodes = _nodes_file(tmp_path, [_entry(tmp_path, "a", "http://127.0.0.1:9", "s" * 64)])
    done = run_hub(str(cohort_file), "--nodes", str(nodes), "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert "age.min (value 'forty')" in done.stderr


def test_the_hub_refuses_a_bad_nodes_file(tmp_path: Path) -> None:
    cohort_file = tmp_path / "cohort.json"
    cohort_file.write_text(json.dumps(COHORT), encoding="utf-8")
    nodes = _nodes_file(tmp_path, [{"name": "a", "url": "ftp://x", "user": "u",
                                    "secret_env": "X"}])  # fmt: skip
    done = run_hub(str(cohort_file), "--nodes", str(nodes))
    assert done.returncode == 2 and "nodes.0.url (value 'ftp://x')" in done.stderr


def test_a_node_without_valid_credentials_does_not_start(
    regions: dict[str, Region], tmp_path: Path,
) -> None:  # fmt: skip
    credentials = tmp_path / "credentials.yaml"
    credentials.write_text(yaml.safe_dump({"users": {"alice": {"secret": "short"}}}))
    done = subprocess.run(permedhub_command(
        "node", "serve", "--data", regions["north"].url, "--credentials", str(credentials),
        "--state", str(tmp_path / "state"), "--port", str(free_port())),
        capture_output=True, text=True, env=node_env(), timeout=60)  # fmt: skip
    assert done.returncode == 2 and "users.alice.secret" in done.stderr


def test_the_node_process_loads_no_portal_code() -> None:
    probe = ("import sys, permedhub.cli.main, permedhub.federation.node; "
             "print(sorted(m for m in sys.modules if m.startswith('permedhub.')))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=node_env(), check=True)  # fmt: skip
    loaded = {name.split(".")[1] for name in json.loads(done.stdout.replace("'", '"'))}
    assert "federation" in loaded
    assert not loaded & {"web", "graph", "db", "search"}


def test_the_hub_talks_https_to_a_node_with_a_self_signed_certificate(
    regions: dict[str, Region], running_nodes: dict[str, RunningNode], tmp_path: Path,
) -> None:  # fmt: skip
    node = running_nodes["islands"]
    if node.ca is None:
        pytest.skip("openssl is not installed: no self-signed certificate, the node runs http")
    cohort_file = tmp_path / "cohort.json"
    # (a cohort far from the other tests' ones, which the differencing rule would refuse)
    over_tls = {"name": "over TLS", "reference_date": "2024-01-01",
                "inclusion": [{"domain": "condition", "concept_ids": [255573]}]}  # fmt: skip
    cohort_file.write_text(json.dumps(over_tls))
    shutil.copy(node.ca, tmp_path / "node.pem")
    trusted = _entry(tmp_path, "trusted", node.url, node.secret, ca="node.pem")
    untrusted = _entry(tmp_path, "untrusted", node.url, node.secret)
    done = run_hub(str(cohort_file), "--nodes",
                   str(_nodes_file(tmp_path, [trusted, untrusted])), "--json")  # fmt: skip
    result = {o["node"]: o for o in json.loads(done.stdout)["nodes"]}
    assert result["trusted"]["status"] == "answered", result["trusted"]["detail"]
    assert result["trusted"]["count"] == published(regions["islands"], over_tls)
    assert result["untrusted"]["status"] == "unreachable"
    assert "CERTIFICATE_VERIFY_FAILED" in result["untrusted"]["detail"]
