"""Public statistics of calls: `/calls/statistics` across calls and `/calls/{id}/statistics`
per call, each table with its CSV download and a chart with the table as its twin.

The numbers are `calls.statistics`' tables. A call run in PerMed Hub is shown once its
funding decision is made (before that its submissions are the secretariat's); a seeded real
call shows what the public data allow. This router is installed before the public pages',
whose `/calls/{call_id}` would otherwise take `/calls/statistics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from permedhub.calls import statistics
from permedhub.web.deps import EntityId, SessionDep
from permedhub.web.pages.rendering import csv_response

router = APIRouter(include_in_schema=False)

# Column -> heading; a column listed here is shown, in this order (the CSV has them all; a
# call's title is the link's tooltip).
HEADINGS = {
    "call": "Call", "stage": "Stage", "dimension": "By", "value": "Value",
    "run_in_permed_hub": "Run in PerMed Hub",
    "hub_proposals_submitted": "Submitted (PerMed Hub)",
    "hub_proposals_eligible": "Eligible (PerMed Hub)",
    "hub_proposals_funded": "Funded (PerMed Hub)",
    "proposals_submitted": "Proposals submitted", "proposals_eligible": "Proposals eligible",
    "proposals_funded": "Proposals funded", "proposal_success_rate": "Success rate",
    "partners_submitted": "Partners submitted", "partners_eligible": "Partners eligible",
    "partners_funded": "Partners funded",
    "pre_proposals_submitted": "Pre-proposals submitted",
    "pre_proposals_eligible": "Pre-proposals eligible",
    "full_proposals_invited": "Full proposals invited", "projects_funded": "Projects funded",
    "funding_eur": "Funding EUR", "success_rate": "Success rate",
    "success_rate_of": "of",
    "published_projects_funded": "Funded (announced)",
    "published_success_rate": "Success rate", "published_success_rate_of": "of",
    "graph_projects": "Projects in the graph", "graph_partners": "Partners",
    "graph_countries": "Countries",
    "projects": "Funded projects (graph)", "partners": "Partners (graph)",
}  # fmt: skip
RATES = {"proposal_success_rate", "success_rate", "published_success_rate"}
TEXT = {"call", "stage", "dimension", "value", "success_rate_of", "source",
        "uncertain", "published_success_rate_of", "run_in_permed_hub"}  # fmt: skip
CAPTIONS = {
    "calls": "Calls: submissions and success where known",
    "workflow": "Run in PerMed Hub: proposals and partners by country, funder, organisation "
    "kind and module",
    "published": "As the call's announcements state its outcome",
    "graph": "Funded projects the knowledge graph holds, and their partners by country and "
    "organisation kind (a part of the call's projects)",
}


@dataclass
class Shown:
    """A table as the template draws it: headings, cells as text, numeric columns."""

    key: str
    caption: str
    headings: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    csv: str
    # (call, source, doubts) under the table: long texts that would stretch its rows.
    notes: list[tuple[str, str, str | None]]


def _cell(column: str, value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—" if column not in TEXT else ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column in RATES:
        return f"{float(value):.1%}"
    if isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _shown(key: str, frame: pd.DataFrame, csv: str) -> Shown:
    columns = [c for c in HEADINGS if c in frame.columns]
    if key == "calls" and not frame["run_in_permed_hub"].any():
        # No call shown ran here: those columns would say "not applicable", not "unknown".
        columns = [c for c in columns if not c.startswith(("hub_", "run_in_"))]
    rows = [[_cell(c, v) for c, v in zip(columns, row, strict=True)]
            for row in frame[columns].itertuples(index=False)]  # fmt: skip
    notes = []
    if key == "published":
        notes = [
            (r["call"], r["source"], r["uncertain"] if isinstance(r["uncertain"], str) else None)
            for r in frame.to_dict("records")
            if isinstance(r["source"], str)
        ]
    return Shown(key, CAPTIONS[key], [HEADINGS[c] for c in columns],
                 [c not in TEXT for c in columns], rows, csv, notes)  # fmt: skip


def _tables(session: SessionDep, call_ids: list[str]) -> dict[str, pd.DataFrame]:
    """The public tables of `call_ids` that have rows: the summary (a row per call), the
    workflow's, the announced outcomes and the graph's."""
    run = set(statistics.workflow_calls(session, decided_only=True))
    seeded = statistics.seeded_calls()
    tables = {
        "calls": statistics.call_summary(session, call_ids, public=True),
        "workflow": statistics.workflow_statistics(session, [c for c in call_ids if c in run]),
        "published": statistics.published_outcomes([seeded[c] for c in call_ids if c in seeded]),
        "graph": statistics.graph_statistics(session, call_ids),
    }
    return {key: frame for key, frame in tables.items() if len(frame)}


def _known(session: SessionDep, call_id: str) -> str:
    known = statistics.known_calls(session, public=True)
    if call_id not in known:
        raise HTTPException(
            status_code=404,
            detail=f"call = {call_id!r}: no statistics (a call run in PerMed Hub has them once "
            "its funding decision is made)",
        )
    return known[call_id]


def _page(
    request: Request, title: str, heading: str, tables: dict[str, pd.DataFrame], base: str,
    call_id: str | None, titles: dict[str, str],
) -> HTMLResponse:  # fmt: skip
    from permedhub.web.tools.common import figure_json, render_tool

    figures = []
    # Across calls the workflow's rows would mix calls in one bar: per call only.
    if "workflow" in tables and call_id is not None:
        figure = statistics.proposals_figure(tables["workflow"], "Proposals by partner country")
        figures.append(("proposals", figure))
    graph = tables.get("graph")
    if graph is not None and (graph["dimension"] == "country").any():
        figure = statistics.partners_figure(
            graph, "Partners of the funded projects in the graph, by country"
        )
        figures.append(("partners", figure))
    shown = [_shown(key, frame, f"{base}/{key}.csv") for key, frame in tables.items()]
    context = {
        "title": title,
        "heading": heading,
        "call_id": call_id,
        "titles": titles,
        "tables": shown,
        "figures": [
            {"key": key, "json": figure_json(f), "title": f.layout.title.text} for key, f in figures
        ],
    }
    return render_tool(request, "calls/statistics.html", context)


@router.get("/calls/statistics", response_class=HTMLResponse)
def across_calls(request: Request, session: SessionDep) -> HTMLResponse:
    titles = statistics.known_calls(session, public=True)
    tables = _tables(session, list(titles))
    return _page(request, "Statistics of the calls", "Statistics across calls", tables,
                 "/calls/statistics", None, titles)  # fmt: skip


@router.get("/calls/statistics/{table}.csv")
def across_calls_csv(session: SessionDep, table: str) -> Response:
    ids = list(statistics.known_calls(session, public=True))
    return _csv(_tables(session, ids), table, "calls")


@router.get("/calls/{call_id}/statistics", response_class=HTMLResponse)
def one_call(request: Request, session: SessionDep, call_id: EntityId) -> HTMLResponse:
    title = _known(session, call_id)
    tables = _tables(session, [call_id])
    return _page(request, f"Statistics: {call_id}", f"{title}: statistics", tables,
                 f"/calls/{call_id}/statistics", call_id, {call_id: title})  # fmt: skip


@router.get("/calls/{call_id}/statistics/{table}.csv")
def one_call_csv(session: SessionDep, call_id: EntityId, table: str) -> Response:
    _known(session, call_id)
    return _csv(_tables(session, [call_id]), table, call_id)


def _csv(tables: dict[str, pd.DataFrame], table: str, prefix: str) -> Response:
    if table not in tables:
        raise HTTPException(
            status_code=404,
            detail=f"table = {table!r}: expected one of {', '.join(tables) or '(none here)'}",
        )
    return csv_response(tables[table], f"{prefix}-{table}.csv")
