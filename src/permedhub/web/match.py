"""Partner search in the portal: ``GET /match`` (a shareable GET form: idea, topics, target
regions or countries, a seeded call, partners already chosen) ranks organisations with
`match.partners.search_partners` and shows each one's score parts and reasons; with
``complete=1`` and a call it also completes the consortium (`match.consortium`)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from permedhub.calls.documents import load_call, seeded_call_files
from permedhub.calls.model import Call
from permedhub.graph.models import Topic
from permedhub.graph.queries import list_regions
from permedhub.match.consortium import CannotComplete, complete_consortium
from permedhub.match.errors import MatchInputError
from permedhub.match.partners import WEIGHTS, as_call_partners, search_partners
from permedhub.web.deps import SessionDep
from permedhub.web.pages.rendering import render

router = APIRouter(prefix="/match", include_in_schema=False)


@cache
def seeded_calls() -> dict[str, Call]:
    return {path.stem: load_call(path) for path in seeded_call_files()}


@router.get("", response_class=HTMLResponse)
def partner_search(request: Request, session: SessionDep) -> HTMLResponse:
    params = request.query_params
    idea = params.get("idea", "")
    topics = params.getlist("topic")
    regions = [r for r in params.getlist("region") if r]
    chosen = [c for v in params.getlist("with") for c in re.split(r"[\s,]+", v) if c]
    call_id = params.get("call", "")
    own_funded = bool(params.get("own_funded"))
    topic_rows = session.execute(select(Topic.id, Topic.name).order_by(Topic.id)).all()
    context: dict[str, Any] = {
        "values": {"idea": idea, "topics": topics, "regions": regions, "with": chosen,
                   "call": call_id, "own_funded": own_funded},
        "topics": topic_rows,
        "regions": list_regions(session),
        "calls": sorted(seeded_calls()),
        "weights": WEIGHTS,
    }  # fmt: skip
    if not idea.strip():
        return render(request, "match.html", context)
    call = seeded_calls().get(call_id) if call_id else None
    try:
        if call_id and call is None:
            raise MatchInputError("call", call_id, f"one of {sorted(seeded_calls())}")
        context["result"] = search_partners(
            session, idea, topics=topics, regions=regions, partners=chosen, call=call,
            own_funded=own_funded, limit=25,
        )  # fmt: skip
        if params.get("complete") and call is not None:
            # Candidates for the completion come from the whole graph, not only the regions
            # shown: the call's rules decide where partners must come from.
            wide = search_partners(session, idea, topics=topics, partners=chosen, call=call,
                                   own_funded=own_funded, limit=200)  # fmt: skip
            partial = as_call_partners(session, call, chosen)
            context["completion"] = complete_consortium(
                call, partial, wide.frame(), own_funded=own_funded
            )
    except CannotComplete as exc:
        context["completion_problem"] = str(exc)
    except MatchInputError as exc:
        context["problem"] = str(exc)
        return render(request, "match.html", context, 422)
    return render(request, "match.html", context)
