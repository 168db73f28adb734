"""Self-contained HTML report of a model run: every input, the results and the figures
(Plotly JS inlined once, no CDN)."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from permedhub.hecon import cea, plots
from permedhub.hecon.microsim_spec import MicrosimModelSpec
from permedhub.hecon.psm import PSM_STATES
from permedhub.hecon.psm_spec import PSMModelSpec
from permedhub.hecon.run import ModelRun
from permedhub.hecon.spec import DistributionSpec, ModelSpec, TableSpec

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:0.9rem}
th{background:#f3f3f3} code{font-size:0.85rem} h2{margin-top:2rem}
"""


def _table(frame: pd.DataFrame, digits: int = 4) -> str:
    return frame.to_html(
        index=False, float_format=lambda v: f"{v:,.{digits}f}", na_rep="—", border=0
    )


def _parameter_rows(run: ModelRun) -> pd.DataFrame:
    rows = []
    for name, p in run.spec.parameters.items():
        if isinstance(p, DistributionSpec):
            fields = p.model_dump(exclude_none=True)
            kind = fields.pop("distribution")
            rows.append({"parameter": name, "kind": kind, "definition": str(fields)})
        elif isinstance(p, TableSpec):
            source: Any = p.table if p.table is not None else f"{p.file} [{p.key} -> {p.column}]"
            rows.append(
                {"parameter": name, "kind": f"table ({p.method})", "definition": str(source)}
            )
        else:
            rows.append({"parameter": name, "kind": "value/expression", "definition": str(p)})
    return pd.DataFrame(rows)


def _nested(title: str, data: Any) -> str:
    return f"<h3>{html.escape(title)}</h3><pre><code>{html.escape(_fmt(data))}</code></pre>"


def _fmt(data: Any, indent: int = 0) -> str:
    pad = "  " * indent
    if isinstance(data, dict):
        return "\n".join(
            f"{pad}{k}:" + ("\n" + _fmt(v, indent + 1) if isinstance(v, dict | list) else f" {v}")
            for k, v in data.items()
        )
    if isinstance(data, list):
        return "\n".join(f"{pad}- {_fmt(v, 0) if not isinstance(v, dict) else v}" for v in data)
    return f"{pad}{data}"


