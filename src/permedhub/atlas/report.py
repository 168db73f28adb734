"""A region report: one self-contained HTML page (Plotly inlined once, nothing loaded from
another host) with the region's map of mapping records per country (an inline SVG on the
portal's map outlines, `atlas.choropleth`), its coverage heatmap, its gaps, its countries'
place in the family's network, its growth, optionally the mutual interest with another
region, and every source the figures rest on. A print stylesheet keeps tables whole and prints
link targets, so that the browser's "print to PDF" makes a clean document.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from sqlalchemy import Engine, text

from permedhub.atlas import analyses, data
from permedhub.atlas.choropleth import country_counts, svg_map
from permedhub.atlas.network import country_centrality, growth

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.8rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: 0.9rem; }
ol.sources { font-size: 0.85rem; word-break: break-all; }
figure.map { margin: 0.8rem 0; }
figure.map > svg { width: 100%; height: auto; border: 1px solid #ccc; }
figure.map figcaption { font-size: 0.9rem; color: #555; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; }
ul.legend svg { vertical-align: -2px; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  table, figure, .plot { break-inside: avoid; }
  figure.map svg { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
  ol.sources a::after { content: ""; }
  .plot { width: 100% !important; }
}
"""

# The map shades the totals table's `records` column: a record counts once per topic.
MAP_MEASURE = "mapping records × topics"


@dataclass
class RegionReport:
    region: str
    html: str
    sources: list[str]


def _table(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    if frame.empty:
        return "<p class='note'>None.</p>"
    columns = list(columns or frame.columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for row in frame[columns].itertuples(index=False):
        cells = []
        for value in row:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            cells.append(f"<td{' class=n' if numeric else ''}>{html.escape(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _heatmap(
    matrix: pd.DataFrame, topics: pd.DataFrame, title: str, names: dict[str, str]
) -> go.Figure:
    labels = dict(zip(topics["id"], topics["name"], strict=True))
    figure = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=[labels.get(t, t) for t in matrix.columns],
            y=[names.get(p, p) for p in matrix.index],
            colorscale="Blues",
            hovertemplate="%{y}<br>%{x}<br>%{z}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title, height=max(320, 22 * len(matrix.index) + 220), margin={"l": 160, "b": 200}
    )
    return figure


def _sources(engine: Engine, region: str) -> list[str]:
    """Every source of the region's mapping records (and their per-field sources) and of the
    initiatives its countries take part in, each once, in order."""
    found: list[str] = []
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                # No DISTINCT over the rows: PostgreSQL has no equality for `json` columns.
                "SELECT r.id, r.source, r.sources FROM atlas_record r WHERE r.id IN ("
                "SELECT p.record_id FROM atlas_record_place p JOIN region_membership m "
                "ON m.country_code = p.country_code WHERE m.region_id = :region "
                "UNION SELECT g.record_id FROM atlas_record_region g WHERE g.region_id = :region"
                ") ORDER BY r.id"
            ),
            {"region": region},
        )
        for _, source, per_field in rows:
            found.append(source)
            extra = json.loads(per_field) if isinstance(per_field, str) else per_field or {}
            found.extend(extra.values())
        initiative_sources = connection.execute(
            text(
                "SELECT DISTINCT i.source FROM initiative i JOIN country_activity a "
                "ON a.initiative_id = i.id WHERE a.place_code IN (SELECT country_code FROM "
                "region_membership WHERE region_id = :region) AND i.source IS NOT NULL "
                "ORDER BY i.source"
            ),
            {"region": region},
        )
        found.extend(s for (s,) in initiative_sources)
    return list(dict.fromkeys(s for s in found if s))


def _link(source: str) -> str:
    escaped = html.escape(source)
    if source.startswith(("http://", "https://")) and " " not in source:
        return f"<a href='{escaped}'>{escaped}</a>"
    return escaped


