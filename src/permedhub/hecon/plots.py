"""Plotly figures for cost-effectiveness and value-of-information results.

Each function takes the tidy frame returned by the matching analysis function (``cea``,
``voi``) and returns a :class:`plotly.graph_objects.Figure`; nothing is computed here beyond
arranging the data (the WTP line of the CE plane and the tornado's sort order).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from permedhub.hecon.cea import AnalysisInputError, validate_wtp


def _require(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise AnalysisInputError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AnalysisInputError(
            f"{name}: missing column(s) {missing}; got {[str(c) for c in frame.columns]}"
        )
    if frame.empty:
        raise AnalysisInputError(f"{name}: expected at least one row, got none")


def ce_plane_figure(
    plane: pd.DataFrame, wtp: float | None = None, comparator: str = "comparator"
) -> go.Figure:
    """Scatter of incremental effect (x) and cost (y) per draw, one trace per strategy, from
    :func:`~permedhub.hecon.cea.ce_plane`; with ``wtp`` a dashed line ``cost = wtp · effect``."""
    _require(plane, ["strategy", "inc_cost", "inc_effect"], "plane")
    figure = go.Figure()
    for strategy, rows in plane.groupby("strategy", sort=False):
        figure.add_trace(
            go.Scattergl(
                x=rows["inc_effect"],
                y=rows["inc_cost"],
                mode="markers",
                name=str(strategy),
                marker={"size": 4, "opacity": 0.5},
            )
        )
    if wtp is not None:
        slope = float(validate_wtp(wtp)[0])
        low = min(float(plane["inc_effect"].min()), 0.0)
        high = max(float(plane["inc_effect"].max()), 0.0)
        figure.add_trace(
            go.Scatter(
                x=[low, high],
                y=[slope * low, slope * high],
                mode="lines",
                name=f"WTP {slope:,.0f}",
                line={"dash": "dash", "color": "black"},
            )
        )
    figure.update_layout(
        title=f"Cost-effectiveness plane versus {comparator}",
        xaxis_title="Incremental effect",
        yaxis_title="Incremental cost",
    )
    return figure


def ceac_figure(curves: pd.DataFrame) -> go.Figure:
    """One line per strategy from :func:`~permedhub.hecon.cea.ceac`; frontier points marked."""
    _require(curves, ["wtp", "strategy", "probability"], "curves")
    figure = go.Figure()
    for strategy, rows in curves.groupby("strategy", sort=False):
        figure.add_trace(
            go.Scatter(x=rows["wtp"], y=rows["probability"], mode="lines", name=str(strategy))
        )
    if "on_frontier" in curves.columns:
        frontier = curves[curves["on_frontier"]]
        figure.add_trace(
            go.Scatter(
                x=frontier["wtp"],
                y=frontier["probability"],
                mode="markers",
                name="Frontier",
                marker={"symbol": "square-open", "color": "black", "size": 7},
                text=frontier["strategy"],
            )
        )
    figure.update_layout(
        title="Cost-effectiveness acceptability curves",
        xaxis_title="Willingness to pay",
        yaxis_title="Probability cost-effective",
        yaxis_range=[0, 1],
    )
    return figure


def ceaf_figure(frontier: pd.DataFrame) -> go.Figure:
    """The acceptability frontier from :func:`~permedhub.hecon.cea.ceaf`: one trace per optimal
    strategy (the frontier's segments)."""
    _require(frontier, ["wtp", "strategy", "probability"], "frontier")
    figure = go.Figure()
    for strategy, rows in frontier.groupby("strategy", sort=False):
        figure.add_trace(
            go.Scatter(
                x=rows["wtp"], y=rows["probability"], mode="lines+markers", name=str(strategy)
            )
        )
    figure.update_layout(
        title="Cost-effectiveness acceptability frontier",
        xaxis_title="Willingness to pay",
        yaxis_title="Probability the optimal strategy is cost-effective",
        yaxis_range=[0, 1],
    )
    return figure


def expected_loss_figure(loss: pd.DataFrame) -> go.Figure:
    """Expected loss curves from :func:`~permedhub.hecon.cea.expected_loss`."""
    _require(loss, ["wtp", "strategy", "expected_loss"], "loss")
    figure = go.Figure()
    for strategy, rows in loss.groupby("strategy", sort=False):
        figure.add_trace(
            go.Scatter(x=rows["wtp"], y=rows["expected_loss"], mode="lines", name=str(strategy))
        )
    figure.update_layout(
        title="Expected loss curves",
        xaxis_title="Willingness to pay",
        yaxis_title="Expected loss",
    )
    return figure


def evpi_figure(values: pd.DataFrame, column: str = "evpi") -> go.Figure:
    """EVPI over the WTP grid from :func:`~permedhub.hecon.voi.evpi` (or ``evpi_population``
    from :func:`~permedhub.hecon.voi.population_evpi` with ``column``)."""
    _require(values, ["wtp", column], "values")
    figure = go.Figure(
        go.Scatter(x=values["wtp"], y=values[column], mode="lines", name=column.upper())
    )
    figure.update_layout(
        title="Expected value of perfect information",
        xaxis_title="Willingness to pay",
        yaxis_title="EVPI per person" if column == "evpi" else "EVPI (population)",
    )
    return figure


def evppi_bar_figure(values: pd.DataFrame, wtp: float | None = None) -> go.Figure:
    """Horizontal bars of EVPPI per parameter set (largest on top) from
    :func:`~permedhub.hecon.voi.evppi`, at ``wtp`` when the frame has a WTP grid; the EVPI
    is drawn as a reference line."""
    _require(values, ["parameters", "evppi"], "values")
    rows = values
    if "wtp" in values.columns:
        if wtp is None:
            raise AnalysisInputError("wtp: the EVPPI frame has a WTP grid; choose one threshold")
        threshold = float(validate_wtp(wtp)[0])
        rows = values[np.isclose(values["wtp"], threshold)]
        if rows.empty:
            raise AnalysisInputError(
                f"wtp: {threshold} is not in the frame's grid {sorted(values['wtp'].unique())}"
            )
    rows = rows.sort_values("evppi")
    figure = go.Figure(go.Bar(x=rows["evppi"], y=rows["parameters"], orientation="h", name="EVPPI"))
    if "evpi" in rows.columns:
        figure.add_vline(x=float(rows["evpi"].iloc[0]), line_dash="dash", annotation_text="EVPI")
    figure.update_layout(
        title="Expected value of partial perfect information",
        xaxis_title="EVPPI per person",
        yaxis_title="Parameters",
    )
    return figure


def tornado_figure(rows: pd.DataFrame, base: float, outcome: str = "Outcome") -> go.Figure:
    """Tornado diagram from one-way DSA rows with columns ``parameter, low, high`` (the
    outcome with the parameter at its low and high value; optional ``low_value, high_value``,
    the parameter settings, shown on hover), as returned by ``dsa.tornado``. Bars are drawn
    relative to the base case and sorted with the widest swing on top."""
    _require(rows, ["parameter", "low", "high"], "rows")
    if not np.isfinite(base):
        raise AnalysisInputError(f"base: expected a finite base-case outcome, got {base}")
    for column in ("low", "high"):
        values = pd.to_numeric(rows[column], errors="coerce")
        if values.isna().any() or not np.all(np.isfinite(values)):
            row = int(np.flatnonzero(values.isna() | ~np.isfinite(values.fillna(0)))[0])
            raise AnalysisInputError(
                f"rows: column {column!r} must be finite; row {row} is {rows[column].iloc[row]!r}"
            )
    ordered = rows.assign(swing=(rows["high"] - rows["low"]).abs()).sort_values("swing")
    figure = go.Figure()
    for bound, label in (("low", "Low value"), ("high", "High value")):
        # dsa.tornado also gives the parameter values used (low_value / high_value).
        setting = f"{bound}_value"
        hover = (
            [f"{p} = {v:g}" for p, v in zip(ordered["parameter"], ordered[setting], strict=True)]
            if setting in ordered.columns
            else None
        )
        figure.add_trace(
            go.Bar(
                y=ordered["parameter"],
                x=ordered[bound] - base,
                base=base,
                orientation="h",
                name=label,
                hovertext=hover,
            )
        )
    figure.add_vline(x=base, line_color="black")
    figure.update_layout(
        title="Tornado diagram", barmode="overlay", xaxis_title=outcome, yaxis_title="Parameter"
    )
    return figure


def icers_figure(icers: pd.DataFrame) -> go.Figure:
    """Cost-effectiveness frontier from :func:`~permedhub.hecon.cea.calculate_icers`: all
    strategies as points by status, the non-dominated ones joined by a line."""
    _require(icers, ["strategy", "cost", "effect", "status"], "icers")
    figure = go.Figure()
    labels = {"ND": "Efficiency frontier", "ED": "Extended dominated", "D": "Dominated"}
    for status, label in labels.items():
        rows = icers[icers["status"] == status].sort_values("cost")
        if rows.empty:
            continue
        figure.add_trace(
            go.Scatter(
                x=rows["effect"],
                y=rows["cost"],
                mode="lines+markers" if status == "ND" else "markers",
                name=label,
                text=rows["strategy"],
            )
        )
    figure.update_layout(
        title="Cost-effectiveness frontier", xaxis_title="Effect", yaxis_title="Cost"
    )
    return figure