def _trace_figure(states: list[str], trace: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for strategy, rows in trace.groupby("strategy", sort=False):
        for state in states:
            fig.add_trace(
                go.Scatter(
                    x=rows["cycle"], y=rows[state], name=f"{strategy}: {state}", mode="lines"
                )
            )
    fig.update_layout(
        title="State occupancy (deterministic)",
        xaxis_title="Cycle",
        yaxis_title="Proportion of cohort",
    )
    return fig


def _markov_inputs(spec: ModelSpec) -> list[str]:
    strategies = {
        name: s.model_dump(exclude_none=True, by_alias=True, exclude_defaults=True)
        for name, s in spec.strategies.items()
    }
    shared = {
        "transitions": spec.transitions,
        "initial": spec.initial,
        "state_costs": spec.state_costs,
        "state_utilities": spec.state_utilities,
        "transition_rewards": [r.model_dump(by_alias=True) for r in spec.transition_rewards],
        "initial_costs": spec.initial_costs,
        "perspectives": spec.perspective_map(),
        "primary_perspective": spec.primary(),
    }
    states = pd.DataFrame([s.model_dump() for s in spec.states])
    settings = pd.DataFrame([spec.settings.model_dump()]).T.reset_index()
    settings.columns = ["setting", "value"]
    return [
        "<h3>Settings</h3>",
        _table(settings),
        "<h3>States</h3>",
        _table(states),
        _nested("Shared model structure", shared),
        _nested("Strategies (overrides)", strategies),
    ]


def render_report(run: ModelRun) -> str:
    """The complete HTML document (Markov or decision-tree run)."""
    spec = run.spec
    figures: list[go.Figure] = [plots.icers_figure(run.icers)]
    if isinstance(spec, ModelSpec) and run.trace is not None:
        figures.append(_trace_figure([s.name for s in spec.states], run.trace))
    if isinstance(spec, PSMModelSpec) and run.trace is not None:
        figures.append(_trace_figure(list(PSM_STATES), run.trace))
    if run.psa_costs is not None and run.psa_effects is not None and run.strategies:
        sample = cea.psa_sample(run.psa_costs, run.psa_effects, run.strategies)
        comparator = run.strategies[0]
        figures.append(
            plots.ce_plane_figure(cea.ce_plane(sample, comparator), comparator=comparator)
        )
        if run.ceac is not None:
            figures.append(plots.ceac_figure(run.ceac))
        if run.evpi is not None:
            figures.append(plots.evpi_figure(run.evpi))
        if run.evppi is not None and run.evppi_wtp is not None:
            figures.append(plots.evppi_bar_figure(run.evppi, run.evppi_wtp))
    figure_html = [
        pio.to_html(f, include_plotlyjs=(i == 0), full_html=False) for i, f in enumerate(figures)
    ]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(spec.name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(spec.name)}</h1>",
        f"<p>{html.escape(spec.description)}</p>",
        f"<p><em>Source:</em> {html.escape(spec.source)}</p>" if spec.source else "",
        "<h2>Results</h2><h3>Deterministic (base case)</h3>",
        _table(run.deterministic.reset_index()),
        "<h3>Incremental analysis (ND: non-dominated, ED: extended dominance, D: dominated)</h3>",
        _table(run.icers),
    ]
    if run.psa_summary is not None:
        parts += [
            f"<h3>Probabilistic analysis ({run.n_draws} draws, seed {run.seed})</h3>",
            _table(run.psa_summary),
        ]
    parts.append("<h2>Figures</h2>")
    parts += [f"<div>{f}</div>" for f in figure_html]
    parts.append("<h2>Inputs</h2>")
    if isinstance(spec, ModelSpec):
        parts += _markov_inputs(spec)
        if isinstance(spec, MicrosimModelSpec):
            micro = spec.microsimulation.model_dump(exclude_none=True)
            parts.append(_nested("Microsimulation (patients, seed, characteristics)", micro))
    elif isinstance(spec, PSMModelSpec):
        settings = pd.DataFrame([spec.settings.model_dump()]).T.reset_index()
        settings.columns = ["setting", "value"]
        parts += [
            "<h3>Settings</h3>",
            _table(settings),
            _nested(
                "Partitioned survival structure",
                spec.partitioned_survival.model_dump(exclude_none=True),
            ),
        ]
    else:
        parts.append(_nested("Decision tree", spec.tree.model_dump(exclude_defaults=True)))
    parts += ["<h3>Parameters</h3>", _table(_parameter_rows(run)), "</body></html>"]
    return "\n".join(p for p in parts if p)


def render_tornado_report(
    spec_name: str,
    table: pd.DataFrame,
    base: float,
    intervention: str,
    comparator: str,
    wtp: float,
) -> str:
    """Self-contained HTML page: tornado diagram of the incremental NMB and its table."""
    fig = plots.tornado_figure(table, base, outcome=f"Incremental NMB at WTP {wtp:,.0f}")
    body = pio.to_html(fig, include_plotlyjs=True, full_html=False)
    inputs = pd.DataFrame(
        {
            "input": ["model", "intervention", "comparator", "willingness to pay", "base INMB"],
            "value": [spec_name, intervention, comparator, f"{wtp:,.2f}", f"{base:,.4f}"],
        }
    )
    return "\n".join(
        [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>Tornado: {html.escape(spec_name)}</title><style>{_STYLE}</style></head>",
            f"<body><h1>One-way sensitivity analysis: {html.escape(spec_name)}</h1>",
            "<h2>Inputs</h2>",
            _table(inputs),
            "<h2>Tornado</h2>",
            body,
            _table(table),
            "</body></html>",
        ]
    )
