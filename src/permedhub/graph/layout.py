"""Where things go on the portal's home page: network node positions and timeline bars.

Positions are computed here, on the server and with a seed, so that the browser only draws: a
live physics layout stalls past a few thousand nodes, and the same graph must look the same on
every visit (and in every test).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.graph.geography import subdivision_points
from permedhub.graph.models import Country, Organisation, PlaceTotal
from permedhub.graph.views import Network, Timeline, TimelineItem

LAYOUT_SIZE = 1000.0
# Up to this many nodes every pair repels; past it each node is repelled by a seeded sample of
# REPULSION_SAMPLE nodes per step (scaled up), so a step costs O(n * sample), not O(n^2).
FULL_STEPS_UP_TO = 400
REPULSION_SAMPLE = 150
GRAVITY = 8.0


class LayoutError(ValueError):
    """A layout parameter out of range."""


def network_layout(
    network: Network, *, seed: int = 0, steps: int | None = None, aspect: float = 1.6
) -> dict[str, tuple[float, float]]:
    """Node id -> (x, y) by a seeded Fruchterman-Reingold force layout.

    y spans [0, LAYOUT_SIZE] and x [0, aspect * LAYOUT_SIZE], to fill a wide screen.

    Edges attract (d^2/k), every pair repels (k^2/d); the step length cools linearly. Heavier
    edges (aggregated participations) pull harder, but only logarithmically. Large graphs are
    repelled by a seeded sample of nodes per step, which keeps thousands of nodes under a second.
    """
    if seed < 0:
        raise LayoutError(f"seed={seed!r}: expected a whole number >= 0")
    if not 0.2 <= aspect <= 5:
        raise LayoutError(f"aspect={aspect!r}: expected a width/height ratio from 0.2 to 5")
    n = len(network.nodes)
    if n == 0:
        return {}
    ids = [node.id for node in network.nodes]
    if n == 1:
        return {ids[0]: (aspect * LAYOUT_SIZE / 2, LAYOUT_SIZE / 2)}
    if steps is None:
        steps = 100 if n <= FULL_STEPS_UP_TO else 60
    if steps < 1:
        raise LayoutError(f"steps={steps!r}: expected a whole number >= 1")
    index = {node_id: i for i, node_id in enumerate(ids)}
    pairs = [
        (index[e.source], index[e.target], 1.0 + np.log(max(e.weight, 1)))
        for e in network.edges
        if e.source in index and e.target in index and e.source != e.target
    ]
    sampled = n > FULL_STEPS_UP_TO
    rng = np.random.default_rng(seed)
    position = rng.uniform(0.0, 1.0, size=(n, 2))
    k = np.sqrt(1.0 / n)  # ideal edge length in the unit square
    temperature = 0.1
    cooling = temperature / (steps + 1)
    if pairs:
        src = np.array([p[0] for p in pairs])
        dst = np.array([p[1] for p in pairs])
        strength = np.array([p[2] for p in pairs])
    for _ in range(steps):
        others = rng.choice(n, REPULSION_SAMPLE, replace=False) if sampled else slice(None)
        scale = n / REPULSION_SAMPLE if sampled else 1.0
        delta = position[:, None, :] - position[None, others, :]
        distance = np.maximum(np.sqrt((delta**2).sum(axis=2)), 1e-3)
        displacement = np.einsum("ijk,ij->ik", delta, (scale * k * k) / distance**2)
        if pairs:
            edge_delta = position[src] - position[dst]
            edge_distance = np.maximum(np.linalg.norm(edge_delta, axis=1), 1e-3)
            pull = edge_delta * (strength * edge_distance / k)[:, None]
            for axis in (0, 1):  # bincount sums repeated indices, much faster than np.add.at
                displacement[:, axis] += np.bincount(dst, pull[:, axis], n) - np.bincount(
                    src, pull[:, axis], n
                )
        # Gravity keeps unconnected parts near the middle instead of at the frame's edge.
        displacement -= (position - 0.5) * (GRAVITY * k)
        length = np.maximum(np.linalg.norm(displacement, axis=1), 1e-9)
        position += displacement / length[:, None] * np.minimum(length, temperature)[:, None]
        temperature -= cooling
    low, high = position.min(axis=0), position.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    scaled = ((position - low) / span * 0.9 + 0.05) * LAYOUT_SIZE * np.array([aspect, 1.0])
    return {
        node_id: (round(float(x), 2), round(float(y), 2))
        for node_id, (x, y) in zip(ids, scaled, strict=True)
    }


@dataclass(frozen=True)
class TimelineBar:
    """One initiative as a bar: x and width in percent of the axis."""

    item: TimelineItem
    x: float
    width: float
    open_end: bool  # no end date known: the bar runs to the axis end, drawn fading
    uncertain: bool  # start or end marked uncertain in the source, or known only to the year


@dataclass(frozen=True)
class TimelineAxis:
    bars: list[TimelineBar]
    ticks: list[tuple[int, float]]  # (year, x percent)
    today_x: float
    first_year: int
    last_year: int


def timeline_axis(timeline: Timeline) -> TimelineAxis:
    """Start-end bars on a shared year axis that spans every known date and today."""
    today = dt.date.fromisoformat(timeline.today)
    dates = [
        dt.date.fromisoformat(d) for i in timeline.items for d in (i.start, i.end) if d is not None
    ]
    first_year = min([d.year for d in dates] + [today.year])
    last_year = max([d.year for d in dates] + [today.year]) + 1
    axis_start = dt.date(first_year, 1, 1)
    axis_days = (dt.date(last_year + 1, 1, 1) - axis_start).days

    def percent(day: dt.date) -> float:
        return round(100.0 * (day - axis_start).days / axis_days, 3)

    bars = []
    for item in timeline.items:
        if item.start is None:
            continue
        start = dt.date.fromisoformat(item.start)
        end = dt.date.fromisoformat(item.end) if item.end else dt.date(last_year + 1, 1, 1)
        x = percent(start)
        bars.append(
            TimelineBar(
                item=item,
                x=x,
                width=max(percent(end) - x, 0.4),
                open_end=item.end is None,
                uncertain=bool(item.uncertain)
                or item.start_precision == "year"
                or item.end_precision == "year",
            )
        )
    ticks = [(year, percent(dt.date(year, 1, 1))) for year in range(first_year, last_year + 1)]
    return TimelineAxis(
        bars=bars,
        ticks=ticks,
        today_x=percent(today),
        first_year=first_year,
        last_year=last_year,
    )


@dataclass(frozen=True)
class SubnationalOrganisation:
    id: str
    name: str
    kind: str | None
    subdivision_code: str
    subdivision_name: str
    country_code: str | None


def subnational_organisations(
    session: Session, *, limit: int | None = 200, offset: int = 0
) -> list[SubnationalOrganisation]:
    """Organisations of a region or province (ISO 3166-2), e.g. regional funders, by place
    (`limit` of them from `offset`; None: all)."""
    rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.kind,
            Organisation.subdivision_code,
            Country.name,
            Organisation.country_code,
        )
        .join(Country, Country.code == Organisation.subdivision_code)
        .order_by(Organisation.subdivision_code, Organisation.name, Organisation.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        SubnationalOrganisation(org_id, name, kind, str(sub_code), sub_name, country)
        for org_id, name, kind, sub_code, sub_name, country in rows
    ]


def count_subnational_organisations(session: Session) -> int:
    """How many organisations `subnational_organisations(limit=None)` lists."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Organisation)
            .join(Country, Country.code == Organisation.subdivision_code)
        ).scalar_one()
    )


@dataclass(frozen=True)
class SubnationalPlace:
    """A region or province whose own organisations take part, and where to mark it."""

    code: str
    name: str
    country_code: str
    participations: int
    initiatives: int
    latitude: float
    longitude: float


def subnational_places(session: Session) -> list[SubnationalPlace]:
    """ISO 3166-2 subdivisions with participations, with a point inside each for the map
    (from `geography.subdivision_points`; a subdivision without one is left off the map but
    stays in the country table and the list of sub-national organisations)."""
    points = subdivision_points()
    rows = session.execute(
        select(
            Country.code,
            Country.name,
            Country.parent_code,
            PlaceTotal.participations,
            PlaceTotal.initiatives,
        )
        .join(PlaceTotal, PlaceTotal.place_code == Country.code)
        .where(Country.parent_code.is_not(None), PlaceTotal.participations > 0)
        .order_by(PlaceTotal.participations.desc(), Country.code)
    ).all()
    return [
        SubnationalPlace(code, name, str(parent), participations, initiatives, *points[code])
        for code, name, parent, participations, initiatives in rows
        if code in points
    ]
