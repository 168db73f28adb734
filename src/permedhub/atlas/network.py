"""Network analysis of the family with networkx: centrality of organisations and countries,
the links between regions, and growth year by year.

- Organisations: the bipartite graph organisation - initiative (an edge per participation).
  `initiatives` is an organisation's degree; `betweenness` its betweenness centrality in that
  graph, exact up to EXACT_NODES nodes and estimated from `samples` seeded source nodes above
  (networkx's k-sample estimate), so that the same seed gives the same figures.
- Countries: the graph country - country whose edge weight is the number of initiatives both
  take part in (from the `country_activity` aggregate); `partners` is a country's degree,
  `shared` the sum of its edge weights and `betweenness` its betweenness with edge length
  1 / weight (countries that share many initiatives are close).
- Regions: for each pair of the given regions, the initiatives with participants from both and
  the country pair across them that shares the most.
- Growth: per year, initiatives starting, participations starting (a participation's own start,
  else its initiative's) and organisations taking part for the first time, with running totals.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, text

from permedhub.atlas import data

EXACT_NODES = 5_000
CONTINENTS = ("europe", "africa", "asia", "americas", "oceania")


@dataclass
class Network:
    organisations: pd.DataFrame
    countries: pd.DataFrame
    regions: pd.DataFrame
    growth: pd.DataFrame

    def as_dict(self) -> dict[str, object]:
        return {
            "organisations": self.organisations.to_dict("records"),
            "countries": self.countries.to_dict("records"),
            "regions": self.regions.to_dict("records"),
            "growth": self.growth.to_dict("records"),
        }


def network(
    engine: Engine,
    *,
    regions: tuple[str, ...] = CONTINENTS,
    top: int = 50,
    samples: int = 50,
    seed: int = 1,
    organisations: bool = True,
) -> Network:
    """The family's network figures; `top` organisations by betweenness (all when 0)."""
    with engine.connect() as connection:
        return Network(
            organisations=(
                organisation_centrality(connection, top=top, samples=samples, seed=seed)
                if organisations
                else pd.DataFrame(
                    columns=[
                        "organisation_id",
                        "name",
                        "country_code",
                        "initiatives",
                        "betweenness",
                    ]
                )
            ),
            countries=country_centrality(connection),
            regions=region_links(connection, regions),
            growth=growth(connection),
        )


def organisation_centrality(
    connection: Connection, *, top: int = 50, samples: int = 50, seed: int = 1
) -> pd.DataFrame:
    pairs = connection.execute(
        text("SELECT DISTINCT organisation_id, initiative_id FROM participation")
    ).all()
    graph = nx.Graph()
    graph.add_edges_from((("o", o), ("i", i)) for o, i in pairs)
    if graph.number_of_nodes() == 0:
        return pd.DataFrame(
            columns=["organisation_id", "name", "country_code", "initiatives", "betweenness"]
        )
    k = None if graph.number_of_nodes() <= EXACT_NODES else min(samples, graph.number_of_nodes())
    betweenness = nx.betweenness_centrality(graph, k=k, seed=seed)
    info = {
        row.id: (row.name, row.country_code)
        for row in connection.execute(text("SELECT id, name, country_code FROM organisation"))
    }
    rows = [
        {
            "organisation_id": node[1],
            "name": info.get(node[1], ("", None))[0],
            "country_code": info.get(node[1], ("", None))[1],
            "initiatives": graph.degree(node),
            "betweenness": round(betweenness[node], 6),
        }
        for node in graph.nodes
        if node[0] == "o"
    ]
    frame = pd.DataFrame(rows).sort_values(
        ["betweenness", "initiatives", "organisation_id"], ascending=[False, False, True]
    )
    return (frame.head(top) if top else frame).reset_index(drop=True)


def _country_initiatives(connection: Connection) -> dict[str, set[str]]:
    activity = data.country_participations(connection)
    by_country: dict[str, set[str]] = defaultdict(set)
    for code, initiative in zip(activity["country_code"], activity["initiative_id"], strict=True):
        by_country[code].add(initiative)
    return by_country


