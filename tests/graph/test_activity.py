"""The country x initiative x role aggregate always equals what the participations say, after
seeding, loading, a curator's edits and their undo."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from permedhub.graph import curation
from permedhub.graph.loading import load
from permedhub.graph.queries import country_profile

DIRECT = """
SELECT o.{column} AS place, p.initiative_id, p.role, count(*) AS n
FROM participation p JOIN organisation o ON o.id = p.organisation_id
WHERE o.{column} IS NOT NULL GROUP BY o.{column}, p.initiative_id, p.role
"""


def aggregate(engine: Engine) -> set[tuple[str, str, str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT place_code, initiative_id, role, organisations FROM country_activity")
        )
        return {(r[0], r[1], r[2], int(r[3])) for r in rows}


def recount(engine: Engine) -> set[tuple[str, str, str, int]]:
    with engine.connect() as connection:
        return {
            (r[0], r[1], r[2], int(r[3]))
            for column in ("country_code", "subdivision_code")
            for r in connection.execute(text(DIRECT.format(column=column)))
        }


def test_the_seeded_aggregate_matches_the_participations(engine):
    assert aggregate(engine) == recount(engine)
    assert ("ES-NC", "erapermed", "funder", 1) in aggregate(engine)


def test_loads_edits_and_undo_keep_it_in_step(engine, tmp_path):
    orgs = tmp_path / "organisations.csv"
    orgs.write_text("id,name,country\nagg-1,Agg One,PT\nagg-2,Agg Two,PT\n", encoding="utf-8")
    parts = tmp_path / "participations.csv"
    parts.write_text(
        "organisation,initiative,role\nagg-1,permit,partner\nagg-2,permit,partner\n",
        encoding="utf-8",
    )
    load(engine, [orgs, parts])
    assert ("PT", "permit", "partner", 2) in aggregate(engine)
    assert aggregate(engine) == recount(engine)

    moved = curation.update_record(engine, "organisation", "agg-1", {"country": "BR"}, actor="c")
    assert ("BR", "permit", "partner", 1) in aggregate(engine)
    assert ("PT", "permit", "partner", 1) in aggregate(engine)
    assert aggregate(engine) == recount(engine)

    assert moved.audit_id is not None
    curation.undo(engine, moved.audit_id, actor="c")
    assert ("PT", "permit", "partner", 2) in aggregate(engine)
    assert aggregate(engine) == recount(engine)
    with Session(engine) as session:
        portugal = country_profile(session, "PT")
    permit = next(ci for ci in portugal.initiatives if ci.initiative.id == "permit")
    assert (permit.organisations, permit.roles) == (2, ["partner"])