def region_report(engine: Engine, region: str, *, other: str | None = None) -> RegionReport:
    """The report of `region` (a graph region id), with mutual interest with `other` if given."""
    cover = analyses.coverage(engine, region=region)
    gap = analyses.gaps(engine, region)
    members = list(cover.records.index)
    with engine.connect() as connection:
        region_name = dict(zip(*data.regions(connection).to_dict("list").values(), strict=True))[
            region
        ]
        centrality = country_centrality(connection)
        years = growth(connection)
    centrality = centrality[centrality["country_code"].isin(members)]
    active = cover.records.index[
        (cover.records.sum(axis=1) > 0) | (cover.participations.sum(axis=1) > 0)
    ]
    figures = []
    if len(active):
        figures.append(
            _heatmap(
                cover.records.loc[active],
                cover.topics,
                "Mapping records per country and topic",
                cover.names,
            )
        )
        figures.append(
            _heatmap(
                cover.participations.loc[active],
                cover.topics,
                "Participations in family initiatives per country and topic",
                cover.names,
            )
        )
    if not years.empty:
        growth_figure = go.Figure()
        for column in ("initiatives_total", "participations_total", "new_organisations_total"):
            growth_figure.add_trace(go.Scatter(x=years["year"], y=years[column], name=column))
        growth_figure.update_layout(title="The family's growth (running totals)", height=360)
        figures.append(growth_figure)
    plots = [
        "<div class='plot'>"
        + pio.to_html(figure, include_plotlyjs=(index == 0), full_html=False)
        + "</div>"
        for index, figure in enumerate(figures)
    ]
    totals = pd.DataFrame(
        {
            "country_code": members,
            "name": [cover.names.get(c, c) for c in members],
            "records": cover.records.sum(axis=1).to_numpy(),
            "participations": cover.participations.sum(axis=1).to_numpy(),
            "funder_participations": cover.funders.sum(axis=1).to_numpy(),
        }
    )
    totals = totals[(totals["records"] > 0) | (totals["participations"] > 0)]
    sections = [
        f"<h1>Region report: {html.escape(region_name)} ({html.escape(region)})</h1>",
        f"<p>{len(members)} member countries; {len(active)} with mapping records or "
        "participations in topic-tagged family initiatives. Counts by topic use the ICPerMed "
        "taxonomy; a record counts once per country and topic.</p>",
        "<h2>Coverage</h2>",
        svg_map(
            country_counts(cover.records, cover.names),
            members,
            measure=MAP_MEASURE,
            title=f"Mapping records per country of {region_name} (summed over their topics)",
        ),
        *plots[:2],
        _table(totals),
        "<h2>Gaps</h2>",
        "<h3>Topics without capacity in the region</h3>",
        _table(gap.topics_without_capacity),
        "<h3>Countries with capacity but no participation in the family's initiatives or calls"
        " (to invite)</h3>",
        _table(gap.to_invite),
        "<h3>Member countries absent from everything</h3>",
        f"<p>{', '.join(html.escape(n) for n in gap.absent['name']) or 'None.'}</p>",
        "<h2>Network</h2>",
        "<p class='note'>Countries linked by the initiatives they share; betweenness with "
        "edge length 1 / shared initiatives.</p>",
        _table(centrality.head(30)),
        *plots[2:],
    ]
    if other is not None:
        mutual = analyses.mutual(engine, region, other)
        sections += [
            f"<h2>Mutual interest with {html.escape(other)}</h2>",
            "<p class='note'>score = sqrt(s_a * s_b), s the mean of a region's record-strength "
            "and participation shares in the topic (permedhub.atlas.analyses).</p>",
            _table(mutual.shared, ["topic_id", "name", "share_a", "share_b", "score"]),
            "<h3>Complementarities</h3>",
            _table(mutual.complementary, ["topic_id", "name", "share_a", "share_b", "stronger"]),
            "<h3>Bridging organisations</h3>",
            _table(mutual.bridges),
        ]
    sources = _sources(engine, region)
    sections += [
        "<h2>Sources</h2>",
        "<ol class='sources'>" + "".join(f"<li>{_link(s)}</li>" for s in sources) + "</ol>",
    ]
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Region report: {html.escape(region_name)}</title><style>{_STYLE}</style>"
        f"</head><body>{''.join(sections)}</body></html>"
    )
    return RegionReport(region, page, sources)


def write_report(engine: Engine, region: str, path: Path, *, other: str | None = None) -> Path:
    path.write_text(region_report(engine, region, other=other).html, encoding="utf-8")
    return path