def country_graph(connection: Connection) -> nx.Graph:
    """Countries linked by the number of initiatives both take part in: the product of the
    country x initiative incidence matrix with its transpose (one matrix product instead of a
    loop over every pair of partners of every initiative)."""
    activity = data.country_participations(connection)
    graph = nx.Graph()
    if activity.empty:
        return graph
    countries = pd.Index(sorted(activity["country_code"].unique()))
    initiatives = pd.Index(sorted(activity["initiative_id"].unique()))
    incidence = np.zeros((len(countries), len(initiatives)), dtype=np.int32)
    incidence[
        countries.get_indexer(activity["country_code"]),
        initiatives.get_indexer(activity["initiative_id"]),
    ] = 1
    shared = incidence @ incidence.T
    graph.add_nodes_from(countries)
    rows, columns = np.nonzero(np.triu(shared, k=1))
    for x, y in zip(rows.tolist(), columns.tolist(), strict=True):
        weight = int(shared[x, y])
        graph.add_edge(countries[x], countries[y], weight=weight, length=1 / weight)
    return graph


def country_centrality(connection: Connection) -> pd.DataFrame:
    graph = country_graph(connection)
    columns = ["country_code", "name", "partners", "shared", "betweenness"]
    if graph.number_of_nodes() == 0:
        return pd.DataFrame(columns=columns)
    betweenness = nx.betweenness_centrality(graph, weight="length")
    names = data.country_names(connection, graph.nodes)
    frame = pd.DataFrame(
        [
            {
                "country_code": code,
                "name": names[code],
                "partners": graph.degree(code),
                "shared": int(graph.degree(code, weight="weight")),
                "betweenness": round(betweenness[code], 6),
            }
            for code in graph.nodes
        ],
        columns=columns,
    )
    return frame.sort_values(
        ["betweenness", "shared", "country_code"], ascending=[False, False, True]
    ).reset_index(drop=True)


def region_links(connection: Connection, regions: tuple[str, ...]) -> pd.DataFrame:
    by_country = _country_initiatives(connection)
    members = data.members(connection)
    countries = {
        region: sorted(set(members[members["region_id"] == region]["country_code"]))
        for region in regions
    }
    rows = []
    for a, b in itertools.combinations(regions, 2):
        in_a = set().union(*(by_country.get(c, set()) for c in countries[a]))
        in_b = set().union(*(by_country.get(c, set()) for c in countries[b]))
        # The pair sharing most; ties go to the first pair in code order.
        best = min(
            (
                (-len(by_country.get(x, set()) & by_country.get(y, set())), x, y)
                for x in countries[a]
                for y in countries[b]
                if x != y and x in by_country and y in by_country
            ),
            default=(0, None, None),
        )
        rows.append(
            {
                "region_a": a,
                "region_b": b,
                "initiatives": len(in_a & in_b),
                "strongest_a": best[1] if best[0] else None,
                "strongest_b": best[2] if best[0] else None,
                "strongest_shared": -best[0],
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "region_a",
            "region_b",
            "initiatives",
            "strongest_a",
            "strongest_b",
            "strongest_shared",
        ],
    )


def _year(connection: Connection, column: str) -> str:
    if connection.dialect.name == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"
    return f"CAST(substr({column}, 1, 4) AS INTEGER)"


def _counts(connection: Connection, sql: str) -> dict[int, int]:
    return {int(y): int(n) for y, n in connection.execute(text(sql)) if y is not None}


def growth(connection: Connection) -> pd.DataFrame:
    """Per year: initiatives, participations and first-time organisations, and running totals
    (counted in SQL: a million participations never reach Python)."""
    start = "COALESCE(p.start_date, i.start_date)"
    year = _year(connection, start)
    initiatives = _counts(
        connection,
        f"SELECT {_year(connection, 'start_date')} AS y, COUNT(*) FROM initiative "
        "WHERE start_date IS NOT NULL GROUP BY y",
    )
    joined = "FROM participation p JOIN initiative i ON i.id = p.initiative_id"
    participations = _counts(
        connection, f"SELECT {year} AS y, COUNT(*) {joined} WHERE {start} IS NOT NULL GROUP BY y"
    )
    newcomers = _counts(
        connection,
        f"SELECT first, COUNT(*) FROM (SELECT p.organisation_id, MIN({year}) AS first "
        f"{joined} WHERE {start} IS NOT NULL GROUP BY p.organisation_id) firsts GROUP BY first",
    )
    years = sorted(set(initiatives) | set(participations))
    frame = pd.DataFrame({"year": years}, dtype="int64")
    for name, counts in (
        ("initiatives", initiatives),
        ("participations", participations),
        ("new_organisations", newcomers),
    ):
        frame[name] = [int(counts.get(y, 0)) for y in years]
        frame[f"{name}_total"] = frame[name].cumsum()
    return frame.astype("int64")
