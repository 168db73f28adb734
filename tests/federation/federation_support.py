"""Helpers for the federation tests: synthetic regions and nodes over them (in process, or
as real `permedhub node serve` processes on free 127.0.0.1 ports)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from permedhub.federation.answering import Node, NodeConfig
from permedhub.federation.synthetic import SyntheticRegion
from serving import free_port, serving_process


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


def write_credentials(folder: Path, user: str) -> tuple[Path, str]:
    secret = secrets.token_hex(32)
    path = folder / "credentials.yaml"
    path.write_text(yaml.safe_dump({"users": {user: {"secret": secret}}}), encoding="utf-8")
    return path, secret


def node_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PERMEDHUB_DATABASE_URL", None)
    return env


@contextmanager
def start_node(region: Region, folder: Path, *extra: str, scheme: str = "http",
               verify: object = True) -> Iterator[RunningNode]:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    credentials, secret = write_credentials(folder, "alice")
    port = free_port()
    url = f"{scheme}://127.0.0.1:{port}"
    arguments = ["node", "serve", "--data", region.url, "--credentials", str(credentials),
                 "--state", str(folder / "state"), "--port", str(port), "--name", region.name,
                 *extra]  # fmt: skip
    with serving_process(arguments, f"{url}/health", node_env(), verify=verify):
        yield RunningNode(region.name, url, "alice", secret, folder / "state")
