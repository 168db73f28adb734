"""Synthetic regions written once per test session, and nodes over them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("duckdb", reason="the federation extra (duckdb) is not installed")

from federation_support import (
    Region,
    RunningNode,
    make_node,
    node_command,
    self_signed,
    start_nodes,
)

from permedhub.federation.answering import Node
from permedhub.federation.store import write_tables
from permedhub.federation.synthetic import generate, region_spec

PERSONS = {"north": 4000, "islands": 2500}


@pytest.fixture(scope="session")
def regions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Region]:
    """north on DuckDB, islands on SQLite (the two embedded backends)."""
    folder = tmp_path_factory.mktemp("regions")
    made = {}
    for (name, persons), url in zip(
        PERSONS.items(),
        [f"duckdb:///{folder / 'north.duckdb'}", f"sqlite:///{folder / 'islands.sqlite'}"],
        strict=True,
    ):
        synthetic = generate(region_spec(name, persons, seed=11))
        write_tables(url, synthetic.tables)
        made[name] = Region(name, url, synthetic)
    return made


@pytest.fixture
def north(regions: dict[str, Region], tmp_path: Path) -> Iterator[Node]:
    node = make_node(regions["north"], tmp_path / "state")
    yield node
    node.close()


@pytest.fixture(scope="module")
def running_nodes(
    regions: dict[str, Region], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, RunningNode]]:
    """north over HTTP; islands over HTTPS with a self-signed certificate when openssl is
    there to make one (else over HTTP, and the HTTPS test skips)."""
    folder = tmp_path_factory.mktemp("nodes")
    tls = self_signed(folder) if shutil.which("openssl") else None
    commands = [
        node_command(regions["north"], folder / "north", "--per-minute", "1000"),
        node_command(regions["islands"], folder / "islands", "--per-minute", "1000", tls=tls),
    ]
    with start_nodes(commands) as (north, islands):
        yield {"north": north, "islands": islands}
