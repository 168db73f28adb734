"""What the analyses read from the database, as small pandas frames aggregated in SQL.

Every reader takes an open connection (one per command or request) and returns long frames
(place, topic, number); `analyses` turns them into matrices. Countries are ISO 3166-1 codes:
a record placed in a subdivision (ES-CT) counts for its country, and the graph's participations
are read from its `country_activity` aggregate (country rows only), so that coverage over a
million participations reads a few thousand rows instead of the participations.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, text

from permedhub.atlas.schemas import CAPACITY_WEIGHT
from permedhub.db import among
from permedhub.graph import models as graph_models

# Topic kinds that are documents (the Action Plan, the Vision paper): the heads of the
# taxonomy, not areas a record addresses; matrices have one column per area below them.
DOCUMENT_KINDS = {"document"}


def _weight_sql() -> str:
    """SQL for a record's capacity weight (schemas.CAPACITY_WEIGHT)."""
    cases = " ".join(
        f"WHEN '{level}' THEN {weight}" for level, weight in CAPACITY_WEIGHT.items() if level
    )
    return f"(CASE r.capacity {cases} ELSE {CAPACITY_WEIGHT[None]} END)"


def topics(connection: Connection) -> pd.DataFrame:
    """The taxonomy's areas (documents left out) in taxonomy order: id, name, kind, parent."""
    frame = pd.read_sql(
        text(
            "SELECT t.id, t.name, t.kind, t.parent_id, t.position, p.position AS parent_position "
            "FROM topic t LEFT JOIN topic p ON p.id = t.parent_id"
        ),
        connection,
    )
    frame = frame[~frame["kind"].isin(DOCUMENT_KINDS)]
    frame = frame.sort_values(["parent_id", "position", "id"], na_position="first")
    return frame[["id", "name", "kind", "parent_id"]].reset_index(drop=True)


def members(connection: Connection, region: str | None = None) -> pd.DataFrame:
    """Region memberships (region_id, country_code), of one region or of all."""
    sql = "SELECT region_id, country_code FROM region_membership"
    params = {}
    if region is not None:
        sql += " WHERE region_id = :region"
        params["region"] = region
    return pd.read_sql(text(sql + " ORDER BY region_id, country_code"), connection, params=params)


def regions(connection: Connection) -> pd.DataFrame:
    return pd.read_sql(text("SELECT id, name FROM region ORDER BY id"), connection)


def country_names(connection: Connection, codes: Iterable[str] | None = None) -> dict[str, str]:
    query = "SELECT code, name FROM country WHERE parent_code IS NULL"
    rows = connection.execute(text(query))
    names = {code: name for code, name in rows}
    return names if codes is None else {c: names.get(c, c) for c in codes}


def record_cells(connection: Connection, by: str = "country") -> pd.DataFrame:
    """Per place and topic: records (distinct mapping records), capable (those whose capacity
    is not `none`) and strength (the sum of their capacity weights).

    `by="country"`: records of each country (a subdivision's count for its country; records
    that name only regions are not in any country's row). `by="region"`: the records of a
    region's member countries and those naming the region itself, each counted once."""
    weight = _weight_sql()
    if by == "country":
        cells = (
            "SELECT DISTINCT p.country_code AS place, t.topic_id, r.id AS record_id, "
            f"{weight} AS weight FROM atlas_record r "
            "JOIN atlas_record_place p ON p.record_id = r.id "
            "JOIN atlas_record_topic t ON t.record_id = r.id"
        )
    elif by == "region":
        cells = (
            "SELECT DISTINCT m.region_id AS place, t.topic_id, r.id AS record_id, "
            f"{weight} AS weight FROM atlas_record r "
            "JOIN atlas_record_place p ON p.record_id = r.id "
            "JOIN region_membership m ON m.country_code = p.country_code "
            "JOIN atlas_record_topic t ON t.record_id = r.id "
            "UNION "
            "SELECT g.region_id AS place, t.topic_id, r.id AS record_id, "
            f"{weight} AS weight FROM atlas_record r "
            "JOIN atlas_record_region g ON g.record_id = r.id "
            "JOIN atlas_record_topic t ON t.record_id = r.id"
        )
    else:
        raise ValueError(f"by={by!r}: expected 'country' or 'region'")
    sql = (
        "SELECT place, topic_id, COUNT(*) AS records, "
        "SUM(CASE WHEN weight > 0 THEN 1 ELSE 0 END) AS capable, SUM(weight) AS strength "
        f"FROM ({cells}) cells GROUP BY place, topic_id"
    )
    return pd.read_sql(text(sql), connection)


