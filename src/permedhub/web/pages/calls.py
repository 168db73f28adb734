"""The call workflow's pages: applicants, the secretariat, reviewers and funders.

Each route needs a logged-in portal user (`Viewer`) and checks every POST's CSRF token; what
the user may do in the call is decided by `calls.workflow`, which refuses a step to a role
that may not take it (403 here). A refused input is shown on the page it came from (422)
with the field and what was expected; a step that succeeds redirects to its page (303).
"""

from __future__ import annotations

import typing
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from permedhub.calls import reports
from permedhub.calls.errors import CallInputError, NotAllowed, NotFoundError
from permedhub.calls.submissions import MAX_PDF_BYTES
from permedhub.calls.tables import records
from permedhub.calls.workflow import DecisionReport, Workflow
from permedhub.calls.workflow_base import Actor
from permedhub.config import smtp_settings
from permedhub.graph.curation import UserView
from permedhub.graph.schemas import OrganisationKind
from permedhub.web.auth import CsrfOk, Viewer
from permedhub.web.body_limit import UPLOAD_BODY_BYTES
from permedhub.web.deps import EntityId
from permedhub.web.pages.rendering import csv_response, form_text, private, render

router = APIRouter(include_in_schema=False)
PARTNER_ROWS = 8
MAX_PARTNER_ROWS = 20
KINDS = typing.get_args(OrganisationKind)
AUDIT_SHOWN = 50  # the latest entries on the dashboard


def install_workflow(app: Any) -> None:
    """The workflow the pages share (its clock and SMTP settings replaceable in tests)."""
    app.state.calls_workflow = Workflow(app.state.engine, smtp=smtp_settings())


def workflow_of(request: Request) -> Workflow:
    workflow: Workflow = request.app.state.calls_workflow
    return workflow


def actor_of(user: UserView) -> Actor:
    return Actor(user.id, user.name)


def guarded(step: Any) -> Any:
    """Run a workflow step; its refusals as HTTP errors (403 not allowed, 404 unknown)."""
    try:
        return step()
    except NotAllowed as error:
        raise HTTPException(status_code=403, detail=str(error)) from None
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None


