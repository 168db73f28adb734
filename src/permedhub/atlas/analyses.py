"""The atlas's analyses: coverage, gaps and mutual interest, as pandas frames in dataclasses.

Each function opens one connection, reads small aggregates (`data`) and computes in pandas.

Strength of a place in a topic (used by gaps and mutual interest): a mapping record counts its
capacity weight (schemas.CAPACITY_WEIGHT: none 0, emerging 1, established 2, advanced 3, not
stated 1); a place has capacity in a topic when its strength there is above 0.

Mutual interest of regions A and B (`mutual`), per topic t:
- R_X(t) = the strength of region X's mapping records in t (records of its countries and
  records naming X itself), P_X(t) = participations of X's organisations in the family's
  initiatives tagged t;
- s_X(t) = (R_X(t) / max R_X + P_X(t) / max P_X) / 2, a share in [0, 1] (a term whose maximum
  is 0 counts 0), so that a region's strongest topic scores near 1 whatever its size;
- score(t) = sqrt(s_A(t) * s_B(t)), the geometric mean: high only where both are strong, 0
  where either has nothing. Shared topics are those with score > 0, highest first (ties by
  taxonomy order);
- complementarity(t) = s_A(t) - s_B(t); a topic is complementary when |s_A - s_B| >=
  COMPLEMENTARY (one strong where the other is weak), A's side when positive.
Bridging organisations: organisations of A or B ranked by how many initiatives they share
with organisations of the other region (then by id).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, Engine, text

from permedhub.atlas import data

COMPLEMENTARY = 0.5
BRIDGES = 20


@contextmanager
def connected(bind: Engine | Connection) -> Iterator[Connection]:
    """`bind` itself when it is a connection (a page's one connection for all it reads), else a
    connection of the engine for the call."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as connection:
            yield connection


class AtlasError(ValueError):
    """A request the analyses cannot answer (an unknown region, say), with what was expected."""


@dataclass
class Coverage:
    """Place x topic matrices (rows: countries or regions; columns: topic ids in taxonomy
    order): mapping records, participations in family initiatives, funder participations."""

    by: str
    records: pd.DataFrame
    participations: pd.DataFrame
    funders: pd.DataFrame
    topics: pd.DataFrame
    names: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "by": self.by,
            "topics": self.topics[["id", "name"]].to_dict("records"),
            "places": [{"id": p, "name": self.names.get(p, p)} for p in self.records.index],
            "records": _matrix(self.records),
            "participations": _matrix(self.participations),
            "funders": _matrix(self.funders),
        }


