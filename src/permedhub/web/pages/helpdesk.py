"""The clinical-trials helpdesk's pages: ask, compare countries, ask an expert (a ticket), read an
FAQ entry; and, for helpdesk experts (the curator role), the queue of tickets.

Public pages are offered in English, Spanish and Portuguese (web.i18n); the experts' pages sit
in the curator area, in English like the rest of it. Each route calls one library function
(helpdesk.asking, helpdesk.comparing, helpdesk.tickets) and renders what it returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from permedhub import config
from permedhub.helpdesk import tickets
from permedhub.helpdesk.asking import AskError, ask
from permedhub.helpdesk.comparing import (
    ASPECT_LABELS,
    MAX_COUNTRIES,
    CompareError,
    compare,
    jurisdictions,
    to_csv,
    to_html,
)
from permedhub.helpdesk.indexing import facts
from permedhub.helpdesk.schemas import Topic
from permedhub.helpdesk.settings import set_stale_days, stale_days
from permedhub.validation import InputError
from permedhub.web.auth import CsrfOk, Curator
from permedhub.web.deps import SessionDep, engine_of
from permedhub.web.i18n import language_context, remember_language
from permedhub.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
Countries = Annotated[list[str] | None, Query(max_length=8)]
TOPICS: tuple[str, ...] = Topic.__args__  # type: ignore[attr-defined]
# A downloaded comparison styles itself inline and loads nothing.
EXPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _stale_before(session: Session) -> dt.date:
    return dt.date.today() - dt.timedelta(days=stale_days(session))


def _page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A public helpdesk page in the visitor's language."""
    response = render(
        request, template, {**language_context(request), **context}, status_code=status_code
    )
    remember_language(request, response)
    return response


def _chosen(values: list[str] | None) -> list[str]:
    return [v.strip() for v in values or [] if v and v.strip()]


# ---------------------------------------------------------------- asking


@router.get("/helpdesk", response_class=HTMLResponse)
def helpdesk_home(
    request: Request,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=4000)] = None,
    country: Countries = None,
) -> HTMLResponse:
    chosen = _chosen(country)
    result, problem = None, None
    if q is not None:  # the form was sent: an empty question is named as such
        try:
            result = ask(session, q, countries=chosen)
        except AskError as exc:
            problem = exc
    return _page(
        request,
        "helpdesk/home.html",
        {
            "q": q or "",
            "chosen": chosen,
            "choices": jurisdictions(session),
            "result": result,
            "problem": problem,
            "stale_before": _stale_before(session),
            "aspect_labels": ASPECT_LABELS,
        },
        status_code=422 if problem else 200,
    )


@router.get("/helpdesk/faq/{faq_id}", response_class=HTMLResponse)
def faq_page(request: Request, session: SessionDep, faq_id: str) -> HTMLResponse:
    entry = tickets.get_faq(session, faq_id[:120])
    if entry is None:
        raise HTTPException(404, f"no FAQ entry {faq_id[:120]!r}")
    return _page(
        request, "helpdesk/faq.html", {"entry": entry, "stale_before": _stale_before(session)}
    )


@router.get("/helpdesk/facts/{kind}/{fact_id}", response_class=HTMLResponse)
def fact_page(request: Request, session: SessionDep, kind: str, fact_id: str) -> HTMLResponse:
    """One body, rule or funder of the knowledge base, as search results link to it."""
    found = next(
        (f for f in facts(session.connection()) if f.kind == kind and f.id == fact_id[:120]),
        None,
    )
    if found is None or kind == "faq":
        raise HTTPException(404, f"no helpdesk {kind[:20]!r} fact {fact_id[:120]!r}")
    return _page(
        request, "helpdesk/fact.html", {"fact": found, "stale_before": _stale_before(session)}
    )


# ---------------------------------------------------------------- comparing


@router.get("/helpdesk/compare", response_class=HTMLResponse)
def compare_page(request: Request, session: SessionDep, country: Countries = None) -> HTMLResponse:
    chosen = _chosen(country)
    comparison, problem = None, None
    if chosen:
        try:
            comparison = compare(session, chosen)
        except CompareError as exc:
            problem = exc
    return _page(
        request,
        "helpdesk/compare.html",
        {
            "chosen": chosen + [""] * (MAX_COUNTRIES - len(chosen)),
            "choices": jurisdictions(session),
            "comparison": comparison,
            "problem": problem,
            "export_query": request.url.query,
        },
        status_code=422 if problem else 200,
    )


def _export(session: Any, country: list[str] | None) -> Any:
    try:
        return compare(session, _chosen(country))
    except CompareError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/helpdesk/compare.csv")
def compare_csv(session: SessionDep, country: Countries = None) -> Response:
    comparison = _export(session, country)
    return Response(
        ("\ufeff" + to_csv(comparison)).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="helpdesk-compare-'
            + "-".join(comparison.countries)
            + '.csv"'
        },
    )


@router.get("/helpdesk/compare.html")
def compare_html(session: SessionDep, country: Countries = None) -> Response:
    comparison = _export(session, country)
    return Response(
        to_html(comparison),
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="helpdesk-compare-'
            + "-".join(comparison.countries)
            + '.html"',
            "Content-Security-Policy": EXPORT_POLICY,
        },
    )


# ---------------------------------------------------------------- asking an expert (tickets)


