"""What the analyses read from the database, as small pandas frames aggregated in SQL.

Every reader takes an open connection (one per command or request) and returns long frames
(place, topic, number); `analyses` turns them into matrices. Countries are ISO 3166-1 codes:
a record placed in a subdivision (ES-CT) counts for its country, and the graph's participations
are read from its `country_activity` aggregate (country rows only), so that coverage over a
million participations reads a few thousand rows instead of the participations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, text

from permedhub.atlas import cells
from permedhub.db import among
from permedhub.graph import models as graph_models
from permedhub.graph import revision

# Topic kinds that are documents (the Action Plan, the Vision paper): the heads of the
# taxonomy, not areas a record addresses; matrices have one column per area below them.
DOCUMENT_KINDS = {"document"}


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


def record_cells(
    connection: Connection, by: str = "country", regions: Iterable[str] | None = None
) -> pd.DataFrame:
    """Per place and topic (the `atlas_cell` aggregate): records (distinct mapping records),
    capable (those whose capacity is not `none`) and strength (the sum of their capacity
    weights).

    `by="country"`: records of each country (a subdivision's count for its country; records
    that name only regions are not in any country's row). `by="region"`: the records of a
    region's member countries and those naming the region itself, each counted once; only of
    `regions` when given."""
    if by not in ("country", "region"):
        raise ValueError(f"by={by!r}: expected 'country' or 'region'")
    sql = (
        "SELECT scope AS place, topic_id, records, capable, strength FROM atlas_cell "
        "WHERE kind = :kind AND topic_id <> ''"
    )
    params: dict[str, str] = {"kind": by}
    if regions is not None:
        sql += f" AND scope IN {cells.listed(connection, 'scopes')}"
        params["scopes"] = json.dumps(sorted(set(regions)))
    return pd.read_sql(text(sql), connection, params=params)


def record_places(connection: Connection, by: str = "country") -> pd.DataFrame:
    """Per place: records (all its mapping records, with or without topics) and capable."""
    return pd.read_sql(
        text(
            "SELECT scope AS place, records, capable FROM atlas_cell "
            "WHERE kind = :kind AND topic_id = ''"
        ),
        connection,
        params={"kind": by},
    )


def initiative_topics(connection: Connection) -> pd.DataFrame:
    """(initiative_id, topic_id) for every topic an initiative is tagged with."""
    initiative = graph_models.Initiative
    rows = connection.execute(
        initiative.__table__.select().with_only_columns(initiative.id, initiative.topics)
    )
    pairs = [(i, t) for i, listed in rows for t in dict.fromkeys(listed or [])]
    return pd.DataFrame(pairs, columns=["initiative_id", "topic_id"])


def _initiative_topics_cte(connection: Connection) -> str:
    """SQL: the (initiative_id, topic_id) pairs as the CTE `it`, expanded once (a join on
    `initiative` per activity row would parse an initiative's topics once per country)."""
    if connection.dialect.name == "postgresql":
        pairs = (
            "SELECT i.id AS initiative_id, j.value AS topic_id FROM initiative i CROSS JOIN "
            "LATERAL json_array_elements_text(CAST(i.topics AS json)) AS j(value)"
        )
    else:
        pairs = (
            "SELECT i.id AS initiative_id, j.value AS topic_id FROM initiative i, "
            "json_each(i.topics) j"
        )
    return f"WITH it AS MATERIALIZED ({pairs}) "


# (database, by, scopes) -> (the graph's revision when computed, the cells)
_PARTICIPATION_CACHE: dict[tuple[str, str, tuple[str, ...] | None], tuple[int, pd.DataFrame]] = {}


def participation_cells(
    connection: Connection, by: str = "country", scopes: Iterable[str] | None = None
) -> pd.DataFrame:
    """Per place and topic: participations (organisations of the place taking part, in any role,
    in the initiatives tagged with the topic) and funders (those in the funder role), summed in
    SQL from the graph's aggregates (`initiative_activity`, `country_activity`); only of
    `scopes` (countries or region ids) when given.

    A million participations make this the slowest read of a coverage query, and it changes
    only when the graph does: it is kept per database and recomputed when the graph's
    revision (`graph.revision`, raised by every writer) moves."""
    chosen_scopes = tuple(sorted(set(scopes))) if scopes is not None else None
    key = (connection.engine.url.render_as_string(hide_password=True), by, chosen_scopes)
    version = revision.current(connection)
    cached = _PARTICIPATION_CACHE.get(key)
    if cached is not None and cached[0] == version:
        return cached[1].copy()
    frame = _participation_cells(connection, by, chosen_scopes)
    _PARTICIPATION_CACHE[key] = (version, frame)
    return frame.copy()


def _participation_cells(
    connection: Connection, by: str, scopes: tuple[str, ...] | None
) -> pd.DataFrame:
    pairs = _initiative_topics_cte(connection)
    params: dict[str, str] = {}
    if scopes is not None:
        chosen = f"IN {cells.listed(connection, 'scopes')}"
        params["scopes"] = json.dumps(list(scopes))
    elif by == "country":
        chosen = "IN (SELECT code FROM country WHERE parent_code IS NULL)"
    else:
        chosen = "IN (SELECT id FROM region)"
    taking_part = (
        f"{pairs}SELECT a.scope AS place, it.topic_id, SUM(a.participations) AS participations "
        "FROM initiative_activity a JOIN it ON it.initiative_id = a.initiative_id "
        f"WHERE a.scope {chosen} GROUP BY a.scope, it.topic_id"
    )
    if by == "country":
        funding = (
            f"{pairs}SELECT a.place_code AS place, it.topic_id, SUM(a.organisations) AS funders "
            "FROM country_activity a JOIN it ON it.initiative_id = a.initiative_id "
            f"WHERE a.role = 'funder' AND a.place_code {chosen} "
            "GROUP BY a.place_code, it.topic_id"
        )
    else:
        funding = (
            f"{pairs}SELECT m.region_id AS place, it.topic_id, SUM(a.organisations) AS funders "
            "FROM country_activity a JOIN region_membership m ON m.country_code = a.place_code "
            "JOIN it ON it.initiative_id = a.initiative_id "
            f"WHERE a.role = 'funder' AND m.region_id {chosen} GROUP BY m.region_id, it.topic_id"
        )
    both = pd.merge(
        pd.read_sql(text(taking_part), connection, params=params),
        pd.read_sql(text(funding), connection, params=params),
        on=["place", "topic_id"],
        how="outer",
    )
    return both.fillna(0).astype({"participations": "int64", "funders": "int64"})


def country_participations(connection: Connection) -> pd.DataFrame:
    """Per country and initiative: participations (organisations in any role), from the
    `initiative_activity` aggregate (the country-to-country network)."""
    return pd.read_sql(
        text(
            "SELECT scope AS country_code, initiative_id, participations FROM "
            "initiative_activity WHERE scope IN (SELECT code FROM country WHERE parent_code IS "
            "NULL)"
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