def _matrix(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    return {
        str(place): {str(k): int(v) for k, v in row.items()}
        for place, row in frame.to_dict("index").items()
    }


def _region_ids(connection: Connection) -> list[str]:
    return list(data.regions(connection)["id"])


def _check_region(connection: Connection, region: str) -> list[str]:
    """The member countries of `region`; an unknown id is an AtlasError naming the known."""
    known = _region_ids(connection)
    if region not in known:
        raise AtlasError(f"region {region!r}: expected one of {', '.join(known)}")
    return list(data.members(connection, region)["country_code"])


def _pivot(long: pd.DataFrame, value: str, rows: list[str], columns: list[str]) -> pd.DataFrame:
    if long.empty:
        matrix = pd.DataFrame(0, index=rows, columns=columns)
    else:
        matrix = long.pivot_table(
            index="place", columns="topic_id", values=value, aggfunc="sum", fill_value=0
        ).reindex(index=rows, columns=columns, fill_value=0)
    matrix = matrix.fillna(0).astype("int64")
    matrix.index.name, matrix.columns.name = "place", "topic"
    return matrix


def coverage(
    engine: Engine | Connection, *, by: str = "country", region: str | None = None
) -> Coverage:
    """Coverage matrices by country (all countries with anything, or every member country of
    `region`, zeros included) or by region (every region of the graph)."""
    if by not in ("country", "region"):
        raise AtlasError(f"by={by!r}: expected 'country' or 'region'")
    with connected(engine) as connection:
        return _coverage(connection, by, region)


def _coverage(connection: Connection, by: str, region: str | None) -> Coverage:
    topics = data.topics(connection)
    columns = list(topics["id"])
    records = data.record_cells(connection, by)
    members = _check_region(connection, region) if region is not None and by == "country" else None
    participations = data.participation_cells(connection, by, members)
    if by == "region":
        rows = _region_ids(connection)
        if region is not None:
            _check_region(connection, region)
            rows = [region]
        names = dict(zip(*data.regions(connection).to_dict("list").values(), strict=True))
    else:
        if region is not None:
            rows = _check_region(connection, region)
        else:
            rows = sorted(set(records["place"]) | set(participations["place"]))
        names = data.country_names(connection, rows)
    return Coverage(
        by=by,
        records=_pivot(records, "records", rows, columns),
        participations=_pivot(participations, "participations", rows, columns),
        funders=_pivot(participations, "funders", rows, columns),
        topics=topics,
        names=names,
    )


# ------------------------------------------------------------------------------ gaps


@dataclass
class Gaps:
    """Where a region is weak and absent.

    - `topics_without_capacity`: topics in which no record of the region (of its countries or
      naming the region) shows capacity (strength 0), with how many records name the topic
      with capacity `none`;
    - `to_invite`: member countries with capacity (a record whose capacity is not `none`) but
      no participation in the family's initiatives and no part in its calls;
    - `absent`: member countries with no mapping record, no participation and no call.
    """

    region: str
    topics_without_capacity: pd.DataFrame
    to_invite: pd.DataFrame
    absent: pd.DataFrame

    def as_dict(self) -> dict[str, object]:
        return {
            "region": self.region,
            "topics_without_capacity": self.topics_without_capacity.to_dict("records"),
            "to_invite": self.to_invite.to_dict("records"),
            "absent": self.absent.to_dict("records"),
        }


def gaps(engine: Engine | Connection, region: str) -> Gaps:
    with connected(engine) as connection:
        return _gaps(connection, region)


def _gaps(connection: Connection, region: str) -> Gaps:
    countries = _check_region(connection, region)
    topics = data.topics(connection)
    cells = data.record_cells(connection, "region", [region])
    mine = cells[cells["place"] == region].set_index("topic_id")
    strength = mine["strength"].reindex(topics["id"], fill_value=0)
    named = mine["records"].reindex(topics["id"], fill_value=0)
    weak = topics[(strength.to_numpy() == 0)][["id", "name"]].copy()
    weak["records_without_capacity"] = named.reindex(weak["id"]).to_numpy().astype(int)
    weak = weak.reset_index(drop=True)

    per_country = data.record_places(connection, "country").set_index("place")
    participations = data.participation_totals(connection)
    in_calls = data.call_countries(connection)
    names = data.country_names(connection, countries)
    rows = []
    for code in countries:
        records = int(per_country["records"].get(code, 0))
        capable = int(per_country["capable"].get(code, 0))
        rows.append(
            {
                "country_code": code,
                "name": names[code],
                "records": records,
                "capable_records": capable,
                "participations": participations.get(code, 0),
                "in_calls": code in in_calls,
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "country_code",
            "name",
            "records",
            "capable_records",
            "participations",
            "in_calls",
        ],
    )
    inactive = (table["participations"] == 0) & ~table["in_calls"]
    invite = table[inactive & (table["capable_records"] > 0)].reset_index(drop=True)
    absent = table[inactive & (table["records"] == 0)][["country_code", "name"]]
    return Gaps(region, weak, invite, absent.reset_index(drop=True))


# --------------------------------------------------------------------- mutual interest


@dataclass
class Mutual:
    """Mutual interest of two regions: per topic the shares s_a, s_b, the score and the
    complementarity (see the module's docstring), and the bridging organisations."""

    a: str
    b: str
    topics: pd.DataFrame  # topic_id, name, records_a, records_b, participations_a, ..., score
    shared: pd.DataFrame
    complementary: pd.DataFrame
    bridges: pd.DataFrame

    def as_dict(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "shared": self.shared.to_dict("records"),
            "complementary": self.complementary.to_dict("records"),
            "bridges": self.bridges.to_dict("records"),
        }


def _share(values: pd.Series) -> pd.Series:
    top = float(values.max()) if len(values) else 0.0
    return values.astype(float) / top if top > 0 else values.astype(float) * 0.0


def mutual(engine: Engine | Connection, a: str, b: str, *, limit: int = BRIDGES) -> Mutual:
    with connected(engine) as connection:
        return _mutual(connection, a, b, limit)


def _mutual(connection: Connection, a: str, b: str, limit: int) -> Mutual:
    countries = {a: _check_region(connection, a), b: _check_region(connection, b)}
    if a == b:
        raise AtlasError(f"regions {a!r} and {b!r}: expected two different regions")
    topics = data.topics(connection)
    records = data.record_cells(connection, "region", [a, b]).set_index(["place", "topic_id"])
    participations = data.participation_cells(connection, "region", [a, b]).set_index(
        ["place", "topic_id"]
    )
    frame = topics[["id", "name"]].rename(columns={"id": "topic_id"}).reset_index(drop=True)
    for side, region in (("a", a), ("b", b)):
        strength = [int(records["strength"].get((region, t), 0)) for t in frame["topic_id"]]
        taking_part = [
            int(participations["participations"].get((region, t), 0)) for t in frame["topic_id"]
        ]
        frame[f"strength_{side}"] = strength
        frame[f"participations_{side}"] = taking_part
        frame[f"share_{side}"] = (
            _share(frame[f"strength_{side}"]) + _share(frame[f"participations_{side}"])
        ) / 2
    frame["score"] = [
        math.sqrt(x * y) for x, y in zip(frame["share_a"], frame["share_b"], strict=True)
    ]
    frame["complementarity"] = frame["share_a"] - frame["share_b"]
    frame["order"] = range(len(frame))
    shared = (
        frame[frame["score"] > 0]
        .sort_values(["score", "order"], ascending=[False, True])
        .drop(columns="order")
        .reset_index(drop=True)
    )
    complementary = frame[frame["complementarity"].abs() >= COMPLEMENTARY].copy()
    complementary["stronger"] = [a if c > 0 else b for c in complementary["complementarity"]]
    complementary = (
        complementary.assign(gap=complementary["complementarity"].abs())
        .sort_values(["gap", "order"], ascending=[False, True])
        .drop(columns=["order", "gap"])
        .reset_index(drop=True)
    )
    return Mutual(
        a,
        b,
        frame.drop(columns="order"),
        shared,
        complementary,
        _bridges(connection, countries[a], countries[b], a, b, limit),
    )


def _bridges(
    connection: Connection, a: list[str], b: list[str], name_a: str, name_b: str, limit: int
) -> pd.DataFrame:
    """Organisations of A (B) ranked by the initiatives they share with organisations of B (A):
    the other side's initiatives come from the `initiative_activity` aggregate, then one
    grouped query per side keeps only the `limit` best."""
    columns = ["organisation_id", "name", "country_code", "region", "shared_initiatives"]
    listed = "(SELECT value FROM json_each(:{}))"
    if connection.dialect.name == "postgresql":
        listed = "(SELECT json_array_elements_text(CAST(:{} AS json)))"
    # SQLite would probe (organisation, initiative) for every pair of an organisation of the
    # region and a listed initiative; "+" keeps the list a filter, not an index lookup.
    initiative = "+p.initiative_id" if connection.dialect.name == "sqlite" else "p.initiative_id"
    initiatives_of = text(
        "SELECT DISTINCT initiative_id FROM initiative_activity WHERE scope IN "
        + listed.format("scopes")
    )
    ranked = text(
        "SELECT o.id AS organisation_id, o.name, o.country_code, "
        "COUNT(DISTINCT p.initiative_id) AS shared_initiatives "
        "FROM participation p JOIN organisation o ON o.id = p.organisation_id "
        f"WHERE {initiative} IN {listed.format('initiatives')} "
        f"AND o.country_code IN {listed.format('mine')} "
        "GROUP BY o.id, o.name, o.country_code "
        "ORDER BY shared_initiatives DESC, o.id LIMIT :limit"
    )
    frames = []
    for mine, other, side in ((a, b, name_a), (b, a, name_b)):
        shared = list(connection.execute(initiatives_of, {"scopes": _json(other)}).scalars())
        if not shared:
            continue
        found = pd.read_sql(
            ranked,
            connection,
            params={"initiatives": _json(shared), "mine": _json(mine), "limit": limit},
        )
        found["region"] = side
        frames.append(found)
    if not frames:
        return pd.DataFrame(columns=columns)
    both = pd.concat(frames, ignore_index=True)
    # An organisation in both regions (Europe and EU27) is listed once, with its best count.
    both = both.sort_values(["shared_initiatives", "organisation_id"], ascending=[False, True])
    both = both.drop_duplicates("organisation_id").head(limit)
    return both[columns].reset_index(drop=True)


def _json(values: list[str]) -> str:
    return json.dumps(sorted(values))