def done_redirect(path: str, message: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={quote(message)}", status_code=303)


# ---------------------------------------------------------------- parsing the forms


def proposal_from_form(form: FormData) -> dict[str, Any]:
    """The proposal's fields as typed (partner rows without an organisation are empty and
    left out); the workflow validates them."""
    partners = []
    for i in range(MAX_PARTNER_ROWS):
        organisation = form_text(form, f"p{i}_organisation")
        if not organisation:
            continue
        partner: dict[str, Any] = {
            "organisation": organisation,
            "country": form_text(form, f"p{i}_country"),
            "kind": form_text(form, f"p{i}_kind"),
            "own_funded": form.get(f"p{i}_own_funded") == "on",
            "coordinator": form.get(f"p{i}_coordinator") == "on",
        }
        for key in ("name", "funder"):
            if form_text(form, f"p{i}_{key}"):
                partner[key] = form_text(form, f"p{i}_{key}")
        if form_text(form, f"p{i}_requested_eur"):
            partner["requested_eur"] = form_text(form, f"p{i}_requested_eur")
        documents = [d.strip() for d in form_text(form, f"p{i}_documents").split(",") if d.strip()]
        if documents:
            partner["documents"] = documents
        partners.append(partner)
    return {
        "acronym": form_text(form, "acronym"),
        "title": form_text(form, "title"),
        "abstract": form_text(form, "abstract"),
        "modules": [m for m in form.getlist("modules") if isinstance(m, str) and m],
        "topics": [t.strip() for t in form_text(form, "topics").split(",") if t.strip()],
        "partners": partners,
    }


def _int(form: FormData, name: str) -> int:
    try:
        return int(form_text(form, name))
    except ValueError:
        raise CallInputError(name, form_text(form, name), "a whole number") from None


# ---------------------------------------------------------------- applicants


def _apply_page(
    request: Request,
    user: UserView,
    call_id: str,
    problem: str | None = None,
    typed: dict[int, dict[str, Any]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    workflow = workflow_of(request)
    call, stage = guarded(lambda: workflow.call_of(call_id))
    actor = actor_of(user)
    roles = workflow.roles_of(call_id, user.id)
    applicant = "applicant" in roles
    consortia = workflow.my_consortia(call_id, actor) if applicant else []
    for consortium in consortia:
        current = next((p for p in consortium["proposals"] if p["stage"] == stage), None)
        earlier = consortium["proposals"][-1] if consortium["proposals"] else None
        fields = (typed or {}).get(consortium["id"]) or (current or earlier or {}).get("fields")
        consortium["current"] = current
        consortium["form"] = fields or {"acronym": consortium["acronym"], "partners": []}
        rows = max(PARTNER_ROWS, len(consortium["form"].get("partners", [])) + 1)
        consortium["rows"] = min(rows, MAX_PARTNER_ROWS)
        consortium["open"] = (stage == 0 or consortium["invited"]) and not (
            current and current["state"] == "submitted"
        )
    return private(
        render(
            request,
            "calls/apply.html",
            {
                "call": call,
                "stage": stage,
                "applicant": applicant,
                "consortia": consortia,
                "problem": problem,
                "done": request.query_params.get("done"),
                "kinds": KINDS,
                "max_pdf_mb": MAX_PDF_BYTES // (1024 * 1024),
            },
            status_code=status_code,
        )
    )


@router.get("/calls/{call_id}/apply", response_class=HTMLResponse)
def apply_page(request: Request, user: Viewer, call_id: EntityId) -> HTMLResponse:
    return _apply_page(request, user, call_id)


def _refused_on_apply(
    request: Request,
    user: UserView,
    call_id: str,
    error: CallInputError,
    typed: dict[int, dict[str, Any]] | None = None,
) -> HTMLResponse:
    return _apply_page(request, user, call_id, str(error), typed, status_code=422)


@router.post("/calls/{call_id}/apply/register", response_class=HTMLResponse)
async def register(request: Request, user: Viewer, _csrf: CsrfOk, call_id: EntityId) -> Response:
    form = await request.form()
    workflow = workflow_of(request)
    try:
        guarded(
            lambda: workflow.register_applicant(call_id, actor_of(user), form_text(form, "email"))
        )
    except CallInputError as error:
        return _refused_on_apply(request, user, call_id, error)
    return done_redirect(f"/calls/{call_id}/apply", "You are registered as an applicant.")


@router.post("/calls/{call_id}/consortia", response_class=HTMLResponse)
async def new_consortium(
    request: Request, user: Viewer, _csrf: CsrfOk, call_id: EntityId
) -> Response:
    form = await request.form()
    workflow = workflow_of(request)
    try:
        guarded(
            lambda: workflow.register_consortium(
                call_id, actor_of(user), form_text(form, "acronym")
            )
        )
    except CallInputError as error:
        return _refused_on_apply(request, user, call_id, error)
    return done_redirect(f"/calls/{call_id}/apply", "Consortium registered.")


@router.post("/calls/{call_id}/join", response_class=HTMLResponse)
async def join(request: Request, user: Viewer, _csrf: CsrfOk, call_id: EntityId) -> Response:
    form = await request.form()
    workflow = workflow_of(request)
    try:
        guarded(lambda: workflow.join_consortium(call_id, actor_of(user), form_text(form, "code")))
    except CallInputError as error:
        return _refused_on_apply(request, user, call_id, error)
    return done_redirect(f"/calls/{call_id}/apply", "You joined the consortium.")


@router.post(
    "/calls/{call_id}/consortia/{consortium_id}/proposal",
    response_class=HTMLResponse,
    max_body_size=UPLOAD_BODY_BYTES,
)
async def save_proposal(
    request: Request, user: Viewer, _csrf: CsrfOk, call_id: EntityId, consortium_id: int
) -> Response:
    form = await request.form()
    fields = proposal_from_form(form)
    upload = form.get("pdf")
    pdf: bytes | None = None
    if isinstance(upload, UploadFile) and upload.filename:
        pdf = await upload.read(MAX_PDF_BYTES + 1)
    submit = form_text(form, "action") == "submit"
    workflow = workflow_of(request)
    try:
        guarded(lambda: workflow.save(consortium_id, actor_of(user), fields, pdf, submit=submit))
    except CallInputError as error:
        return _refused_on_apply(request, user, call_id, error, {consortium_id: fields})
    message = "Proposal submitted: a confirmation is on its way." if submit else "Draft saved."
    return done_redirect(f"/calls/{call_id}/apply", message)


@router.post("/calls/{call_id}/proposals/{proposal_id}/withdraw", response_class=HTMLResponse)
async def withdraw(
    request: Request, user: Viewer, _csrf: CsrfOk, call_id: EntityId, proposal_id: int
) -> Response:
    workflow = workflow_of(request)
    try:
        guarded(lambda: workflow.withdraw(proposal_id, actor_of(user)))
    except CallInputError as error:
        return _refused_on_apply(request, user, call_id, error)
    return done_redirect(f"/calls/{call_id}/apply", "Proposal withdrawn; the draft is kept.")


@router.post("/calls/{call_id}/check")
async def live_check(request: Request, call_id: EntityId) -> JSONResponse:
    """The consortium check of the form as typed (nothing stored, no login needed: it says
    only what the call's public rules say)."""
    form = await request.form()
    workflow = workflow_of(request)
    result = guarded(lambda: workflow.live_check(call_id, proposal_from_form(form)))
    return JSONResponse(result.to_dict())


@router.get("/calls/{call_id}/proposals/{proposal_id}.pdf")
def proposal_pdf(request: Request, user: Viewer, call_id: EntityId, proposal_id: int) -> Response:
    data = guarded(lambda: workflow_of(request).pdf(proposal_id, actor_of(user)))
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="proposal-{proposal_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


# ---------------------------------------------------------------- the secretariat


def _report_context(workflow: Workflow, call_id: str, actor: Actor) -> dict[str, Any]:
    """The last decision's funder report, success by country and their chart, or why the
    report is not shown (no decision yet, or one the ranking has moved away from)."""
    from permedhub.web.tools.common import figure_json

    try:
        found = guarded(lambda: workflow.decision_report(call_id, actor))
    except CallInputError as error:
        return {"report_stale": str(error)}
    if found is None:
        return {}
    tables = reports.decision_tables(found.call, found.proposals, found.decision)
    figure = reports.commitments_figure(tables["funders"])
    chart = {"key": "commitments", "json": figure_json(figure), "title": figure.layout.title.text}
    return {
        "report": records(tables["funders"]),
        "countries": records(tables["countries"]),
        "tables": list(tables),
        "figures": [chart],
    }


def _secretariat_page(
    request: Request,
    user: UserView,
    call_id: str,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from permedhub.web.tools.common import render_tool

    workflow = workflow_of(request)
    view = guarded(lambda: workflow.dashboard(call_id, actor_of(user)))
    audit = workflow.audit(call_id, actor_of(user))[-AUDIT_SHOWN:][::-1]
    # The report's chart: render_tool brings the Plotly bundle and the policy it needs.
    return private(
        render_tool(
            request,
            "calls/secretariat.html",
            {
                "view": view,
                "call": view.call,
                "problem": problem,
                "audit": audit,
                "done": request.query_params.get("done"),
                **_report_context(workflow, call_id, actor_of(user)),
            },
            status_code=status_code,
        )
    )


def _decision_of(request: Request, user: UserView, call_id: str) -> DecisionReport:
    """The last decision for the secretariat's downloads: 404 before one, 409 when the
    ranking has changed since it was made."""
    try:
        found = guarded(lambda: workflow_of(request).decision_report(call_id, actor_of(user)))
    except CallInputError as error:
        raise HTTPException(status_code=409, detail=str(error)) from None
    if found is None:
        raise HTTPException(status_code=404, detail=f"call = {call_id!r}: no funding decision yet")
    return found


@router.get("/calls/{call_id}/secretariat/decision.xlsx")
def decision_xlsx(request: Request, user: Viewer, call_id: EntityId) -> Response:
    """The decision's tables (funded, reserve, funders, countries, what-ifs), a sheet each."""
    found = _decision_of(request, user, call_id)
    return Response(
        reports.decision_workbook(found.call, found.proposals, found.decision),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{call_id}-decision.xlsx"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/calls/{call_id}/secretariat/decision/{table}.csv")
def decision_csv(request: Request, user: Viewer, call_id: EntityId, table: str) -> Response:
    """One table of the decision as a CSV download (text never a formula)."""
    found = _decision_of(request, user, call_id)
    tables = reports.decision_tables(found.call, found.proposals, found.decision)
    if table not in tables:
        raise HTTPException(
            status_code=404, detail=f"table = {table!r}: expected one of " + ", ".join(tables)
        )
    response = csv_response(tables[table], f"{call_id}-{table}.csv")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/calls/{call_id}/secretariat", response_class=HTMLResponse)
def secretariat(request: Request, user: Viewer, call_id: EntityId) -> HTMLResponse:
    return _secretariat_page(request, user, call_id)


@router.get("/calls/{call_id}/secretariat/proposals.csv")
def secretariat_csv(request: Request, user: Viewer, call_id: EntityId) -> Response:
    """The dashboard's proposal table (eligibility, reviews, outcome, what each funder pays)
    as a CSV download."""
    view = guarded(lambda: workflow_of(request).dashboard(call_id, actor_of(user)))
    funders = view.call.funder_ids()
    rows = [
        {
            "proposal": p["id"],
            "acronym": p["acronym"],
            "state": p["state"],
            "requested_eur": p["requested_eur"],
            "eligible": "" if p["eligible"] is None else p["eligible"],
            "broken_rules": "; ".join(b["rule"] for b in p["broken"]),
            "national": p["national"],
            "reviewers": p["reviewers"],
            "reviews": p["reviews"],
            "outcome": p["outcome"] or "",
            "order": p["rank"] or "",
            **{f"paid_by_{f}_eur": p["payments"].get(f, 0) for f in funders},
        }
        for p in view.proposals
    ]
    # Acronyms and reasons are typed by applicants and funders: never run as formulas.
    response = csv_response(pd.DataFrame(rows), f"{call_id}-proposals.csv")
    response.headers["Cache-Control"] = "no-store"
    return response


def _amount(form: FormData, name: str) -> Decimal | None:
    text = form_text(form, name)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CallInputError(name, text, "an amount in EUR such as 500000") from None


@router.post("/calls/{call_id}/secretariat/{step}", response_class=HTMLResponse)
async def secretariat_step(
    request: Request, user: Viewer, _csrf: CsrfOk, call_id: EntityId, step: str
) -> Response:
    form = await request.form()
    workflow, actor = workflow_of(request), actor_of(user)
    steps = {
        "eligibility": lambda: workflow.check_eligibility(call_id, actor),
        "invite": lambda: workflow.invite(
            call_id,
            actor,
            [int(x) for x in form.getlist("proposal") if isinstance(x, str) and x.isdigit()],
        ),
        "assign": lambda: workflow.assign_reviewers(call_id, actor, _int(form, "per_proposal")),
        "decide": lambda: workflow.decide(call_id, actor, _amount(form, "top_up_eur")),
        "adjust": lambda: workflow.adjust(
            _int(form, "proposal"),
            actor,
            form_text(form, "criterion"),
            form_text(form, "score"),
            form_text(form, "reason"),
        ),
    }
    if step not in steps:
        raise HTTPException(
            status_code=404, detail=f"step = {step!r}: expected one of " + ", ".join(steps)
        )
    try:
        guarded(steps[step])
    except CallInputError as error:
        return _secretariat_page(request, user, call_id, str(error), status_code=422)
    return done_redirect(f"/calls/{call_id}/secretariat", f"Step done: {step}.")


# ---------------------------------------------------------------- reviewers and funders


def _queue_page(
    request: Request,
    user: UserView,
    call_id: str,
    role: str,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A reviewer's or a funder's page: the call and what waits for this user in that role."""
    workflow = workflow_of(request)
    call, _ = guarded(lambda: workflow.call_of(call_id))
    queue_of = workflow.review_queue if role == "review" else workflow.funder_queue
    queue = guarded(lambda: queue_of(call_id, actor_of(user)))
    return private(
        render(
            request,
            f"calls/{role}.html",
            {
                "call": call,
                "queue": queue,
                "problem": problem,
                "done": request.query_params.get("done"),
            },
            status_code=status_code,
        )
    )


@router.get("/calls/{call_id}/review", response_class=HTMLResponse)
def review_page(request: Request, user: Viewer, call_id: EntityId) -> HTMLResponse:
    return _queue_page(request, user, call_id, "review")


@router.post("/calls/{call_id}/review/{proposal_id}", response_class=HTMLResponse)
async def review(
    request: Request, user: Viewer, _csrf: CsrfOk, call_id: EntityId, proposal_id: int
) -> Response:
    form = await request.form()
    workflow = workflow_of(request)
    given = {
        key.removeprefix("score_"): value
        for key, value in form.items()
        if key.startswith("score_") and isinstance(value, str)
    }
    try:
        if form_text(form, "conflict"):
            guarded(
                lambda: workflow.declare_conflict(
                    call_id, actor_of(user), form_text(form, "conflict"), proposal_id=proposal_id
                )
            )
        else:
            guarded(
                lambda: workflow.submit_review(
                    proposal_id, actor_of(user), given, form_text(form, "comment")
                )
            )
    except CallInputError as error:
        return _queue_page(request, user, call_id, "review", str(error), status_code=422)
    return done_redirect(f"/calls/{call_id}/review", f"Proposal {proposal_id}: saved.")


@router.get("/calls/{call_id}/funder", response_class=HTMLResponse)
def funder_page(request: Request, user: Viewer, call_id: EntityId) -> HTMLResponse:
    return _queue_page(request, user, call_id, "funder")


@router.post("/calls/{call_id}/funder/{proposal_id}/{partner}", response_class=HTMLResponse)
async def national_check(
    request: Request,
    user: Viewer,
    _csrf: CsrfOk,
    call_id: EntityId,
    proposal_id: int,
    partner: int,
) -> Response:
    form = await request.form()
    verdict = form_text(form, "verdict")
    workflow = workflow_of(request)
    try:
        if verdict not in ("accept", "reject"):
            raise CallInputError("verdict", verdict, "accept or reject")
        guarded(
            lambda: workflow.national_check(
                proposal_id, actor_of(user), partner, verdict == "accept", form_text(form, "reason")
            )
        )
    except CallInputError as error:
        return _queue_page(request, user, call_id, "funder", str(error), status_code=422)
    return done_redirect(
        f"/calls/{call_id}/funder", f"Proposal {proposal_id}, partner {partner}: saved."
    )
