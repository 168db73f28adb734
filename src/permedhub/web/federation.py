"""Federated feasibility in the portal: compose a cohort (a form, or the cohort JSON the CLI
reads), send it to the regional nodes this portal is registered with, show what each said.

The portal is a hub like `permedhub federation query`: it reads the nodes file named by
`PERMEDHUB_FEDERATION_NODES` (same format, `federation.hub.load_nodes`) and signs every
request with that file's account at each node. Every logged-in portal user therefore shares
the portal's account at a node, so the node's per-user history, budget and differencing
defence apply to all of them together — stricter than per researcher, never looser.

Routes: ``GET /federation`` (the form and the registered nodes) and ``POST /federation``
(CSRF; ``output=page|json``). Both need a logged-in user.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from permedhub.config import federation_nodes_file
from permedhub.federation.cohort import Cohort, CohortError, Problem, parse_cohort
from permedhub.federation.concepts import VOCABULARY
from permedhub.federation.hub import (
    FederatedResult,
    NodeEntry,
    NodeOutcome,
    NodesFileError,
    load_nodes,
    query_nodes_async,
)
from permedhub.web.auth import CsrfOk, Viewer
from permedhub.web.pages.rendering import render
from permedhub.web.tools.common import json_download

router = APIRouter(prefix="/federation", include_in_schema=False)

# Rows of the form's criteria tables (the cohort schema allows more: paste JSON for those).
CRITERIA_ROWS = {"inclusion": 3, "exclusion": 2}
DOMAINS = ("condition", "drug", "measurement")
CRITERION_FIELDS = ("domain", "concepts", "start", "end", "value_min", "value_max")
STATUS_LABELS = {
    "answered": "answered",
    "pending_approval": "awaiting the node operator's approval",
    "refused": "refused",
    "timeout": "no answer in time",
    "unreachable": "unreachable",
    "garbage": "answer not understood",
    "error": "error",
}
EXAMPLE_FORM = {
    "name": "Type 2 diabetes on metformin, 40-70",
    "reference_date": "2024-01-01",
    "age_min": "40",
    "age_max": "70",
    "inclusion-0-domain": "condition",
    "inclusion-0-concepts": "201826",
    "inclusion-1-domain": "drug",
    "inclusion-1-concepts": "1503297",
    "exclusion-0-domain": "condition",
    "exclusion-0-concepts": "46271022",
    "breakdown_sex": "on",
}


@dataclass
class Registry:
    """The nodes this portal may ask, or why it cannot ask any."""

    nodes: list[NodeEntry] = field(default_factory=list)
    problem: str | None = None


def registry() -> Registry:
    path = federation_nodes_file()
    if path is None:
        return Registry(
            problem="No regional nodes are registered with this portal: its operator sets "
            "PERMEDHUB_FEDERATION_NODES to a nodes file (the format of "
            "`permedhub federation query --nodes`)."
        )
    try:
        return Registry(load_nodes(Path(path)))
    except NodesFileError as exc:
        return Registry(problem=f"The portal's nodes file cannot be used: {exc}")


def _concept_ids(where: str, text: str) -> list[int] | Problem:
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        return [int(part) for part in parts]
    except ValueError:
        return Problem(where, text, "OMOP concept ids: whole numbers separated by commas")


def _number(where: str, text: str) -> float | Problem:
    try:
        return float(text)
    except ValueError:
        return Problem(where, text, "a number")


def _criteria(kind: str, fields: dict[str, str], problems: list[Problem]) -> list[dict[str, Any]]:
    """The criteria rows of one kind that name at least one concept (blank rows are skipped)."""
    criteria = []
    for row in range(CRITERIA_ROWS[kind]):
        get = {name: fields.get(f"{kind}-{row}-{name}", "").strip() for name in CRITERION_FIELDS}
        if not get["concepts"]:
            continue
        where = f"{kind}[{row}]"
        criterion: dict[str, Any] = {"domain": get["domain"]}
        ids = _concept_ids(f"{where}.concept_ids", get["concepts"])
        if isinstance(ids, Problem):
            problems.append(ids)
        else:
            criterion["concept_ids"] = ids
        for name in ("start", "end"):
            if get[name]:
                criterion[name] = get[name]
        value: dict[str, float] = {}
        for name, key in (("value_min", "min"), ("value_max", "max")):
            if get[name]:
                number = _number(f"{where}.value.{key}", get[name])
                if isinstance(number, Problem):
                    problems.append(number)
                else:
                    value[key] = number
        if value:
            criterion["value"] = value
        criteria.append(criterion)
    return criteria


def cohort_document(fields: dict[str, str]) -> dict[str, Any]:
    """The cohort JSON object the form's fields describe; CohortError names each field that
    cannot be read (the cohort schema then judges the whole)."""
    problems: list[Problem] = []
    document: dict[str, Any] = {
        "name": fields.get("name", "").strip(),
        "reference_date": fields.get("reference_date", "").strip(),
        "inclusion": _criteria("inclusion", fields, problems),
        "exclusion": _criteria("exclusion", fields, problems),
        "breakdown": [b for b in ("sex", "age_band") if fields.get(f"breakdown_{b}")],
    }
    sexes = [s for s in ("female", "male") if fields.get(f"sex_{s}")]
    if sexes:
        document["sex"] = sexes
    age = {}
    for key in ("min", "max"):
        text = fields.get(f"age_{key}", "").strip()
        if text:
            if not text.isdigit():
                problems.append(Problem(f"age.{key}", text, "whole years (0-130)"))
            else:
                age[key] = int(text)
    if age:
        document["age"] = age
    window = {key: fields.get(f"observation_{key}", "").strip() for key in ("from", "to")}
    if any(window.values()):
        document["observation"] = window
    if problems:
        raise CohortError(problems)
    return document


def read_cohort(fields: dict[str, str]) -> Cohort:
    """The cohort of a posted form: its pasted JSON when given, else the form's fields."""
    pasted = fields.get("cohort_json", "").strip()
    return parse_cohort(pasted if pasted else cohort_document(fields))


