"""Plotly figures carry the analysis data in their traces (no pixels compared)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from permedhub.hecon.cea import (
    AnalysisInputError,
    calculate_icers,
    ce_plane,
    ceac,
    ceaf,
    expected_loss,
    psa_sample,
)
from permedhub.hecon.plots import (
    ce_plane_figure,
    ceac_figure,
    ceaf_figure,
    evpi_figure,
    evppi_bar_figure,
    expected_loss_figure,
    icers_figure,
    tornado_figure,
)
from permedhub.hecon.voi import evpi


@pytest.fixture(scope="module")
def psa() -> object:
    rng = np.random.default_rng(4)
    costs = np.column_stack([rng.normal(1000, 50, 200), rng.normal(3000, 100, 200)])
    effects = np.column_stack([rng.normal(1.0, 0.05, 200), rng.normal(1.1, 0.05, 200)])
    return psa_sample(costs, effects, ["soc", "new"])


def test_ce_plane_has_the_draws_and_the_wtp_line(psa: object) -> None:
    plane = ce_plane(psa, "soc")  # type: ignore[arg-type]
    figure = ce_plane_figure(plane, wtp=20_000, comparator="soc")
    assert isinstance(figure, go.Figure)
    draws, line = figure.data
    np.testing.assert_allclose(draws.x, plane["inc_effect"])
    np.testing.assert_allclose(draws.y, plane["inc_cost"])
    assert np.allclose(np.array(line.y), 20_000 * np.array(line.x))


def test_ceac_and_ceaf_traces(psa: object) -> None:
    wtp = np.linspace(0, 50_000, 11)
    curves = ceac(psa, wtp)  # type: ignore[arg-type]
    figure = ceac_figure(curves)
    names = [t.name for t in figure.data]
    assert names == ["soc", "new", "Frontier"]
    np.testing.assert_allclose(
        figure.data[1].y, curves.loc[curves["strategy"] == "new", "probability"]
    )
    assert len(figure.data[2].x) == wtp.size  # one frontier point per threshold
    frontier = ceaf(psa, wtp)  # type: ignore[arg-type]
    segments = ceaf_figure(frontier)
    assert sum(len(t.x) for t in segments.data) == wtp.size
    loss = expected_loss_figure(expected_loss(psa, wtp))  # type: ignore[arg-type]
    assert [t.name for t in loss.data] == ["soc", "new"]


def test_evpi_and_evppi_figures(psa: object) -> None:
    values = evpi(psa, np.linspace(0, 50_000, 6))  # type: ignore[arg-type]
    figure = evpi_figure(values)
    np.testing.assert_allclose(figure.data[0].y, values["evpi"])
    evppi_frame = pd.DataFrame(
        {"parameters": ["a", "b", "a,b"], "wtp": 20_000.0, "evppi": [5.0, 1.0, 6.0], "evpi": 7.0}
    )
    bars = evppi_bar_figure(evppi_frame, wtp=20_000)
    assert list(bars.data[0].y) == ["b", "a", "a,b"]  # largest drawn on top
    assert list(bars.data[0].x) == [1.0, 5.0, 6.0]
    with pytest.raises(AnalysisInputError, match="wtp: the EVPPI frame has a WTP grid"):
        evppi_bar_figure(evppi_frame)
    with pytest.raises(AnalysisInputError, match=r"wtp: 1000\.0 is not in the frame's grid"):
        evppi_bar_figure(evppi_frame, wtp=1000)


def test_tornado_sorted_by_swing_relative_to_base() -> None:
    rows = pd.DataFrame(
        {"parameter": ["p", "c", "u"], "low": [90.0, 99.0, 70.0], "high": [110.0, 101.0, 140.0]}
    )
    figure = tornado_figure(rows, base=100.0, outcome="ICER")
    low, high = figure.data
    assert list(low.y) == ["c", "p", "u"]  # widest swing (u) last = on top
    np.testing.assert_allclose(low.x, [-1.0, -10.0, -30.0])
    np.testing.assert_allclose(high.x, [1.0, 10.0, 40.0])
    assert low.base == 100.0
    assert low.hovertext is None
    with_settings = rows.assign(low_value=[0.1, 5.0, 0.5], high_value=[0.3, 15.0, 0.9])
    hovered = tornado_figure(with_settings, base=100.0).data[1]
    assert list(hovered.hovertext) == ["c = 15", "p = 0.3", "u = 0.9"]
    with pytest.raises(AnalysisInputError, match="rows: column 'high' must be finite; row 0"):
        tornado_figure(rows.assign(high=[np.nan, 1.0, 2.0]), base=100.0)


def test_icers_figure_separates_statuses() -> None:
    table = calculate_icers([0, 10, 40, 60, 75], [0, 1, 2, 3, 4], list("abcde"))
    figure = icers_figure(table)
    frontier = figure.data[0]
    assert frontier.name == "Efficiency frontier"
    assert list(frontier.text) == ["a", "b", "e"]


def test_missing_columns_are_named() -> None:
    with pytest.raises(AnalysisInputError, match=r"curves: missing column\(s\) \['probability'\]"):
        ceac_figure(pd.DataFrame({"wtp": [0.0], "strategy": ["a"]}))
    with pytest.raises(AnalysisInputError, match="plane: expected at least one row"):
        ce_plane_figure(pd.DataFrame(columns=["strategy", "inc_cost", "inc_effect"]))
