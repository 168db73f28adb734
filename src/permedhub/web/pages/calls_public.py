"""The public pages of the calls: the list of calls and each call's page.

A call with a document (a seeded ERA PerMed call, or one published into the workflow) is
shown whole: stages and deadlines, modules, its rules in plain words, its funders with their
national budgets and rules, evaluation, funding mode, every source and every doubt; a value
the document does not state is shown as unknown. A graph call without a document (another
initiative's call) gets a page from the graph's summary record, so every call the portal links
to has one. Either way the page lists the projects the graph records as funded under it.

Whether a call is open is read on the workflow's clock (the server's, replaced in tests), the
clock submissions are judged by.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from permedhub.calls import catalogue
from permedhub.calls.catalogue import CallDocument
from permedhub.calls.countries import describe
from permedhub.calls.model import Call, ConsortiumRules
from permedhub.graph import queries
from permedhub.graph.queries.common import organisations_by_id
from permedhub.graph.queries.initiatives import projects_of_calls
from permedhub.graph.views import CallView
from permedhub.web.auth import current_user
from permedhub.web.deps import EntityId, SessionDep, engine_of
from permedhub.web.pages import tables
from permedhub.web.pages.calls import workflow_of
from permedhub.web.pages.rendering import csv_response, render

router = APIRouter(include_in_schema=False)

FUNDING_MODES = {
    "virtual": "Virtual common pot: each funder pays the partners it funds, from its own "
    "national budget.",
    "real": "Real common pot: the funders' budgets are pooled, and the pot pays the proposals "
    "in the order of the ranking list.",
    "mixed": "Mixed: each funder pays the partners it funds from its national budget first; a "
    "top-up pot pays what national budgets cannot.",
}


@dataclass(frozen=True)
class Rule:
    """One consortium rule in plain words; `path` keys its source and its doubt."""

    path: str
    text: str


def _now(request: Request) -> dt.datetime:
    return workflow_of(request).now()


def _listing(request: Request, session: Session) -> list[catalogue.Listing]:
    return catalogue.listing(
        catalogue.documents(engine_of(request)), queries.list_calls(session), _now(request)
    )


@router.get("/calls", response_class=HTMLResponse)
def calls_page(request: Request, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "calls/index.html",
        {"calls": _listing(request, session), "now": _now(request)},
    )


@router.get("/calls.csv")
def calls_csv(request: Request, session: SessionDep) -> Response:
    return csv_response(tables.call_listing(_listing(request, session)), "calls.csv")


# ---------------------------------------------------------------- one call


def _module_names(call: Call) -> dict[str, str]:
    return {m.id: m.name or m.id for m in call.modules}


def _modules(ids: list[str], names: dict[str, str]) -> str:
    return "; ".join(names.get(i, i) for i in ids)


# The consortium rules that are a count: (field, the rule in words, what an unknown one is).
COUNTED_RULES = (
    ("min_eligible_partners",
     "At least {n} eligible partners: funded by a participating funder that funds their kind "
     "of organisation.", "Smallest number of eligible partners"),
    ("min_countries", "Eligible partners from at least {n} different countries.",
     "Smallest number of countries"),
    ("max_partners", "At most {n} partners in a consortium, own-funded partners included.",
     "Largest number of partners"),
    ("max_per_country", "At most {n} partners from one country.",
     "Largest number of partners per country"),
    ("max_own_funded", "At most {n} own-funded partners (partners who bring their own funding).",
     "Largest number of own-funded partners"),
)  # fmt: skip


def consortium_rules(call: Call) -> list[Rule]:
    """The call's consortium rules as sentences, unknown where the document states none."""
    rules = call.consortium
    found = [_counted(rules, field, known, unknown) for field, known, unknown in COUNTED_RULES]
    found.append(_eu_rule(rules))
    coordinator = (
        "The coordinator must be an eligible partner."
        if rules.coordinator_eligible
        else "The document does not require the coordinator to be an eligible partner."
    )
    found.append(Rule("consortium.coordinator_eligible", coordinator))
    return found + _module_rules(rules, _module_names(call))


