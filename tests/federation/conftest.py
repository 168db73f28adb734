"""Synthetic regions written once per test session, and nodes over them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("duckdb", reason="the federation extra (duckdb) is not installed")

from federation_support import Region, RunningNode, make_node, start_node

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
    folder = tmp_path_factory.mktemp("nodes")
    with (
        start_node(regions["north"], folder / "north", "--per-minute", "1000") as north,
        start_node(regions["islands"], folder / "islands", "--per-minute", "1000") as islands,
    ):
        yield {"north": north, "islands": islands}