def record_places(connection: Connection, by: str = "country") -> pd.DataFrame:
    """Per place: records (all its mapping records, with or without topics) and capable."""
    weight = _weight_sql()
    if by == "country":
        cells = (
            f"SELECT DISTINCT p.country_code AS place, r.id AS record_id, {weight} AS weight "
            "FROM atlas_record r JOIN atlas_record_place p ON p.record_id = r.id"
        )
    else:
        cells = (
            f"SELECT DISTINCT m.region_id AS place, r.id AS record_id, {weight} AS weight "
            "FROM atlas_record r JOIN atlas_record_place p ON p.record_id = r.id "
            "JOIN region_membership m ON m.country_code = p.country_code "
            f"UNION SELECT g.region_id AS place, r.id AS record_id, {weight} AS weight "
            "FROM atlas_record r JOIN atlas_record_region g ON g.record_id = r.id"
        )
    sql = (
        "SELECT place, COUNT(*) AS records, SUM(CASE WHEN weight > 0 THEN 1 ELSE 0 END) "
        f"AS capable FROM ({cells}) cells GROUP BY place"
    )
    return pd.read_sql(text(sql), connection)


def initiative_topics(connection: Connection) -> pd.DataFrame:
    """(initiative_id, topic_id) for every topic an initiative is tagged with."""
    initiative = graph_models.Initiative
    rows = connection.execute(
        initiative.__table__.select().with_only_columns(initiative.id, initiative.topics)
    )
    pairs = [(i, t) for i, listed in rows for t in dict.fromkeys(listed or [])]
    return pd.DataFrame(pairs, columns=["initiative_id", "topic_id"])


def country_participations(connection: Connection) -> pd.DataFrame:
    """Per country and initiative: participations (organisations in any role) and funders
    (organisations in the funder role), from the `country_activity` aggregate."""
    return pd.read_sql(
        text(
            "SELECT place_code AS country_code, initiative_id, SUM(organisations) AS "
            "participations, SUM(CASE WHEN role = 'funder' THEN organisations ELSE 0 END) AS "
            "funders FROM country_activity WHERE place_code NOT LIKE '%-%' "
            "GROUP BY place_code, initiative_id"
        ),
        connection,
    )


def participation_totals(connection: Connection) -> dict[str, int]:
    """Per country: participations in the family's initiatives (`place_total`)."""
    rows = connection.execute(
        text("SELECT place_code, participations FROM place_total WHERE place_code NOT LIKE '%-%'")
    )
    return {code: int(n) for code, n in rows if n}


def call_countries(connection: Connection) -> set[str]:
    """Countries that take part in a call of the family: named in a call's countries or home of
    one of its funders."""
    call, organisation = graph_models.Call, graph_models.Organisation
    countries: set[str] = set()
    funders: set[str] = set()
    for listed, funder_ids in connection.execute(
        call.__table__.select().with_only_columns(call.countries, call.funder_ids)
    ):
        countries.update(c.split("-")[0] for c in listed or [])
        funders.update(funder_ids or [])
    if funders:
        countries.update(
            code
            for (code,) in connection.execute(
                organisation.__table__.select()
                .with_only_columns(organisation.country_code)
                .where(among(connection.dialect.name, organisation.id, funders))
            )
            if code
        )
    return countries