@dataclass(frozen=True)
class NodeRow:
    node: str
    status: str
    label: str
    count: str
    seconds: str
    detail: str


def _count_text(outcome: NodeOutcome) -> str:
    if outcome.status != "answered":
        return "–"
    if outcome.count is None:
        k = (outcome.answer or {}).get("disclosure", {}).get("k")
        return f"suppressed (fewer than {k})" if k else "suppressed"
    return f"{outcome.count:,}"


def _detail_text(detail: Any) -> str:
    if detail is None:
        return ""
    if isinstance(detail, dict) and "code" in detail:
        inner = detail.get("detail")
        text = inner if isinstance(inner, str) else json.dumps(inner, default=str)
        return f"{detail['code']}: {text}"
    return detail if isinstance(detail, str) else json.dumps(detail, default=str)


def node_rows(result: FederatedResult) -> list[NodeRow]:
    return [
        NodeRow(o.node, o.status, STATUS_LABELS.get(o.status, o.status), _count_text(o),
                f"{o.seconds:.2f}", _detail_text(o.detail))
        for o in result.nodes
    ]  # fmt: skip


@dataclass(frozen=True)
class BreakdownTable:
    """Published cells of every node that answered with a breakdown: one row per cell, one
    column per node ("suppressed" where a node suppressed the cell)."""

    variables: list[str]
    nodes: list[str]
    rows: list[tuple[list[str], list[str]]]


def breakdown_table(result: FederatedResult) -> BreakdownTable | None:
    answered = [o for o in result.nodes if o.answer and o.answer.get("breakdown")]
    if not answered:
        return None
    variables: list[str] = answered[0].answer["breakdown"]["by"]  # type: ignore[index]
    keys: list[tuple[str, ...]] = []
    counts: dict[tuple[str, str], str] = {}
    for outcome in answered:
        for cell in outcome.answer["breakdown"]["cells"]:  # type: ignore[index]
            key = tuple(str(cell.get(v, "all")) for v in variables)
            if key not in keys:
                keys.append(key)
            count = cell.get("count")
            counts[(outcome.node, "|".join(key))] = "suppressed" if count is None else f"{count:,}"
    nodes = [o.node for o in answered]
    rows = [(list(key), [counts.get((node, "|".join(key)), "–") for node in nodes]) for key in keys]
    return BreakdownTable(variables, nodes, rows)


def _context(fields: dict[str, str], found: Registry) -> dict[str, Any]:
    return {
        "values": fields,
        "registry": found,
        "rows": CRITERIA_ROWS,
        "domains": DOMAINS,
        "concepts": VOCABULARY,
    }


def _page(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(request, "federation.html", context, status_code)


@router.get("", response_class=HTMLResponse)
def feasibility_form(request: Request, _user: Viewer) -> HTMLResponse:
    found = registry()
    return _page(request, _context(EXAMPLE_FORM, found), 200 if found.nodes else 503)


@router.post("", response_model=None)
async def feasibility_query(request: Request, _user: Viewer, _csrf: CsrfOk) -> Response:
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    found = registry()
    context = _context(fields, found)
    if not found.nodes:
        return _page(request, context, 503)
    try:
        cohort = read_cohort(fields)
    except CohortError as exc:
        context["problems"] = [str(p) for p in exc.problems]
        return _page(request, context, 422)
    result = await query_nodes_async(cohort, found.nodes)
    if fields.get("output") == "json":
        return json_download(result.as_dict(), "feasibility.json")
    context.update(
        cohort=cohort,
        cohort_json=cohort.model_dump_json(by_alias=True, exclude_none=True, indent=2),
        result=result,
        node_rows=node_rows(result),
        breakdown=breakdown_table(result),
    )
    return _page(request, context)
