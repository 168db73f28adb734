"""The `atlas_cell` aggregate: mapping records per place and topic, rewritten for the places a
load touches, in the load's transaction.

The counting is the SQL below, once per kind of place: a record counts once per (place, topic)
whatever the number of its places inside that place (two subdivisions of one country, two
member countries of one region).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import Connection, text

from permedhub.atlas.schemas import CAPACITY_WEIGHT


def weight_sql() -> str:
    """SQL for a record's capacity weight (schemas.CAPACITY_WEIGHT)."""
    cases = " ".join(
        f"WHEN '{level}' THEN {weight}" for level, weight in CAPACITY_WEIGHT.items() if level
    )
    return f"(CASE r.capacity {cases} ELSE {CAPACITY_WEIGHT[None]} END)"


def listed(connection: Connection, name: str) -> str:
    """SQL for the values of the JSON list parameter `name`, on either backend."""
    if connection.dialect.name == "postgresql":
        return f"(SELECT json_array_elements_text(CAST(:{name} AS json)))"
    return f"(SELECT value FROM json_each(:{name}))"


def _pairs(connection: Connection, kind: str, only: str) -> str:
    """SQL of the distinct (place, record, weight) of one kind, limited by `only` (a SQL list)."""
    weight = weight_sql()
    if kind == "country":
        return (
            f"SELECT DISTINCT p.country_code AS place, r.id AS record_id, {weight} AS weight "
            "FROM atlas_record r JOIN atlas_record_place p ON p.record_id = r.id "
            f"WHERE p.country_code IN {only}"
        )
    return (
        f"SELECT m.region_id AS place, r.id AS record_id, {weight} AS weight "
        "FROM atlas_record r JOIN atlas_record_place p ON p.record_id = r.id "
        f"JOIN region_membership m ON m.country_code = p.country_code WHERE m.region_id IN {only} "
        f"UNION SELECT g.region_id AS place, r.id AS record_id, {weight} AS weight "
        "FROM atlas_record r JOIN atlas_record_region g ON g.record_id = r.id "
        f"WHERE g.region_id IN {only}"
    )


def refresh(
    connection: Connection,
    countries: Iterable[str] | None = None,
    regions: Iterable[str] | None = None,
) -> None:
    """Rewrite the cells of `countries` and `regions` (every place when None)."""
    for kind, scopes in (("country", countries), ("region", regions)):
        if scopes is None:
            table = "country WHERE parent_code IS NULL" if kind == "country" else "region"
            column = "code" if kind == "country" else "id"
            scopes = connection.execute(text(f"SELECT {column} FROM {table}")).scalars().all()
        chosen = sorted(set(scopes))
        if not chosen:
            continue
        params = {"scopes": json.dumps(chosen), "kind": kind}
        only = listed(connection, "scopes")
        connection.execute(
            text(f"DELETE FROM atlas_cell WHERE kind = :kind AND scope IN {only}"), params
        )
        pairs = _pairs(connection, kind, only)
        summed = (
            "SELECT CAST(:kind AS VARCHAR(10)), place, {topic}, COUNT(*), "
            "SUM(CASE WHEN weight > 0 THEN 1 ELSE 0 END), SUM(weight) "
            "FROM ({cells}) cells GROUP BY place{group}"
        )
        insert = "INSERT INTO atlas_cell (kind, scope, topic_id, records, capable, strength) "
        by_topic = (
            "SELECT pairs.place, t.topic_id, pairs.record_id, pairs.weight FROM "
            f"({pairs}) pairs JOIN atlas_record_topic t ON t.record_id = pairs.record_id"
        )
        connection.execute(
            text(insert + summed.format(topic="topic_id", cells=by_topic, group=", topic_id")),
            params,
        )
        connection.execute(text(insert + summed.format(topic="''", cells=pairs, group="")), params)
