"""Helpers for the federation tests: synthetic regions and nodes over them (in process, or
as real `permedhub node serve` processes on free 127.0.0.1 ports)."""

from __future__ import annotations

import os
import secrets
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from permedhub.federation.answering import Node, NodeConfig
from permedhub.federation.synthetic import SyntheticRegion
from serving import Served, free_port, permedhub_command, serving_processes


@dataclass
class Region:
    name: str
    url: str
    synthetic: SyntheticRegion


def make_node(region: Region, state_dir: Path, **options: object) -> Node:
    return Node(NodeConfig(name=region.name, data_url=region.url, state_dir=state_dir,
                           **options))  # type: ignore[arg-type]  # fmt: skip


@dataclass
class RunningNode:
    name: str
    url: str
    user: str
    secret: str
    state: Path
    ca: Path | None = None  # the certificate to trust, when served over HTTPS


def write_credentials(folder: Path, user: str) -> tuple[Path, str]:
    secret = secrets.token_hex(32)
    path = folder / "credentials.yaml"
    path.write_text(yaml.safe_dump({"users": {user: {"secret": secret}}}), encoding="utf-8")
    return path, secret


def node_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PERMEDHUB_DATABASE_URL", None)
    return env


def node_command(region: Region, folder: Path, *extra: str,
                 tls: tuple[Path, Path] | None = None) -> tuple[Served, RunningNode]:  # fmt: skip
    """The command serving a node over `region` from `folder` (credentials for user alice),
    over HTTPS when given a (certificate, key) pair."""
    folder.mkdir(parents=True, exist_ok=True)
    credentials, secret = write_credentials(folder, "alice")
    port = free_port()
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    options = ["--certfile", str(tls[0]), "--keyfile", str(tls[1])] if tls else []
    command = permedhub_command(
        "node", "serve", "--data", region.url, "--credentials", str(credentials),
        "--state", str(folder / "state"), "--port", str(port), "--name", region.name,
        *options, *extra,
    )  # fmt: skip
    verify: Any = ssl.create_default_context(cafile=str(tls[0])) if tls else True
    node = RunningNode(region.name, url, "alice", secret, folder / "state", tls[0] if tls else None)
    return Served(command, f"{url}/health", verify), node


@contextmanager
def start_nodes(commands: list[tuple[Served, RunningNode]]) -> Iterator[list[RunningNode]]:
    """Every node as its own process, started at once."""
    with serving_processes([served for served, _ in commands], node_env()):
        yield [node for _, node in commands]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by openssl (tests only)."""
    cert, key = folder / "node.pem", folder / "node.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key
