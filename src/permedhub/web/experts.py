"""The expert register and working-group selection in the portal.

``/match/experts`` lists the register (public fields only; filters by topic, country and graph
region; a CSV twin). A logged-in portal user lists themself at ``/match/experts/register``
with explicit consent to `match.experts.CONSENT_STATEMENT`; their listing is theirs because
its id is made from their account (`own_listing_id`), so the register needs no owner column.
They delete it at any time, a curator deletes any. ``/match/group`` (logged in) chooses a
working group from the register by MILP (`match.working_group`), with why each member is
there or which constraint binds; ``/match/group.csv`` is the chosen group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.atlas.data import country_names
from permedhub.graph.curation import UserView, role_rank
from permedhub.graph.models import Topic
from permedhub.graph.queries import list_regions
from permedhub.match import experts
from permedhub.match.errors import MatchInputError
from permedhub.match.models import Expert
from permedhub.match.working_group import (
    GroupRequest,
    Infeasible,
    WorkingGroup,
    select_working_group,
)
from permedhub.web.auth import CsrfOk, Viewer, current_user
from permedhub.web.deps import EntityId, SessionDep, engine_of
from permedhub.web.pages.rendering import csv_response, form_text, private, render

router = APIRouter(prefix="/match", include_in_schema=False)
LISTING_FIELDS = ("name", "email", "country", "sector", "organisation", "expertise")
GROUP_REGIONS = (*experts.BALANCE_REGIONS, experts.OTHER_REGION)


def own_listing_id(user: UserView) -> str:
    """The id of the listing a portal user made of themself (one per account)."""
    return f"portal-user-{user.id}"


def _is_curator(user: UserView | None) -> bool:
    return user is not None and role_rank(user.role) >= role_rank("curator")


def _topics(session: Session) -> list[dict[str, str]]:
    rows = session.execute(select(Topic.id, Topic.name).order_by(Topic.id)).all()
    return [{"id": t, "name": n} for t, n in rows]


def _countries(session: Session) -> list[tuple[str, str]]:
    names = country_names(session.connection())
    return sorted(names.items(), key=lambda item: item[1])


# ---------------------------------------------------------------- the register


def _filters(request: Request) -> dict[str, str | None]:
    params = request.query_params
    return {key: params.get(key, "").strip() or None for key in ("topic", "country", "region")}


@router.get("/experts", response_class=HTMLResponse)
def register_page(request: Request, session: SessionDep) -> HTMLResponse:
    filters = _filters(request)
    user = current_user(request)
    topics = _topics(session)
    context: dict[str, Any] = {
        "filters": filters,
        "topics": topics,
        "topic_names": {t["id"]: t["name"] for t in topics},
        "countries": _countries(session),
        "regions": list_regions(session),
        "own_id": own_listing_id(user) if user else None,
        "curator": _is_curator(user),
        "done": request.query_params.get("done"),
    }
    try:
        frame = experts.public_frame(session, **filters)
    except MatchInputError as exc:
        context.update(problem=str(exc), listings=[], contacts={})
        return render(request, "experts/register_list.html", context, 422)
    context["listings"] = frame.to_dict("records")
    # E-mail addresses are for curators (the consent statement says so): nobody else's page
    # or CSV carries them.
    context["contacts"] = experts.contacts(session) if context["curator"] else {}
    response = render(request, "experts/register_list.html", context)
    return private(response) if user else response


@router.get("/experts.csv")
def register_csv(request: Request, session: SessionDep) -> Response:
    try:
        frame = experts.public_frame(session, **_filters(request))
    except MatchInputError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return csv_response(frame, "experts.csv")


def _form_page(
    request: Request,
    session: Session,
    user: UserView,
    values: dict[str, Any],
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listed = session.get(Expert, own_listing_id(user)) is not None
    context = {
        "values": values,
        "problem": problem,
        "listed": listed,
        "own_id": own_listing_id(user),
        "consent_statement": experts.CONSENT_STATEMENT,
        "topics": _topics(session),
        "countries": _countries(session),
        "sectors": experts.SECTORS,
    }
    return private(render(request, "experts/register_form.html", context, status_code))


@router.get("/experts/register", response_class=HTMLResponse)
def register_form(request: Request, session: SessionDep, user: Viewer) -> HTMLResponse:
    mine = session.get(Expert, own_listing_id(user))
    values: dict[str, Any] = {"name": user.name, "topics": []}
    if mine is not None:
        values = {**mine.public(), "email": mine.email or ""}
    return _form_page(request, session, user, values)


def _listing_from_form(form: Mapping[str, Any], topics: list[str], user: UserView) -> dict:
    """The form as an `experts.ExpertIn` record; the statement is the one the page showed."""
    if form.get("consent") != "yes":
        raise MatchInputError(
            "consent", "not ticked", "the box ticked: without your consent nothing is stored"
        )
    record: dict[str, Any] = {
        key: form_text(form, key) or None for key in LISTING_FIELDS if key != "name"
    }
    record.update(
        id=own_listing_id(user),
        name=form_text(form, "name"),
        topics=topics,
        consent=True,
        consent_statement=experts.CONSENT_STATEMENT,
    )
    return record


@router.post("/experts/register", response_class=HTMLResponse)
async def register_self(
    request: Request, session: SessionDep, user: Viewer, _csrf: CsrfOk
) -> Response:
    form = await request.form()
    topics = [t for t in form.getlist("topics") if isinstance(t, str) and t]
    typed = {key: form_text(form, key) for key in LISTING_FIELDS} | {"topics": topics}
    try:
        record = _listing_from_form(form, topics, user)
        experts.register(engine_of(request), [record], actor=user.name)
    except MatchInputError as exc:
        # The library names the record's place in a list; the form has one record.
        field = exc.field.removeprefix("experts[0].")
        problem = str(MatchInputError(field, exc.value, exc.expected))
        return _form_page(request, session, user, typed, problem, 422)
    message = "You are listed in the expert register."
    return RedirectResponse(f"/match/experts?done={quote(message)}", status_code=303)


@router.post("/experts/{expert_id}/delete", response_class=HTMLResponse)
async def delete_listing(
    request: Request, user: Viewer, _csrf: CsrfOk, expert_id: EntityId
) -> Response:
    if expert_id != own_listing_id(user) and not _is_curator(user):
        raise HTTPException(
            status_code=403,
            detail=f"{user.name} may delete only their own listing; a curator deletes others.",
        )
    try:
        experts.delete(engine_of(request), expert_id, actor=user.name)
    except MatchInputError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    message = f"The listing {expert_id} is deleted."
    return RedirectResponse(f"/match/experts?done={quote(message)}", status_code=303)


# ---------------------------------------------------------------- working groups


def _whole(params: Mapping[str, Any], name: str) -> int | None:
    """A whole-number field; None when blank."""
    raw = form_text(params, name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise MatchInputError(name, raw, "a whole number") from None


def _minimums(params: Mapping[str, Any], prefix: str, groups: tuple[str, ...]) -> dict[str, int]:
    counts = {}
    for group in groups:
        value = _whole(params, f"{prefix}{group}")
        if value:
            counts[group] = value
    return counts


def _ids(params: Mapping[str, Any], name: str) -> list[str]:
    return [part for part in form_text(params, name).replace(",", " ").split() if part]


def group_request(session: Session, params: Any) -> GroupRequest:
    """The query string as a checked GroupRequest; MatchInputError names the field."""
    topics = [t for t in params.getlist("topic") if t]
    experts.check_topics(session, topics, "topic")
    size = _whole(params, "size")
    if size is None:
        raise MatchInputError("size", "", "a whole number of experts, at least 1")
    cover = _whole(params, "cover")
    request = GroupRequest(
        size=size,
        topics=topics,
        cover=1 if cover is None else cover,
        region_min=_minimums(params, "region_min_", GROUP_REGIONS),
        sector_min=_minimums(params, "sector_min_", experts.SECTORS),
        max_per_region=_whole(params, "max_per_region"),
        include=_ids(params, "include"),
        exclude=_ids(params, "exclude"),
    )
    request.check()
    return request


def members_table(group: WorkingGroup, register: pd.DataFrame) -> pd.DataFrame:
    """The chosen experts with their public name and country, and the wanted topics each holds."""
    members = group.members.merge(register[["expert_id", "name", "country"]], on="expert_id")
    return pd.DataFrame(
        {
            "expert_id": members["expert_id"],
            "name": members["name"],
            "country": members["country"],
            "region": members["region"],
            "sector": members["sector"],
            "wanted_topics_held": members["matched"].map("; ".join),
        }
    )


def _chosen(session: Session, request: Request) -> tuple[GroupRequest, WorkingGroup, pd.DataFrame]:
    """The request, the group and its members table (MatchInputError, Infeasible as raised)."""
    wanted = group_request(session, request.query_params)
    register = experts.register_frame(session)
    group = select_working_group(register, wanted)
    return wanted, group, members_table(group, register)


@router.get("/group", response_class=HTMLResponse)
def group_page(request: Request, session: SessionDep, user: Viewer) -> HTMLResponse:
    params = request.query_params
    topics = _topics(session)
    context: dict[str, Any] = {
        "params": params,
        "chosen_topics": params.getlist("topic"),
        "topics": topics,
        "topic_names": {t["id"]: t["name"] for t in topics},
        "regions": GROUP_REGIONS,
        "sectors": experts.SECTORS,
        "register_size": session.scalar(select(func.count()).select_from(Expert)),
    }
    if "size" not in params:
        return private(render(request, "experts/working_group.html", context))
    try:
        wanted, group, members = _chosen(session, request)
    except MatchInputError as exc:
        context["problem"] = str(exc)
        return private(render(request, "experts/working_group.html", context, 422))
    except Infeasible as exc:
        context["binding"] = exc.binding
        return private(render(request, "experts/working_group.html", context))
    context.update(
        wanted=wanted,
        group=group,
        members=members.to_dict("records"),
        csv_query=request.url.query,
    )
    return private(render(request, "experts/working_group.html", context))


@router.get("/group.csv")
def group_csv(request: Request, session: SessionDep, user: Viewer) -> Response:
    try:
        _wanted, _group, members = _chosen(session, request)
    except (MatchInputError, Infeasible) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return csv_response(members, "working-group.csv")
