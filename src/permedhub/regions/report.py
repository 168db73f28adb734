"""A region's report: one self-contained HTML file (Plotly's library inlined in the first
figure, as hecon's and trials' reports do), readable with the network off."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from permedhub.regions.analysis import (
    Weights,
    compare,
    one_at_a_time,
    rank_stability,
)
from permedhub.regions.survey import BARRIERS, BY_NAME, READINESS

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:75rem;color:#1a1a1a}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #bbb;padding:.3rem .6rem}
th{background:#eef}td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#444;font-size:.95rem}
"""


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th scope='col'>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for value in row:
            if isinstance(value, bool | np.bool_):
                cells.append(f"<td>{'yes' if value else 'no'}</td>")
            elif isinstance(value, int | np.integer):
                cells.append(f"<td class='num'>{value}</td>")
            elif isinstance(value, float | np.floating):
                cells.append(f"<td class='num'>{'' if pd.isna(value) else f'{value:.2f}'}</td>")
            else:
                cells.append(f"<td>{html.escape('' if value is None else str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def readiness_figure(table: pd.DataFrame, region: str) -> go.Figure:
    """Each readiness item (0-100) for the region against the mean of all regions answered."""
    labels = [BY_NAME[item].label for item in READINESS]
    columns = [f"score_{item}" for item in READINESS]
    figure = go.Figure()
    figure.add_bar(x=labels, y=table.loc[region, columns].tolist(), name=region)
    figure.add_bar(x=labels, y=table[columns].mean().tolist(), name="mean of all regions")
    figure.update_layout(
        title="Readiness items (0 = absent, 100 = fully in place)", barmode="group",
        yaxis_range=[0, 100], height=420,
    )  # fmt: skip
    return figure


def barrier_figure(table: pd.DataFrame, region: str) -> go.Figure:
    labels = [BY_NAME[item].label for item in BARRIERS]
    columns = [f"mean_{item}" for item in BARRIERS]
    figure = go.Figure()
    figure.add_bar(y=labels, x=table.loc[region, columns].tolist(), name=region, orientation="h")
    figure.add_bar(y=labels, x=table[columns].mean().tolist(), name="mean of all regions",
                   orientation="h")  # fmt: skip
    figure.update_layout(
        title="Barriers (mean answer: 1 = none, 5 = blocking)", barmode="group",
        # From 0, not 1: a bar starts at 0, so an answer of 1 would otherwise not show.
        xaxis_range=[0, 5], height=460, margin={"l": 320},
    )  # fmt: skip
    return figure


def render_html(
    responses: pd.DataFrame,
    places: pd.DataFrame,
    region: str,
    weights: Weights | None = None,
    *,
    seed: int = 0,
) -> str:
    weights = weights or Weights()
    table = compare(responses, places, weights=weights)
    if region not in table.index:
        raise ValueError(
            f"region {region!r}: expected a region with survey answers "
            f"({', '.join(table.index) or 'none yet'})"
        )
    row = table.loc[region]
    name = str(row["name"]) if pd.notna(row["name"]) else region
    stability = rank_stability(responses, weights, seed=seed)
    oat = one_at_a_time(responses, weights)
    figures = [readiness_figure(table, region), barrier_figure(table, region)]
    plots = [
        pio.to_html(figure, full_html=False, include_plotlyjs=(i == 0))
        for i, figure in enumerate(figures)
    ]
    place = places.loc[region] if region in places.index else None
    facts = pd.DataFrame(
        [
            ["region", f"{name} ({region})"],
            ["readiness index", f"{row['index']:.1f} of 100"],
            ["rank", f"{int(row['rank'])} of {len(table)} regions answered"],
            ["answers", str(int(row["answers"]))],
            ["innovation group (RIS)", _group(place)],
            ["density class", _density(place)],
            ["rank kept under weight perturbation",
             f"{stability.loc[region, 'kept_share']:.0%} of draws (ranks "
             f"{stability.loc[region, 'best_rank']}-{stability.loc[region, 'worst_rank']})"],
        ],
        columns=["item", "value"],
    )  # fmt: skip
    weight_rows = pd.DataFrame(
        [[BY_NAME[k].label, v] for k, v in weights.normalised().items()],
        columns=["readiness item", "weight (share of the sum)"],
    )
    sections = [
        f"<h1>Readiness report: {html.escape(name)}</h1>",
        _table(facts),
        "<h2>How the index is computed</h2>",
        "<p class='note'>Each readiness item's mean answer m (1-5) is scaled to s = (m - 1) / 4; "
        "the index is 100 &times; &Sigma; w&middot;s / &Sigma; w. Weights are non-negative, at "
        "least one positive, and divided by their sum.</p>",
        _table(weight_rows),
        *plots,
        "<h2>All regions</h2>",
        _table(table.reset_index()[["region", "name", "index", "rank", "answers", "ris_group",
                                    "density_class"]]),
        "<h2>Sensitivity to the weights</h2>",
        "<p class='note'>One at a time: each weight halved and raised by half, the others "
        "kept. Spearman = rank correlation with the base ranking.</p>",
        _table(oat),
        "<p class='note'>Random: every weight multiplied by an independent U(0.5, 1.5) draw, "
        f"1,000 draws, seed {seed}.</p>",
        _table(stability.reset_index()),
    ]  # fmt: skip
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Readiness report: {html.escape(name)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(sections)}</body></html>"
    )


def _group(place: pd.Series | None) -> str:
    if place is None or not place["ris_group"]:
        return "not given by a public source"
    edition = f"RIS {int(place['ris_edition'])}" if pd.notna(place["ris_edition"]) else "RIS"
    return f"{place['ris_group']} ({edition})"


def _density(place: pd.Series | None) -> str:
    if place is None or not place["density_class"]:
        return "no sourced population figures"
    return f"{place['density_class']} ({place['density']:.0f} people per km²)"


def write_html(html_text: str, path: str | Path) -> Path:
    target = Path(path)
    target.write_text(html_text, encoding="utf-8")
    return target


def index_figure(table: pd.DataFrame) -> go.Figure:
    """The readiness index of the regions in `table` (compare's frame), best first."""
    ordered = table.sort_values("index", ascending=False)
    labels = [f"{n} ({c})" if isinstance(n, str) else c for c, n in ordered["name"].items()]
    figure = go.Figure(go.Bar(x=labels, y=ordered["index"].tolist(), name="readiness index"))
    figure.update_layout(
        title="Readiness index (0-100)", yaxis_range=[0, 100], height=380, showlegend=False
    )
    return figure
