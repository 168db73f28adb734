"""The activity aggregates (country x initiative x role, place totals, region x initiative)
always equal what the participations say, after seeding, loading, a curator's edits and their
undo."""

from __future__ import annotations

import json

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


PLACE_TOTALS = """
SELECT o.{column} AS place, count(*) AS n, count(DISTINCT p.initiative_id) AS k
FROM participation p JOIN organisation o ON o.id = p.organisation_id
WHERE o.{column} IS NOT NULL GROUP BY o.{column}
"""
SCOPES = """
SELECT o.country_code, p.initiative_id, count(*)
FROM participation p JOIN organisation o ON o.id = p.organisation_id
WHERE o.country_code IS NOT NULL GROUP BY o.country_code, p.initiative_id
UNION ALL
SELECT m.region_id, p.initiative_id, count(*)
FROM participation p JOIN organisation o ON o.id = p.organisation_id
JOIN region_membership m ON m.country_code = o.country_code
GROUP BY m.region_id, p.initiative_id
UNION ALL
SELECT '*', p.initiative_id, count(*)
FROM participation p JOIN organisation o ON o.id = p.organisation_id
WHERE o.country_code IS NOT NULL GROUP BY p.initiative_id
"""


def totals(engine: Engine) -> tuple[set[tuple[str, int, int]], set[tuple[str, str, int]]]:
    """(place_total rows, initiative_activity rows) as stored."""
    with engine.connect() as connection:
        places = connection.execute(
            text("SELECT place_code, participations, initiatives FROM place_total")
        )
        regions = connection.execute(
            text("SELECT scope, initiative_id, participations FROM initiative_activity")
        )
        return {(r[0], int(r[1]), int(r[2])) for r in places}, {
            (r[0], r[1], int(r[2])) for r in regions
        }


def recount_totals(engine: Engine) -> tuple[set[tuple[str, int, int]], set[tuple[str, str, int]]]:
    """The same, counted from the participations."""
    with engine.connect() as connection:
        places = {
            (r[0], int(r[1]), int(r[2]))
            for column in ("country_code", "subdivision_code")
            for r in connection.execute(text(PLACE_TOTALS.format(column=column)))
        }
        regions = {(r[0], r[1], int(r[2])) for r in connection.execute(text(SCOPES))}
        return places, regions


def breakdowns_in_step(engine: Engine) -> bool:
    """Each region / all-country row's per-country JSON sums to its participations and equals
    the place rows of those countries."""
    with engine.connect() as connection:
        places = {
            (r[0], r[1]): int(r[2])
            for r in connection.execute(
                text("SELECT scope, initiative_id, participations FROM initiative_activity")
            )
        }
        rows = connection.execute(
            text(
                "SELECT scope, initiative_id, participations, countries FROM initiative_activity "
                "WHERE countries IS NOT NULL"
            )
        ).all()
    assert rows
    for _scope, initiative_id, n, countries in rows:
        breakdown = countries if isinstance(countries, dict) else json.loads(countries)
        if sum(breakdown.values()) != n:
            return False
        if any(places.get((c, initiative_id)) != k for c, k in breakdown.items()):
            return False
    return True


def in_step(engine: Engine) -> bool:
    return (
        aggregate(engine) == recount(engine)
        and totals(engine) == recount_totals(engine)
        and breakdowns_in_step(engine)
    )


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
    assert totals(engine) == recount_totals(engine)
    assert breakdowns_in_step(engine)
    places, regions = totals(engine)
    assert any(r[0] == "celac" and r[1] == "eulac-permed" for r in regions)
    assert any(r[0] == "ES-NC" for r in places)
    assert any(r[0] == "ES" and r[1] == "erapermed" for r in regions)
    assert not any(r[0] == "ES-NC" for r in regions)


def test_loads_edits_and_undo_keep_it_in_step(engine, tmp_path):
    orgs = tmp_path / "organisations.csv"
    orgs.write_text("id,name,country\nagg-1,Agg One,PT\nagg-2,Agg Two,PT\n", encoding="utf-8")
    parts = tmp_path / "participations.csv"
    parts.write_text(
        "organisation,initiative,role\nagg-1,permit,partner\nagg-2,permit,partner\n",
        encoding="utf-8",
    )
    before = {r for r in totals(engine)[1] if r[0] == "*" and r[1] == "permit"}
    load(engine, [orgs, parts])
    assert ("PT", "permit", "partner", 2) in aggregate(engine)
    assert in_step(engine)
    after = {r for r in totals(engine)[1] if r[0] == "*" and r[1] == "permit"}
    assert [r[2] for r in after] == [n + 2 for *_, n in before]

    moved = curation.update_record(engine, "organisation", "agg-1", {"country": "BR"}, actor="c")
    assert ("BR", "permit", "partner", 1) in aggregate(engine)
    assert ("PT", "permit", "partner", 1) in aggregate(engine)
    assert in_step(engine)
    assert ("celac", "permit", 1) in totals(engine)[1]

    assert moved.audit_id is not None
    curation.undo(engine, moved.audit_id, actor="c")
    assert ("PT", "permit", "partner", 2) in aggregate(engine)
    assert in_step(engine)
    with Session(engine) as session:
        portugal = country_profile(session, "PT")
    permit = next(ci for ci in portugal.initiatives if ci.initiative.id == "permit")
    assert (permit.organisations, permit.roles) == (2, ["partner"])


def test_a_bulk_load_leaves_postgresql_statistics_current(engine, tmp_path):
    """Planner statistics follow a load at once (PostgreSQL; SQLite plans well without)."""
    countries = ["AT", "BE", "BG", "CY", "CZ", "DK", "EE", "FI", "GR", "HR", "HU", "IE", "LT"]
    countries += ["LU", "LV", "MT", "NL", "PL", "RO", "SE", "SI", "SK", "NO", "IS", "CH"]
    orgs = tmp_path / "organisations.csv"
    orgs.write_text(
        "id,name,country\n" + "".join(f"bulk-{c.lower()},Bulk {c},{c}\n" for c in countries),
        encoding="utf-8",
    )
    parts = tmp_path / "participations.csv"
    parts.write_text(
        "organisation,initiative,role\n"
        + "".join(f"bulk-{c.lower()},permit,partner\n" for c in countries),
        encoding="utf-8",
    )
    load(engine, [orgs, parts])
    assert in_step(engine)
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        organisations = connection.execute(text("SELECT count(*) FROM organisation")).scalar_one()
        estimated = connection.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'organisation'")
        ).scalar_one()
    assert estimated == organisations
