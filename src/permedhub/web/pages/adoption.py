"""Regional adoption pages (regions/): the regions, the online survey form, the readiness
comparison and the events with their registration form. Routes parse, call one regions/
function and render; curators alone see and delete registrations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from permedhub.regions import analysis, events, survey
from permedhub.regions.places import places, places_frame
from permedhub.regions.report import barrier_figure, index_figure, readiness_figure
from permedhub.regions.schemas import CONSENT_TEXT, RegistrationIn
from permedhub.web.auth import CsrfChecked, CsrfOk, Curator, current_user
from permedhub.web.deps import SessionDep, engine_of
from permedhub.web.pages.rendering import render

router = APIRouter(include_in_schema=False, prefix="/adoption")


def _plots() -> dict[str, Any]:
    # Imported here: web.tools.common imports web.pages (rendering), which imports this module.
    from permedhub.web.tools.common import PLOTLY_JS_URL, bundled_stylesheet_ids

    return {"plotly_js_url": PLOTLY_JS_URL, "plotly_style_placeholders": bundled_stylesheet_ids()}


@router.get("", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "adoption/overview.html", {"places": places(session)})


# ---------------------------------------------------------------- survey
@router.get("/survey", response_class=HTMLResponse)
def survey_form(request: Request, session: SessionDep) -> HTMLResponse:
    return _survey_page(request, session, {}, [], saved=request.query_params.get("saved") == "1")


def _survey_page(
    request: Request,
    session: SessionDep,
    values: dict[str, str],
    issues: list[survey.SurveyIssue],
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "adoption/survey.html",
        {
            "columns": survey.COLUMNS,
            "dictionary": survey.data_dictionary(),
            "regions": places(session),
            "values": values,
            "errors": {i.column: f"{i.expected}" for i in issues},
            "saved": saved,
        },
        status_code=status_code,
    )


@router.post("/survey", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def survey_submit(request: Request, session: SessionDep) -> Response:
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in survey.NAMES}
    try:
        survey.store_answer(engine_of(request), values)
    except survey.SurveyError as exc:
        return _survey_page(request, session, values, exc.issues, status_code=422)
    return RedirectResponse("/adoption/survey?saved=1", status_code=303)


@router.get("/survey/template.{suffix}")
def survey_template(suffix: str) -> Response:
    if suffix == "csv":
        return Response(
            survey.template_csv().encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="readiness-survey.csv"'},
        )
    if suffix != "xlsx":
        raise HTTPException(404, f"template .{suffix}: expected .csv or .xlsx")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        body = survey.write_template(Path(folder) / "readiness-survey.xlsx").read_bytes()
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="readiness-survey.xlsx"'},
    )


# ---------------------------------------------------------------- readiness
@router.get("/readiness", response_class=HTMLResponse)
def readiness(
    request: Request,
    session: SessionDep,
    region: Annotated[list[str] | None, Query(max_length=8)] = None,
    weights: Annotated[str, Query(max_length=400)] = "",
) -> HTMLResponse:
    responses = survey.responses_frame(session)
    context: dict[str, Any] = {"weights_text": weights, "chosen": region or [], "error": None,
                               "items": survey.READINESS, "by_name": survey.BY_NAME,
                               "table": None, "figures": [], **_plots()}  # fmt: skip
    try:
        parsed = analysis.parse_weights(weights)
    except (ValidationError, ValueError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else None
        context["error"] = "; ".join(e["msg"] for e in errors) if errors else str(exc)
        return render(request, "adoption/readiness.html", context, status_code=422)
    context["weights"] = parsed.normalised()
    if responses.empty:
        return render(request, "adoption/readiness.html", context)
    frame = places_frame(session)
    table = analysis.compare(responses, frame, weights=parsed)
    context["answered"] = list(table.index)
    chosen = [code for code in (region or []) if code in table.index] or list(table.index)
    shown = table.loc[chosen]
    context["table"] = analysis.frame_records(shown, "region")
    context["stability"] = analysis.frame_records(
        analysis.rank_stability(responses, parsed, seed=0), "region"
    )
    context["one_at_a_time"] = analysis.frame_records(analysis.one_at_a_time(responses, parsed))
    from permedhub.web.tools.common import TOOLS_CSP, figure_json

    figures = [("index", index_figure(shown))]
    if len(chosen) == 1:
        figures += [("items", readiness_figure(table, chosen[0])),
                    ("barriers", barrier_figure(table, chosen[0]))]  # fmt: skip
    context["figures"] = [
        {"key": key, "json": figure_json(figure), "title": figure.layout.title.text}
        for key, figure in figures
    ]
    response = render(request, "adoption/readiness.html", context)
    # The tools' policy: the portal's, plus Plotly's one empty <style> element.
    response.headers["Content-Security-Policy"] = TOOLS_CSP
    return response


# ---------------------------------------------------------------- events
@router.get("/events", response_class=HTMLResponse)
def events_list(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "adoption/events.html", {"events": events.list_events(session)})


def _event_page(
    request: Request,
    session: SessionDep,
    event_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    deletion_link: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = next((e for e in events.list_events(session) if e.id == event_id), None)
    if view is None:
        raise HTTPException(404, f"event {event_id!r} does not exist")
    user = current_user(request)
    registrations = (
        events.registrations(session, event_id, role=user.role)
        if user and user.role in ("curator", "admin")
        else None
    )
    return render(
        request,
        "adoption/event.html",
        {"e": view, "values": values or {}, "errors": errors or {}, "message": message,
         "consent_text": CONSENT_TEXT, "registrations": registrations,
         "regions": places(session), "deletion_link": deletion_link},
        status_code=status_code,
    )  # fmt: skip


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, session: SessionDep, event_id: str) -> HTMLResponse:
    message = {"registered": "Thank you: your registration is recorded.",
               "deleted": "The registration was deleted."}.get(
        request.query_params.get("done", ""))  # fmt: skip
    return _event_page(request, session, event_id, message=message)


@router.post("/events/{event_id}/register", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def event_register(request: Request, session: SessionDep, event_id: str) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("name", "email", "organisation", "region")}
    try:
        data = RegistrationIn(**values, consent=form.get("consent") == "yes")
        receipt = events.register(engine_of(request), event_id, data)
    except ValidationError as exc:
        errors = {str(e["loc"][0]) if e["loc"] else "form": e["msg"].removeprefix("Value error, ")
                  for e in exc.errors()}  # fmt: skip
        return _event_page(request, session, event_id, values=values, errors=errors,
                           status_code=422)  # fmt: skip
    except events.EventError as exc:
        return _event_page(request, session, event_id, values=values,
                           errors={"form": str(exc)}, status_code=409)  # fmt: skip
    # Shown once, here, and not put in a redirect's URL (browser history, server logs).
    link = str(request.url_for("forget_form", token=receipt.deletion_token))
    return _event_page(
        request, session, event_id, message="Thank you: your registration is recorded.",
        deletion_link=link,
    )  # fmt: skip


@router.get("/forget/{token}", response_class=HTMLResponse, name="forget_form")
def forget_form(request: Request, token: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    return render(request, "adoption/forget.html", {"token": token, "error": None})


@router.post("/forget/{token}", response_class=HTMLResponse, dependencies=[CsrfChecked])
def forget(request: Request, token: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    try:
        event_id = events.delete_own(engine_of(request), token)
    except events.EventError as exc:
        return render(
            request, "adoption/forget.html", {"token": token, "error": str(exc)}, status_code=404
        )
    return render(request, "adoption/forget.html", {"token": None, "deleted": event_id,
                                                    "error": None})  # fmt: skip


@router.post("/events/{event_id}/open")
def event_open(
    request: Request, event_id: str, user: Curator, _: CsrfOk,
    is_open: Annotated[str, Form(alias="open")] = "yes",
) -> Response:  # fmt: skip
    try:
        events.set_registration_open(
            engine_of(request), event_id, is_open == "yes", role=user.role, actor=user.name
        )
    except events.EventError as exc:
        raise HTTPException(404, str(exc)) from None
    return RedirectResponse(f"/adoption/events/{event_id}", status_code=303)


@router.post("/events/{event_id}/outcomes")
def event_outcomes(
    request: Request, event_id: str, user: Curator, _: CsrfOk,
    outcomes: Annotated[str, Form(max_length=5000)] = "",
) -> Response:  # fmt: skip
    try:
        events.set_outcomes(engine_of(request), event_id, outcomes, role=user.role, actor=user.name)
    except events.EventError as exc:
        raise HTTPException(404, str(exc)) from None
    return RedirectResponse(f"/adoption/events/{event_id}", status_code=303)


@router.post("/registrations/{registration_id}/delete")
def registration_delete(
    request: Request, registration_id: int, user: Curator, _: CsrfOk,
    event: Annotated[str, Form(max_length=120)],
) -> Response:  # fmt: skip
    try:
        events.delete_registration(
            engine_of(request), registration_id, role=user.role, actor=user.name
        )
    except events.EventError as exc:
        raise HTTPException(404, str(exc)) from None
    return RedirectResponse(f"/adoption/events/{event}?done=deleted", status_code=303)


@router.post("/registrations/{registration_id}/attended")
def registration_attended(
    request: Request, registration_id: int, user: Curator, _: CsrfOk,
    event: Annotated[str, Form(max_length=120)],
    attended: Annotated[str, Form()] = "yes",
) -> Response:  # fmt: skip
    try:
        events.mark_attended(
            engine_of(request), registration_id, attended == "yes", role=user.role, actor=user.name
        )
    except events.EventError as exc:
        raise HTTPException(404, str(exc)) from None
    return RedirectResponse(f"/adoption/events/{event}", status_code=303)
