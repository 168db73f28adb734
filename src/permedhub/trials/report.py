"""Self-contained HTML report of a simulated design (Plotly JS inlined, no CDN).

The report records the design document as given (validated), the software versions, the seed,
the number of simulated trials, the engine and the random-block size, every result with its
Monte-Carlo standard error, the boundaries (with a plot) and, across scenarios, curves of the
rejection probabilities with +/- 1.96 SE error bars.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from permedhub.trials.simulate import SimulationReport

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:75rem;color:#1a1a1a}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #bbb;padding:.3rem .6rem}
th{background:#eef}td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f6f6;padding:1rem;overflow:auto}
"""


def _table(headers: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{html.escape(c)}</td>" if i >= numeric_from else
            f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _boundary_figure(report: SimulationReport) -> go.Figure | None:
    if not report.boundaries:
        return None
    figure = go.Figure()
    for name, values in report.boundaries.items():
        if "weights" in name:
            continue
        stages = list(range(1, len(values) + 1))
        shown = [v if abs(v) < 1e6 else None for v in values]
        figure.add_trace(go.Scatter(x=stages, y=shown, mode="lines+markers", name=name))
    figure.update_layout(
        title="Boundaries by stage", xaxis_title="stage", yaxis_title="z", height=380
    )
    return figure


def rejection_figure(report: SimulationReport) -> go.Figure:
    """Rejection probabilities per scenario with ±1.96 Monte-Carlo SE bars (a metric that a
    scenario lacks is a gap, not an error): the report and the portal draw this one."""
    names = [s.name for s in report.scenarios]
    figure = go.Figure()
    metric_names = [
        m for m in report.scenarios[0].metrics
        if m.startswith(("reject", "fwer", "any_correct", "power"))
    ]  # fmt: skip
    missing = {"estimate": math.nan, "mc_se": 0.0}
    for metric in metric_names:
        values = [s.metrics.get(metric, missing) for s in report.scenarios]
        figure.add_trace(
            go.Scatter(
                x=names, y=[v["estimate"] for v in values], name=metric, mode="lines+markers",
                error_y={"type": "data", "array": [1.96 * v["mc_se"] for v in values],
                         "visible": True},
            )
        )  # fmt: skip
    figure.update_layout(
        title="Rejection probabilities across scenarios (power curves; bars: ±1.96 MC SE)",
        xaxis_title="scenario",
        yaxis_title="probability",
        yaxis_range=[0, 1],
        height=460,
    )
    return figure


def render_html(report: SimulationReport) -> str:
    """The report as one HTML string (the first figure carries the Plotly library)."""
    design = report.design
    title = str(design.get("title", design.get("design", "Design")))
    figures = [f for f in (rejection_figure(report), _boundary_figure(report)) if f is not None]
    plots = [
        pio.to_html(figure, full_html=False, include_plotlyjs=(index == 0))
        for index, figure in enumerate(figures)
    ]
    run_rows = [
        ["design family", str(design.get("design"))],
        ["simulated trials per scenario", f"{report.n_sim:,}"],
        ["seed", str(report.seed)],
        ["engine", report.engine],
        ["random block size (trials per SeedSequence child)", f"{report.block_size:,}"],
        ["elapsed seconds", f"{report.elapsed_seconds:.2f}"],
        *[[f"version of {name}", version] for name, version in report.software.items()],
    ]
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        "<h2>Run</h2>",
        _table(["item", "value"], run_rows, numeric_from=2),
        "<h2>Inputs (design document)</h2>",
        f"<pre>{html.escape(json.dumps(design, indent=2, default=str))}</pre>",
    ]
    if report.boundaries:
        rows = [[name, ", ".join(f"{v:.4f}" for v in values)]
                for name, values in report.boundaries.items()]  # fmt: skip
        sections += ["<h2>Boundaries</h2>", _table(["boundary", "values by stage"], rows, 2)]
    for scenario in report.scenarios:
        kind = "exact" if scenario.exact else "simulated"
        rows = [
            [metric, f"{value['estimate']:.6g}", f"{value['mc_se']:.3g}"]
            for metric, value in scenario.metrics.items()
        ]
        sections += [
            f"<h2>Scenario: {html.escape(scenario.name)} ({kind})</h2>",
            f"<pre>{html.escape(json.dumps(scenario.parameters, default=str))}</pre>",
            _table(["result", "estimate", "Monte-Carlo SE"], rows),
        ]
    sections += ["<h2>Figures</h2>", *plots]
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def write_html(report: SimulationReport, path: str | Path) -> Path:
    target = Path(path)
    target.write_text(render_html(report), encoding="utf-8")
    return target
