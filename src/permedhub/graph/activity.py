"""The activity aggregates, recomputed per place: `country_activity` (place x initiative x
role), `initiative_activity` (participations per initiative in a country, a region or in all) and
`place_total` (a place's sums).

Country, region, count and network pages would otherwise group hundreds of thousands of
participations on every request. Every write that can change the aggregates — a load, a
curator's edit, an undo — calls `refresh` for the places it touched (an organisation's country
and subdivision, before and after), inside its own transaction, so they are never out of step.
Curation deletes an organisation or initiative only when no participation refers to it, and an
initiative's aggregate rows go with it (ON DELETE CASCADE), so no other write moves them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, text

from permedhub.graph.models import (
    ALL_COUNTRIES,
    Country,
    CountryActivity,
    InitiativeActivity,
    Organisation,
    PlaceTotal,
    RegionMembership,
    table_of,
)

ACTIVITY = table_of(CountryActivity)
PLACE_TOTAL = table_of(PlaceTotal)
INITIATIVE_ACTIVITY = table_of(InitiativeActivity)
# Places per pass: each pass joins all participations, so a full load's ~1,200 places go in one
# pass rather than many; SQLite takes 32,766 parameters.
CHUNK = 5000
# A refresh of this many places is a bulk write (a load), after which statistics are renewed.
BULK_PLACES = 20

# Inserted in key order, so that a place's rows lie together on disk: a country page reads all
# of them (Germany: 8,700 rows on ~60 PostgreSQL heap pages instead of ~900 in hash order).
_REBUILD = """
INSERT INTO country_activity (place_code, initiative_id, role, organisations)
SELECT o.{column}, p.initiative_id, p.role, count(*)
FROM participation p JOIN organisation o ON o.id = p.organisation_id
WHERE o.{column} IN :places
GROUP BY o.{column}, p.initiative_id, p.role
ORDER BY o.{column}, p.initiative_id, p.role
"""


# Countries only: regions add up countries, and a subdivision's few rows are ranked directly
# (all 1,200 places would double the rows a load writes here).
_PLACE_ACTIVITY = """
INSERT INTO initiative_activity (scope, initiative_id, participations)
SELECT a.place_code, a.initiative_id, sum(a.organisations)
FROM country_activity a JOIN country c ON c.code = a.place_code AND c.parent_code IS NULL
WHERE a.place_code IN :places
GROUP BY a.place_code, a.initiative_id
ORDER BY a.place_code, a.initiative_id
"""
_PLACE_TOTALS = """
INSERT INTO place_total (place_code, participations, initiatives)
SELECT place_code, sum(organisations), count(DISTINCT initiative_id)
FROM country_activity WHERE place_code IN :places GROUP BY place_code
"""
# Regions and all countries from the place rows just rebuilt, with the per-country breakdown
# (a JSON object: {object_agg} is the dialect's aggregate).
_REGION_REBUILD = """
INSERT INTO initiative_activity (scope, initiative_id, participations, countries)
SELECT :region, a.initiative_id, sum(a.participations), {object_agg}(a.scope, a.participations)
FROM initiative_activity a JOIN region_membership m
  ON m.country_code = a.scope AND m.region_id = :region