def _shown(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Form values as the form shows them again: what was not text (a file) as empty."""
    if values is None:
        return None
    return {
        key: value if isinstance(value, str | bool | list | type(None)) else ""
        for key, value in values.items()
    }


def _errors(exc: tickets.TicketError) -> dict[str, str]:
    """Each refused form field's first problem, with the value given (a list item's position
    and an FAQ field's prefix dropped: the form has one box per field)."""
    errors: dict[str, str] = {}
    for p in exc.problems:
        field = p.field.removeprefix("faq.").split(".")[0]
        shown = repr(p.value) if isinstance(p.value, str | int | list | type(None)) else "a file"
        given = shown if len(shown) <= 60 else shown[:57] + "..."
        errors.setdefault(field, f"{p.expected} (given: {given})")
    return errors


def _ticket_form(
    request: Request,
    session: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    retry_after: int | None = None,
) -> HTMLResponse:
    response = _page(
        request,
        "helpdesk/ticket_form.html",
        {
            "values": _shown(values),
            "errors": errors,
            "choices": jurisdictions(session),
            "retry_after": retry_after,
        },
        status_code=status_code,
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/helpdesk/ask-an-expert", response_class=HTMLResponse)
def ticket_form(
    request: Request,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=2000)] = None,
    country: Countries = None,
) -> HTMLResponse:
    values = {"name": "", "email": "", "question": q or "", "countries": _chosen(country)}
    return _ticket_form(request, session, values, {})


@router.post("/helpdesk/ask-an-expert", response_class=HTMLResponse)
async def submit_ticket(request: Request, session: SessionDep, _csrf: CsrfOk) -> Response:
    form = await request.form()
    # A file sent in place of a text field is passed on as it is, for the schema to refuse.
    values = {
        "name": form.get("name") or "",
        "email": form.get("email") or "",
        "question": form.get("question") or "",
        "countries": [
            v.strip() if isinstance(v, str) else v for v in form.getlist("countries") if v
        ],
        "language": language_context(request)["page_lang"],
    }
    try:
        tickets.submit(engine_of(request), values, client_address=_client(request))
    except tickets.RateLimited as exc:
        return _ticket_form(
            request,
            session,
            values,
            {p.field: p.expected for p in exc.problems},
            status_code=429,
            retry_after=exc.retry_after,
        )
    except tickets.TicketError as exc:
        return _ticket_form(request, session, values, _errors(exc), status_code=422)
    return RedirectResponse("/helpdesk/ask-an-expert/sent", status_code=303)


@router.get("/helpdesk/ask-an-expert/sent", response_class=HTMLResponse)
def ticket_sent(request: Request) -> HTMLResponse:
    return _page(request, "helpdesk/ticket_sent.html", {})


# ---------------------------------------------------------------- the experts' queue


@router.get("/curate/helpdesk", response_class=HTMLResponse)
def queue_page(
    request: Request, user: Curator, session: SessionDep, problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    return render(
        request,
        "curate/helpdesk_queue.html",
        {"tickets": tickets.queue(session), "open": tickets.open_count(session),
         "stale_days": stale_days(session), "settings_problem": problem,
         "saved": request.query_params.get("saved") == "1"},
        status_code=status_code,
    )  # fmt: skip


@router.post("/curate/helpdesk/settings", response_model=None)
async def save_settings(
    request: Request, user: Curator, _csrf: CsrfOk, session: SessionDep
) -> Response:
    form = await request.form()
    text = str(form.get("stale_days") or "").strip()
    try:
        set_stale_days(engine_of(request), int(text) if text.isdigit() else text, actor=user.name)
    except InputError as exc:
        return queue_page(request, user, session, problem=str(exc), status_code=422)
    return RedirectResponse("/curate/helpdesk?saved=1", status_code=303)


def _ticket_page(
    request: Request,
    session: Any,
    ticket_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        ticket = tickets.get_ticket(session, ticket_id)
    except tickets.TicketNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    # A published answer is changed from the FAQ entry as published, not from the ticket.
    published = tickets.get_faq(session, ticket.faq_id) if ticket.faq_id else None
    return render(
        request,
        "curate/helpdesk_ticket.html",
        {
            "ticket": ticket,
            "values": _shown(values)
            or {
                "answer": ticket.answer or "",
                "faq_question": published.question if published else ticket.question or "",
                "topics": published.topics if published else [],
                "publish": True,
            },
            "errors": errors or {},
            "topics": TOPICS,
        },
        status_code=status_code,
    )


@router.get("/curate/helpdesk/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    request: Request, user: Curator, session: SessionDep, ticket_id: int
) -> HTMLResponse:
    return _ticket_page(request, session, ticket_id)


@router.post("/curate/helpdesk/{ticket_id}/answer", response_class=HTMLResponse)
async def answer_ticket(
    request: Request, user: Curator, _csrf: CsrfOk, session: SessionDep, ticket_id: int
) -> Response:
    form = await request.form()
    values = {
        "answer": form.get("answer") or "",
        "faq_question": form.get("faq_question") or None,
        "topics": list(form.getlist("topics")),
        "publish": form.get("publish") == "1",
    }
    try:
        smtp = config.smtp_settings()
    except ValueError as exc:  # a bad PERMEDHUB_SMTP_*: the expert sees why no mail went out
        raise HTTPException(500, str(exc)) from exc
    try:
        result = tickets.answer(engine_of(request), ticket_id, values, actor=user.name, smtp=smtp)
    except tickets.TicketNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except tickets.TicketError as exc:
        return _ticket_page(request, session, ticket_id, values, _errors(exc), status_code=422)
    outcome = "mailed" if result.mailed else "not-mailed"
    return RedirectResponse(f"/curate/helpdesk/{ticket_id}?done={outcome}", status_code=303)


@router.post("/curate/helpdesk/{ticket_id}/anonymise")
def anonymise_ticket(request: Request, user: Curator, _csrf: CsrfOk, ticket_id: int) -> Response:
    try:
        tickets.anonymise(engine_of(request), ticket_id, actor=user.name)
    except tickets.TicketNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    return RedirectResponse(f"/curate/helpdesk/{ticket_id}?done=anonymised", status_code=303)
