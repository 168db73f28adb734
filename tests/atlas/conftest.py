"""A small hand-built world for the atlas: six organisations in five countries, three
initiatives, three topics and five mapping records, whose matrices, gaps and scores are worked
out by hand in the tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine

GRAPH = {
    "topics": [
        {"id": "d", "name": "A document", "kind": "document", "source": "test"},
        {
            "id": "t1",
            "name": "Topic one",
            "kind": "research-area",
            "parent": "d",
            "position": 1,
            "source": "test",
        },
        {
            "id": "t2",
            "name": "Topic two",
            "kind": "research-area",
            "parent": "d",
            "position": 2,
            "source": "test",
        },
        {
            "id": "t3",
            "name": "Topic three",
            "kind": "research-area",
            "parent": "d",
            "position": 3,
            "source": "test",
        },
    ],
    "organisations": [
        {"id": "fr-a", "name": "Org A", "country": "FR", "source": "test"},
        {"id": "de-b", "name": "Org B", "country": "DE", "source": "test"},
        {"id": "za-c", "name": "Org C", "country": "ZA", "source": "test"},
        {"id": "ke-d", "name": "Org D", "country": "KE", "source": "test"},
        {"id": "cn-e", "name": "Org E", "country": "CN", "source": "test"},
        {"id": "fr-f", "name": "Funder F", "kind": "funder", "country": "FR", "source": "test"},
    ],
    "initiatives": [
        {
            "id": "i1",
            "name": "Initiative 1",
            "kind": "csa",
            "start": "2019",
            "topics": ["t1"],
            "source": "test",
        },
        {
            "id": "i2",
            "name": "Initiative 2",
            "kind": "csa",
            "start": "2020",
            "topics": ["t1", "t2"],
            "source": "test",
        },
        {"id": "i3", "name": "Initiative 3", "kind": "csa", "start": "2020", "source": "test"},
    ],
    "participations": [
        {"organisation": "fr-a", "initiative": "i1", "role": "partner", "source": "test"},
        {"organisation": "de-b", "initiative": "i1", "role": "partner", "source": "test"},
        {"organisation": "za-c", "initiative": "i1", "role": "partner", "source": "test"},
        {"organisation": "fr-a", "initiative": "i2", "role": "coordinator", "source": "test"},
        {"organisation": "ke-d", "initiative": "i2", "role": "partner", "source": "test"},
        {"organisation": "fr-f", "initiative": "i2", "role": "funder", "source": "test"},
        {"organisation": "cn-e", "initiative": "i3", "role": "partner", "source": "test"},
    ],
}

RECORDS = {
    "records": [
        {
            "id": "r1",
            "name": "R1",
            "type": "policy-strategy",
            "countries": ["FR"],
            "topics": ["t1", "t2"],
            "capacity": "established",
            "source": "https://example.org/r1",
        },
        {
            "id": "r2",
            "name": "R2",
            "type": "standard",
            "countries": ["ES-CT"],
            "topics": ["t1"],
            "capacity": "none",
            "source": "https://example.org/r2",
        },
        {
            "id": "r3",
            "name": "R3",
            "type": "biobank-genomics",
            "countries": ["NG"],
            "topics": ["t3"],
            "capacity": "advanced",
            "source": "https://example.org/r3",
        },
        {
            "id": "r4",
            "name": "R4",
            "type": "training-programme",
            "regions": ["africa"],
            "topics": ["t2"],
            "capacity": "none",
            "source": "https://example.org/r4",
        },
        {
            "id": "r5",
            "name": "R5",
            "type": "funding-programme",
            "countries": ["ZA"],
            "topics": ["t1"],
            "capacity": "emerging",
            "source": "https://example.org/r5",
        },
    ]
}


def build_world(engine: Engine, folder: Path) -> Engine:
    from permedhub.atlas.loading import load as load_records
    from permedhub.graph.loading import load as load_graph
    from permedhub.graph.seed import load_geography

    load_geography(engine)
    graph = folder / "graph.yaml"
    graph.write_text(yaml.safe_dump(GRAPH), encoding="utf-8")
    load_graph(engine, [graph], actor="test")
    records = folder / "records.yaml"
    records.write_text(yaml.safe_dump(RECORDS), encoding="utf-8")
    load_records(engine, [records], actor="test")
    return engine


@pytest.fixture
def world(empty_engine: Engine, tmp_path: Path) -> Engine:
    return build_world(empty_engine, tmp_path)
