"""Where things go on the portal's home page: network node positions and timeline bars.

Positions are computed here, on the server and with a seed, so that the browser only draws: a
live physics layout stalls past a few thousand nodes, and the same graph must look the same on
every visit (and in every test).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
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
# Nodes further out than REACH times the distance MOST percent of nodes are within (from the
# middle) are drawn in to it, keeping their bearing (`_drawn_in`).
MOST, REACH = 90.0, 1.5
# Drawn sizes (diameters, in layout units: the browser draws at these in model coordinates).
INITIATIVE_SIZE = 36.0
ORGANISATION_SIZE = 16.0
SIZED_MIN, SIZED_RANGE = 14.0, 46.0  # countries and aggregates: 14 to 60 by weight
SQUARE = ("country", "aggregate")  # drawn as (round) squares: their circle is the diagonal's
BORDER = 1.0  # the drawn outline, outside the size
NODE_GAP = 2.0  # kept clear between two nodes' circles
# The frame grows (in proportion) past the size at which the nodes' circles would cover more
# than this share of it: a dense network could not be spread without overlaps otherwise.
ROOMY = 0.25
SEPARATION_PASSES = 30  # pushes apart per round; a round that leaves overlaps grows the frame
GROWTH = 1.05


class LayoutError(ValueError):
    """A layout parameter out of range."""


def node_sizes(network: Network) -> dict[str, float]:
    """Node id -> the diameter the browser draws it at, in layout units.

    Countries and aggregates are sized by area relative to the heaviest of them (their weights
    run from one organisation to a million participations); initiatives and organisations have
    one size each."""
    heaviest = max([n.weight or 1 for n in network.nodes if n.type in SQUARE] + [1])
    return {
        n.id: round(SIZED_MIN + SIZED_RANGE * float(np.sqrt((n.weight or 1) / heaviest)), 2)
        if n.type in SQUARE
        else INITIATIVE_SIZE
        if n.type == "initiative"
        else ORGANISATION_SIZE
        for n in network.nodes
    }


def node_radii(network: Network) -> dict[str, float]:
    """Node id -> the radius of the circle around what is drawn of it, outline included (a
    square's circle passes through its corners)."""
    sizes = node_sizes(network)
    return {
        n.id: sizes[n.id] / 2 * (float(np.sqrt(2.0)) if n.type in SQUARE else 1.0) + BORDER
        for n in network.nodes
    }


def network_layout(
    network: Network, *, seed: int = 0, steps: int | None = None, aspect: float = 1.6
) -> dict[str, tuple[float, float]]:
    """Node id -> (x, y) by a seeded Fruchterman-Reingold force layout, then pushed apart until
    no two nodes' circles (`node_radii`, in the same units) overlap.

    y spans [0, LAYOUT_SIZE] and x [0, aspect * LAYOUT_SIZE], to fill a wide screen; a network
    whose nodes would crowd that frame (see ROOMY) gets a larger one, in proportion (the
    browser fits its view to the drawing, and draws the nodes at `node_sizes`).

    Edges attract (d^2/k), every pair repels (k^2/d); the step length cools linearly. Heavier
    edges (aggregated participations) pull harder, but only logarithmically. Large graphs are
    repelled by a seeded sample of nodes per step, which keeps thousands of nodes under a
    second.
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
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.0, 1.0, size=(n, 2))
    x, y = start[:, 0].copy(), start[:, 1].copy()
    if n <= FULL_STEPS_UP_TO:
        _full_steps(x, y, pairs, steps)
    else:
        _sampled_steps(x, y, pairs, steps, rng)
    radius = node_radii(network)
    radii = np.array([radius[i] for i in ids])
    frame = np.array([aspect * LAYOUT_SIZE, LAYOUT_SIZE])
    covered = float((np.pi * (radii + NODE_GAP / 2) ** 2).sum()) / float(frame.prod())
    frame *= max(1.0, float(np.sqrt(covered / ROOMY)))
    position = _drawn_in(np.column_stack([x, y]))
    low, high = position.min(axis=0), position.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    scaled = ((position - low) / span * 0.9 + 0.05) * frame
    separated = _separated(scaled, radii, frame, rng)
    return {
        node_id: (round(float(px), 2), round(float(py), 2))
        for node_id, (px, py) in zip(ids, separated, strict=True)
    }


def _drawn_in(position: np.ndarray) -> np.ndarray:
    """`position` with the nodes far out from the middle (a component of its own, repelled by
    all the others) moved in along their bearing to REACH times the distance most nodes are
    at: the drawing is scaled to the frame by its extent, and a few far-out nodes would
    otherwise squeeze the rest into a corner of it, too tightly for their sizes."""
    middle = np.median(position, axis=0)
    offset = position - middle
    distance = np.sqrt((offset**2).sum(axis=1))
    most = float(np.percentile(distance, MOST))
    if most <= 0:
        return position
    limit = REACH * most
    far = distance > limit
    offset[far] *= (limit / distance[far])[:, None]
    return middle + offset


def _full_steps(
    x: np.ndarray, y: np.ndarray, pairs: list[tuple[int, int, float]], steps: int
) -> None:
    """Every pair repels, every edge attracts: one n x n matrix of pair factors per step (the
    edges as a matrix of strengths, summed over repeated edges), along x and y apart."""
    n = len(x)
    k = np.sqrt(1.0 / n)  # ideal edge length in the unit square
    strength = np.zeros((n, n))
    if pairs:
        src, dst, weight = (np.array(column) for column in zip(*pairs, strict=True))
        np.add.at(strength, (src, dst), weight)
        strength += strength.T
    strength /= k
    temperature = 0.1
    cooling = temperature / (steps + 1)
    for _ in range(steps):
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        d2 = np.maximum(dx * dx + dy * dy, 1e-6)
        # Along (dx, dy): repulsion k^2/d and attraction -strength * d^2/k, each over d.
        factor = (k * k) / d2 - strength * np.sqrt(d2)
        _move(x, y, (dx * factor).sum(axis=1), (dy * factor).sum(axis=1), k, temperature)
        temperature -= cooling


def _sampled_steps(
    x: np.ndarray,
    y: np.ndarray,
    pairs: list[tuple[int, int, float]],
    steps: int,
    rng: np.random.Generator,
) -> None:
    """Each node repelled by a seeded sample of nodes (scaled up), edges attracting one by one."""
    n = len(x)
    k = np.sqrt(1.0 / n)
    scale = n / REPULSION_SAMPLE
    if pairs:
        src, dst, strength = (np.array(column) for column in zip(*pairs, strict=True))
    temperature = 0.1
    cooling = temperature / (steps + 1)
    for _ in range(steps):
        others = rng.choice(n, REPULSION_SAMPLE, replace=False)
        dx = x[:, None] - x[None, others]
        dy = y[:, None] - y[None, others]
        factor = (scale * k * k) / np.maximum(dx * dx + dy * dy, 1e-6)
        move_x, move_y = (dx * factor).sum(axis=1), (dy * factor).sum(axis=1)
        if pairs:
            ex, ey = x[src] - x[dst], y[src] - y[dst]
            pull = strength * np.maximum(np.sqrt(ex * ex + ey * ey), 1e-3) / k
            # bincount sums repeated indices, much faster than np.add.at
            move_x += np.bincount(dst, ex * pull, n) - np.bincount(src, ex * pull, n)
            move_y += np.bincount(dst, ey * pull, n) - np.bincount(src, ey * pull, n)
        _move(x, y, move_x, move_y, k, temperature)
        temperature -= cooling


def _move(
    x: np.ndarray,
    y: np.ndarray,
    move_x: np.ndarray,
    move_y: np.ndarray,
    k: float,
    temperature: float,
) -> None:
    """One step: gravity added, each node moved by at most `temperature`."""
    # Gravity keeps unconnected parts near the middle instead of at the frame's edge.
    move_x -= (x - 0.5) * (GRAVITY * k)
    move_y -= (y - 0.5) * (GRAVITY * k)
    length = np.maximum(np.sqrt(move_x * move_x + move_y * move_y), 1e-9)
    step = np.minimum(length, temperature) / length
    x += move_x * step
    y += move_y * step


def _separated(
    position: np.ndarray, radii: np.ndarray, frame: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """`position` (n x 2, inside `frame`) moved until no two circles of `radii` overlap
    (NODE_GAP apart), each inside the frame: every overlapping pair is pushed apart along the
    line between them, the smaller node further. A round of passes that leaves overlaps (nodes
    packed against the frame's edge) spreads everything by GROWTH and goes again, so it ends:
    distances grow each round and radii do not."""
    position = position.copy()
    frame = frame.copy()
    reach = 2 * float(radii.max()) + NODE_GAP
    n = len(position)
    while True:
        low, high = radii[:, None], frame[None, :] - radii[:, None]
        for _ in range(SEPARATION_PASSES):
            pairs = cKDTree(position).query_pairs(reach, output_type="ndarray")
            if not len(pairs):
                return position
            i, j = pairs[:, 0], pairs[:, 1]
            delta = position[i] - position[j]
            distance = np.sqrt((delta**2).sum(axis=1))
            overlap = radii[i] + radii[j] + NODE_GAP - distance
            hit = overlap > 0
            if not hit.any():
                return position
            i, j, delta, distance = i[hit], j[hit], delta[hit], distance[hit]
            same = distance < 1e-6
            if same.any():  # one on top of the other: apart in a seeded direction
                angle = rng.uniform(0.0, 2 * np.pi, int(same.sum()))
                delta[same] = np.column_stack([np.cos(angle), np.sin(angle)])
                distance[same] = 1.0
            # A little past touching, so that a pair does not stay a hair's breadth apart.
            push = delta / distance[:, None] * (overlap[hit] * 0.55 + 0.01)[:, None]
            share = radii[j] / (radii[i] + radii[j]) * 2  # the smaller one moves more
            for axis in (0, 1):
                position[:, axis] += np.bincount(i, push[:, axis] * share, n)
                position[:, axis] -= np.bincount(j, push[:, axis] * (2 - share), n)
            np.clip(position, low, high, out=position)
        position *= GROWTH
        frame *= GROWTH


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


_HAS_SUBDIVISION = Organisation.subdivision_code.is_not(None)
"""Implied by the join, but stated so that SQLite searches ix_organisation_subdivision_name
for the few organisations with a subdivision instead of scanning every organisation."""


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
        .where(_HAS_SUBDIVISION)
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
            .where(_HAS_SUBDIVISION)
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
