"""The region report's map: an inline SVG choropleth on the shipped outlines, fitted to the
region, one shaded <path> per country with mapping records, nothing loaded from elsewhere."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from permedhub.atlas.choropleth import COLOURS, MEMBER, country_counts, shade, svg_map
from permedhub.atlas.report import region_report

PATH = re.compile(r'<path d="([^"]+)" fill="([^"]+)"[^>]*data-code="([A-Z]{2})"><title>([^<]+)<')


def shaded(svg: str) -> dict[str, tuple[str, str, str]]:
    """data-code -> (path data, fill, title) of every country drawn with a count."""
    return {code: (d, fill, title) for d, fill, code, title in PATH.findall(svg)}


def points(path_data: str) -> np.ndarray:
    pairs = re.findall(r"(-?[\d.]+),(-?[\d.]+)", path_data)
    return np.array([[float(x), float(y)] for x, y in pairs])


def test_shades_follow_map_js_log_scale() -> None:
    # ceil(5 * ln(1 + v) / ln(1 + 3)): v=1 -> ceil(2.5) = 3, v=2 -> ceil(3.96) = 4, v=3 -> 5
    assert [shade(v, 3) for v in (0, 1, 2, 3)] == [0, 3, 4, 5]
    assert shade(1, 0) == 0 and shade(7, 7) == 5


def test_counts_are_a_topic_column_or_the_sum_over_topics() -> None:
    matrix = pd.DataFrame({"t1": [1, 0, 0], "t2": [2, 1, 0]}, index=["FR", "DE", "IT"])
    names = {"FR": "France", "DE": "Germany"}
    assert [(c.code, c.count, c.numeric) for c in country_counts(matrix, names)] == [
        ("FR", 3, "250"), ("DE", 1, "276")]  # fmt: skip
    assert [(c.name, c.count) for c in country_counts(matrix, names, "t1")] == [("France", 1)]


def test_the_map_is_fitted_to_the_members_and_shades_each_count() -> None:
    matrix = pd.DataFrame({"t1": [3, 1]}, index=["ZA", "KE"])
    svg = svg_map(country_counts(matrix, {"ZA": "South Africa", "KE": "Kenya"}),
                  ["ZA", "KE", "NG"], measure="records", title="Africa")  # fmt: skip
    drawn = shaded(svg)
    assert set(drawn) == {"ZA", "KE"}
    assert drawn["ZA"][1] == COLOURS[4] and drawn["KE"][1] == COLOURS[2]  # 3 of 3, 1 of 3
    assert drawn["ZA"][2] == "South Africa: 3 (records)"
    # South Africa's mainland lies inside the drawing (960 x 480, 24 of padding); Nigeria, a
    # member without records, is drawn in the members' colour.
    za = points(drawn["ZA"][0])
    assert za[:, 0].min() >= 0 and za[:, 0].max() <= 960
    assert za[:, 1].min() >= 0 and za[:, 1].max() <= 480
    assert f'fill="{MEMBER}"' in svg


def test_the_region_report_carries_the_map_without_outside_scripts(world) -> None:
    page = region_report(world, "africa").html
    drawn = shaded(page)
    # r3 (NG, topic t3) and r5 (ZA, topic t1); r4 names only the region: no country's.
    assert set(drawn) == {"NG", "ZA"}
    assert drawn["NG"][2] == "Nigeria: 1 (mapping records × topics)"
    assert page.count('<figure class="map">') == 1
    assert not re.search(r"<script[^>]*\ssrc=", page) and "<link" not in page
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//[^"' >]*\.(?:js|css)""", page)
