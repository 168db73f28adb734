"""The country x initiative x role aggregate (`country_activity`), recomputed per place.

Country, region and count pages would otherwise group hundreds of thousands of participations
on every request. Every write that can change the aggregate — a load, a curator's edit, an
undo — calls `refresh` for the places it touched (an organisation's country and subdivision,
before and after), inside its own transaction, so the aggregate is never out of step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, text

from permedhub.graph.models import CountryActivity, Organisation, table_of

ACTIVITY = table_of(CountryActivity)
CHUNK = 500

_REBUILD = """
INSERT INTO country_activity (place_code, initiative_id, role, organisations)
SELECT o.{column}, p.initiative_id, p.role, count(*)
FROM participation p JOIN organisation o ON o.id = p.organisation_id
WHERE o.{column} IN :places
GROUP BY o.{column}, p.initiative_id, p.role
"""


def refresh(connection: Connection, places: Iterable[str | None]) -> None:
    """Recompute the aggregate rows of these countries / subdivisions from participations."""
    wanted = sorted({p for p in places if p})
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        connection.execute(delete(ACTIVITY).where(ACTIVITY.c.place_code.in_(chunk)))
        for column in ("country_code", "subdivision_code"):
            statement = text(_REBUILD.format(column=column)).bindparams(
                bindparam("places", expanding=True)
            )
            connection.execute(statement, {"places": chunk})


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