WHERE a.initiative_id IN :initiatives
GROUP BY a.initiative_id
"""
# Every country, not subdivisions: an organisation of ES-NC is already counted under ES.
_ALL_COUNTRIES_REBUILD = """
INSERT INTO initiative_activity (scope, initiative_id, participations, countries)
SELECT :region, a.initiative_id, sum(a.participations), {object_agg}(a.scope, a.participations)
FROM initiative_activity a JOIN country c ON c.code = a.scope AND c.parent_code IS NULL
WHERE a.initiative_id IN :initiatives
GROUP BY a.initiative_id
"""
_OBJECT_AGG = {"sqlite": "json_group_object", "postgresql": "json_object_agg"}


def _expanding(sql: str, *names: str) -> Any:
    return text(sql).bindparams(*(bindparam(n, expanding=True) for n in names))


def _place_rows(connection: Connection, places: list[str]) -> dict[tuple[str, str], int]:
    """(country, initiative) -> participations, over roles, for the countries among places."""
    rows = connection.execute(
        select(
            INITIATIVE_ACTIVITY.c.scope,
            INITIATIVE_ACTIVITY.c.initiative_id,
            INITIATIVE_ACTIVITY.c.participations,
        ).where(INITIATIVE_ACTIVITY.c.scope.in_(places))
    )
    return {(p, i): int(n) for p, i, n in rows}


def refresh(connection: Connection, places: Iterable[str | None]) -> None:
    """Recompute the aggregate rows of these countries / subdivisions from participations."""
    wanted = sorted({p for p in places if p})
    moved_places: set[str] = set()
    moved_initiatives: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        before = _place_rows(connection, chunk)
        connection.execute(delete(ACTIVITY).where(ACTIVITY.c.place_code.in_(chunk)))
        for column in ("country_code", "subdivision_code"):
            statement = _expanding(_REBUILD.format(column=column), "places")
            connection.execute(statement, {"places": chunk})
        connection.execute(
            delete(INITIATIVE_ACTIVITY).where(INITIATIVE_ACTIVITY.c.scope.in_(chunk))
        )
        connection.execute(_expanding(_PLACE_ACTIVITY, "places"), {"places": chunk})
        after = _place_rows(connection, chunk)
        for key in before.keys() | after.keys():
            if before.get(key) != after.get(key):
                moved_places.add(key[0])
                moved_initiatives.add(key[1])
        connection.execute(delete(PLACE_TOTAL).where(PLACE_TOTAL.c.place_code.in_(chunk)))
        connection.execute(_expanding(_PLACE_TOTALS, "places"), {"places": chunk})
    _refresh_regions(connection, moved_places, moved_initiatives)
    if len(wanted) >= BULK_PLACES and connection.dialect.name == "postgresql":
        _analyse(connection)


def _analyse(connection: Connection) -> None:
    """Fresh planner statistics for the tables the read side pages through, after a bulk write.

    Right after a load PostgreSQL has none until autovacuum comes round (the organisation table
    reads as -1 rows), and plans as if the tables were tiny: a country page then sorted all
    11,466 German organisations (7 ms) instead of reading 50 from its index (0.6 ms). About
    0.2 s for the benchmark graph. ANALYZE counts this transaction's own rows. SQLite plans
    these queries well without statistics, and its ANALYZE would change every plan at once.
    """
    for table in (ACTIVITY, INITIATIVE_ACTIVITY, PLACE_TOTAL, table_of(Organisation)):
        connection.exec_driver_sql(f"ANALYZE {table.name}")


def _refresh_regions(connection: Connection, places: set[str], initiatives: set[str]) -> None:
    """Recompute the region and all-country rows of `initiative_activity` for these initiatives
    in the regions of these places.

    Only the initiatives whose per-country sums moved: a curator's edit of one organisation
    touches a handful of rows, not the region's thousands.
    """
    if not places or not initiatives:
        return
    countries = {
        str(code)
        for start in range(0, len(places), CHUNK)
        for code in connection.execute(
            select(Country.code).where(
                Country.code.in_(sorted(places)[start : start + CHUNK]),
                Country.parent_code.is_(None),
            )
        ).scalars()
    }
    if not countries:
        return
    regions = sorted(
        {
            str(r)
            for r in connection.execute(
                select(RegionMembership.region_id)
                .where(RegionMembership.country_code.in_(sorted(countries)))
                .distinct()
            ).scalars()
        }
    )
    ids = sorted(initiatives)
    object_agg = _OBJECT_AGG[connection.dialect.name]
    for region in [ALL_COUNTRIES, *regions]:
        rebuild = (_ALL_COUNTRIES_REBUILD if region == ALL_COUNTRIES else _REGION_REBUILD).format(
            object_agg=object_agg
        )
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            connection.execute(
                delete(INITIATIVE_ACTIVITY).where(
                    INITIATIVE_ACTIVITY.c.scope == region,
                    INITIATIVE_ACTIVITY.c.initiative_id.in_(chunk),
                )
            )
            connection.execute(
                _expanding(rebuild, "initiatives"), {"region": region, "initiatives": chunk}
            )


def places_of_organisations(connection: Connection, organisation_ids: Iterable[str]) -> set[str]:
    """The countries and subdivisions of these organisations."""
    ids = sorted(set(organisation_ids))
    places: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        for country, subdivision in connection.execute(
            select(Organisation.country_code, Organisation.subdivision_code).where(
                Organisation.id.in_(ids[start : start + CHUNK])
            )
        ):
            places.update(p for p in (country, subdivision) if p)
    return places


def places_touched(
    connection: Connection,
    entity_type: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> set[str]:
    """Places whose aggregate a change of one record (old -> new snapshot) can move."""
    rows = [r for r in (old, new) if r]
    if entity_type == "organisation":
        return {p for r in rows for p in (r.get("country_code"), r.get("subdivision_code")) if p}
    if entity_type == "participation":
        return places_of_organisations(connection, [str(r["organisation_id"]) for r in rows])
    return set()
