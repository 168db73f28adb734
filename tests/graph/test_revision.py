"""The graph's revision moves with every write to the graph and only then: a prepared download
kept for a revision is served until it moves (web/pages/cache.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from permedhub.graph import curation, revision
from permedhub.graph.loading import load
from permedhub.graph.seed import load_geography


def _now(engine: Engine) -> int:
    with engine.connect() as connection:
        return revision.current(connection)


def test_every_write_raises_the_revision_and_nothing_else_does(
    engine: Engine, tmp_path: Path
) -> None:
    seeded = _now(engine)
    assert seeded > 0, "the seed is written by the importer"
    orgs = tmp_path / "organisations.csv"
    orgs.write_text("id,name,country\nrev-org,Revision Org,PT\n", encoding="utf-8")
    load(engine, [orgs], dry_run=True)
    assert _now(engine) == seeded, "a preview writes nothing"
    load(engine, [orgs])
    loaded = _now(engine)
    assert loaded > seeded
    load(engine, [orgs])
    assert _now(engine) == loaded, "the same file again changes nothing"
    saved = curation.update_record(
        engine, "organisation", "rev-org", {"name": "Revision Org renamed"}, actor="test"
    )
    edited = _now(engine)
    assert edited > loaded
    curation.undo(engine, saved.audit_id or 0, actor="test")
    undone = _now(engine)
    assert undone > edited
    load_geography(engine)
    assert _now(engine) > undone
