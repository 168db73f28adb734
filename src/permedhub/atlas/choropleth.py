"""Mapping records per country on the world-atlas outlines the portal ships
(`web/static/vendor/countries-50m.json`, keyed by ISO numeric code).

`country_counts` gives what both maps shade: the portal's /atlas map (drawn in the browser by
map.js) and the region report's map, drawn here as an inline SVG so that the report needs no
script and no other file. The SVG follows map.js: the Natural Earth projection fitted to the
largest ring of each member country (so France brings no French Guiana), the same five blues
on a log scale of the largest count, a pale fill for members with nothing recorded.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from permedhub.graph.geography import numeric_code

OUTLINES = resources.files("permedhub") / "web" / "static" / "vendor" / "countries-50m.json"
COLOURS = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")  # map.js's SHADES
MEMBER = "#f4ecd3"  # a member with nothing recorded (map.js's MEMBER)
LAND = "#dde3ea"
SEA = "#eaf2f8"
WIDTH, HEIGHT, PAD = 960.0, 480.0, 24.0


def shade(value: int, most: int, steps: int = len(COLOURS)) -> int:
    """0 for none, else 1..steps on a log scale of the maximum (map.js's `shade`)."""
    if value <= 0 or most <= 0:
        return 0
    return max(1, min(steps, math.ceil(steps * math.log1p(value) / math.log1p(most))))


@dataclass(frozen=True)
class CountryCount:
    code: str
    name: str
    numeric: str | None
    count: int


def country_counts(
    matrix: pd.DataFrame, names: Mapping[str, str], topic: str | None = None
) -> list[CountryCount]:
    """The places of a coverage matrix (place x topic) with a count: the `topic` column, or the
    row's sum over all topics (a record counts once per topic it addresses)."""
    values = matrix[topic] if topic is not None else matrix.sum(axis=1)
    return [
        CountryCount(str(code), names.get(str(code), str(code)), numeric_code(str(code)), int(v))
        for code, v in values.items()
        if v
    ]


# ---------------------------------------------------------------- outlines


@cache
def _outlines() -> dict[str, list[list[np.ndarray]]]:
    """Numeric code -> polygons (each a list of rings of [longitude, latitude] in radians)."""
    topology = json.loads(OUTLINES.read_text(encoding="utf-8"))
    scale = np.asarray(topology["transform"]["scale"])
    translate = np.asarray(topology["transform"]["translate"])
    arcs = [np.cumsum(np.asarray(a, dtype=float), axis=0) * scale + translate
            for a in topology["arcs"]]  # fmt: skip

    def ring(indices: list[int]) -> np.ndarray:
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
        # Consecutive arcs share their end points: each after the first drops its first.
        return np.radians(np.concatenate([parts[0], *(p[1:] for p in parts[1:])]))

    shapes: dict[str, list[list[np.ndarray]]] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        if "id" not in geometry or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        shapes[str(geometry["id"])] = [
            [piece] for polygon in polygons for piece in _split(ring(polygon[0]))
        ] + [[ring(r)] for polygon in polygons for r in polygon[1:]]
    return shapes


def _split(ring: np.ndarray) -> list[np.ndarray]:
    """A ring that crosses the antimeridian (Russia's Chukotka, Fiji) as one ring on each side:
    drawn whole, its jump from +180 to -180 degrees would streak across the map. A ring around
    a pole crosses once and stays whole."""
    jumps = np.flatnonzero(np.abs(np.diff(ring[:, 0])) > math.pi) + 1
    if len(jumps) == 0 or len(jumps) % 2:
        return [ring]
    pieces = np.split(ring, jumps)
    # The first and last pieces are one stretch of the ring, cut where the ring starts.
    pieces = [np.concatenate([pieces[-1], pieces[0]]), *pieces[1:-1]]
    sides = [np.concatenate(pieces[side::2]) for side in (0, 1)]
    return [s for s in sides if len(s) >= 3]


def _natural_earth(points: np.ndarray) -> np.ndarray:
    """d3.geoNaturalEarth1 (unit scale), y growing downwards as in SVG."""
    lam, phi = points[:, 0], points[:, 1]
    phi2 = phi * phi
    phi4 = phi2 * phi2
    x = lam * (0.8707 - 0.131979 * phi2 + phi4 * (-0.013791 + phi4 * (0.003971 * phi2
               - 0.001529 * phi4)))  # fmt: skip
    y = phi * (1.007226 + phi2 * (0.015085 + phi4 * (-0.044475 + 0.028874 * phi2
               - 0.005916 * phi4)))  # fmt: skip
    return np.column_stack([x, -y])


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def _fit(focus: Iterable[list[list[np.ndarray]]]) -> tuple[float, np.ndarray]:
    """Scale and offset that fit the focus shapes' largest rings into the drawing, centred."""
    mainlands = [max((_natural_earth(p[0]) for p in shape), key=_area) for shape in focus]
    if not mainlands:
        mainlands = [_natural_earth(np.radians(np.array([[-180.0, -60], [180, 85]])))]
    points = np.concatenate(mainlands)
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-9)
    scale = float(min((WIDTH - 2 * PAD) / span[0], (HEIGHT - 2 * PAD) / span[1]))
    offset = np.array([WIDTH, HEIGHT]) / 2 - scale * (low + high) / 2
    return scale, offset