def _counted(rules: ConsortiumRules, field: str, known: str, unknown: str) -> Rule:
    value = getattr(rules, field)
    if value is None:
        return Rule(f"consortium.{field}", f"{unknown}: unknown (not stated).")
    return Rule(f"consortium.{field}", known.format(n=value))


def _eu_rule(rules: ConsortiumRules) -> Rule:
    path, eu = "consortium.min_eu_associated_countries", rules.min_eu_associated_countries
    if eu is None:
        text = "Partners from EU member states or associated countries: unknown (not stated)."
    else:
        text = (
            f"Eligible partners from at least {eu.countries} different countries, each an "
            f"{describe(eu.programme)}."
        )
    return Rule(path, text)


def _module_rules(rules: ConsortiumRules, names: dict[str, str]) -> list[Rule]:
    groups = [("consortium.required_modules", "all", rules.required_modules)]
    groups.append(("consortium.modules_one_of", "at least one", rules.modules_one_of))
    groups += [
        (f"consortium.modules_one_of_each[{i}]", "at least one", group)
        for i, group in enumerate(rules.modules_one_of_each)
    ]
    found = [
        Rule(path, f"Every proposal addresses {how} of: {_modules(ids, names)}.")
        for path, how, ids in groups
        if ids
    ]
    none = Rule("consortium.modules_one_of_each", "Modules a proposal must address: none stated.")
    return found or [none]


def document_context(
    session: Session, doc: CallDocument, summary: CallView | None, now: dt.datetime
) -> dict[str, Any]:
    """What the call's document part of a page shows (the public page and the preview)."""
    call = doc.call
    organisations = organisations_by_id(
        session, [*call.funder_ids(), *([call.secretariat] if call.secretariat else [])]
    )
    funders = []
    for i, funder in enumerate(call.funders):
        doubts, sources = catalogue.funder_marks(call, i)
        funders.append(
            {
                "f": funder,
                "organisation": organisations.get(funder.organisation),
                "uncertain": doubts,
                "sources": sources,
            }
        )
    return {
        "doc": doc,
        "call": call,
        "summary": summary,
        "schedule": catalogue.schedule(call, now, doc.stage),
        "organisations": organisations,
        "funders": funders,
        "rules": consortium_rules(call),
        "funding_mode": FUNDING_MODES[call.funding.mode],
        "module_names": _module_names(call),
        "utc": dt.UTC,
    }


def call_summary(session: Session, call_id: str) -> CallView | None:
    """The graph's summary record of the call, if it has one."""
    return next(iter(queries.list_calls(session, call_id=call_id)), None)


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, session: SessionDep, call_id: EntityId) -> HTMLResponse:
    doc = catalogue.document(engine_of(request), call_id)
    summary = call_summary(session, call_id)
    now = _now(request)
    context: dict[str, Any] = {
        "doc": doc,
        "summary": summary,
        "projects": projects_of_calls(session, [call_id]),
        "roles": set(),
        "published": request.query_params.get("published"),
    }
    if doc is not None:
        context.update(document_context(session, doc, summary, now))
        context["roles"] = _roles(request, call_id) if doc.published else set()
    elif summary is not None:
        context["schedule"] = catalogue.summary_schedule(summary, now.date())
        context["deadlines"] = catalogue.summary_deadlines(summary)
    else:
        raise queries.NotFound("call", call_id)
    return render(request, "calls/call.html", context)


def _roles(request: Request, call_id: str) -> set[str]:
    """The visitor's roles in a published call (links to their pages)."""
    user = current_user(request)
    return workflow_of(request).roles_of(call_id, user.id) if user else set()


@router.get("/calls/{call_id}/funders.csv")
def call_funders_csv(request: Request, session: SessionDep, call_id: EntityId) -> Response:
    """The call's funders table as a CSV (a call without a document: the graph's funders)."""
    doc = catalogue.document(engine_of(request), call_id)
    if doc is not None:
        names = organisations_by_id(session, doc.call.funder_ids())
        frame = tables.call_funders(doc.call, names)
    else:
        summary = call_summary(session, call_id)
        if summary is None:
            raise queries.NotFound("call", call_id)
        frame = tables.organisations(summary.funders)
    return csv_response(frame, f"{call_id}-funders.csv")