def _path(polygons: list[list[np.ndarray]], scale: float, offset: np.ndarray) -> str:
    """SVG path data of the rings that reach into the drawing, to a tenth of a unit."""
    parts = []
    for polygon in polygons:
        for ring in polygon:
            xy = np.round(_natural_earth(ring) * scale + offset, 1)
            low, high = xy.min(axis=0), xy.max(axis=0)
            if high[0] < 0 or high[1] < 0 or low[0] > WIDTH or low[1] > HEIGHT:
                continue
            keep = np.r_[True, np.any(np.diff(xy, axis=0) != 0, axis=1)]
            xy = xy[keep]
            if len(xy) < 3:
                continue
            coords = " ".join(f"{x:g},{y:g}" for x, y in xy)
            parts.append(f"M{coords}Z")
    return "".join(parts)


def svg_map(counts: list[CountryCount], members: Iterable[str], *, measure: str, title: str) -> str:
    """An inline SVG choropleth of `counts` (with a legend), fitted to the `members` (alpha-2
    codes); each country with a count is a <path> with data-code and a <title>."""
    shapes = _outlines()
    by_numeric = {c.numeric: c for c in counts if c.numeric}
    member_numeric = {n for n in (numeric_code(m) for m in members) if n}
    scale, offset = _fit(shapes[n] for n in sorted(member_numeric) if n in shapes)
    most = max((c.count for c in counts), default=0)
    paths = []
    for numeric, polygons in shapes.items():
        d = _path(polygons, scale, offset)
        if not d:
            continue
        found = by_numeric.get(numeric)
        if found is not None:
            colour = COLOURS[shade(found.count, most) - 1]
            label = html.escape(f"{found.name}: {found.count} ({measure})")
            paths.append(f'<path d="{d}" fill="{colour}" stroke="#5b6472" stroke-width="0.5" '
                         f'class="has-data" data-code="{html.escape(found.code)}">'
                         f"<title>{label}</title></path>")  # fmt: skip
        else:
            fill = MEMBER if numeric in member_numeric else LAND
            paths.append(f'<path d="{d}" fill="{fill}" stroke="#ffffff" stroke-width="0.4"/>')
    return (
        f'<figure class="map"><svg viewBox="0 0 {WIDTH:g} {HEIGHT:g}" role="img" '
        f'aria-label="{html.escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="{WIDTH:g}" height="{HEIGHT:g}" fill="{SEA}"/>'
        f'<g fill-rule="evenodd">{"".join(paths)}</g></svg>'
        f"<figcaption>{html.escape(title)}{_legend(most, measure)}</figcaption></figure>"
    )


def _legend(most: int, measure: str) -> str:
    ranges: dict[int, list[int]] = {}
    for value in range(1, most + 1):
        ranges.setdefault(shade(value, most), [value, value])[1] = value
    items = [(COLOURS[step - 1], f"{a}" if a == b else f"{a}–{b}") for step, (a, b) in
             sorted(ranges.items())]  # fmt: skip
    items.append((MEMBER, "member, nothing recorded"))
    swatch = ('<svg width="14" height="14" aria-hidden="true">'
              '<rect width="14" height="14" fill="{}"/></svg>')  # fmt: skip
    shown = [f"<li>{swatch.format(c)} {html.escape(t)}</li>" for c, t in items]
    return f"<ul class='legend'><li>{html.escape(measure)}:</li>{''.join(shown)}</ul>"
