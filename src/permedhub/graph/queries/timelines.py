"""The timeline of initiatives, and the same with each call's funded projects as one bar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from permedhub.graph.models import Call, Initiative
from permedhub.graph.queries.common import initiative_filters, iso, status
from permedhub.graph.views import Timeline, TimelineItem


def timeline(
    session: Session, *, kinds: Sequence[str] | None = None, today: dt.date | None = None
) -> Timeline:
    today = today or dt.date.today()
    calls = set(session.execute(select(Call.id)).scalars())
    # Only the columns a bar needs: whole rows would load every initiative's JSON documents.
    rows = session.execute(
        select(
            Initiative.id,
            Initiative.acronym,
            Initiative.name,
            Initiative.kind,
            Initiative.start_date,
            Initiative.end_date,
            Initiative.start_precision,
            Initiative.end_precision,
            Initiative.uncertain,
            Initiative.call_topic,
        )
        .where(*initiative_filters(kinds, None, None))
        .order_by(Initiative.start_date.is_(None), Initiative.start_date, Initiative.id)
    )
    return Timeline(
        today=today.isoformat(),
        items=[
            TimelineItem(
                id=i.id,
                label=i.acronym or i.name,
                kind=i.kind,
                start=iso(i.start_date),
                end=iso(i.end_date),
                start_precision=i.start_precision,
                end_precision=i.end_precision,
                status=status(i.start_date, i.end_date, today),
                uncertain={k: v for k, v in (i.uncertain or {}).items() if k in ("start", "end")},
                call=i.call_topic if i.kind == "project" and i.call_topic in calls else None,
            )
            for i in rows
        ],
    )


def by_call(session: Session, timeline: Timeline) -> Timeline:
    """`timeline` with the projects of each call drawn as one bar, where the first of them
    would be: from the first project's start to the last one's end (open if any is)."""
    groups: dict[str, list[TimelineItem]] = {}
    for item in timeline.items:
        if item.call is not None and item.start is not None:
            groups.setdefault(item.call, []).append(item)
    if not groups:
        return timeline
    labels = {
        call_id: f"{acronym or name} call {year}" if year else f"{acronym or name} {call_id}"
        for call_id, year, acronym, name in session.execute(
            select(Call.id, Call.year, Initiative.acronym, Initiative.name)
            .join(Initiative, Initiative.id == Call.initiative_id)
            .where(Call.id.in_(groups))
        )
    }
    today = dt.date.fromisoformat(timeline.today)
    items: list[TimelineItem] = []
    for item in timeline.items:
        projects = groups.get(item.call or "") if item.start is not None else None
        if projects is None:
            items.append(item)
        elif item is projects[0]:
            items.append(_call_bar(item.call or "", labels, projects, today))
    return Timeline(today=timeline.today, items=items)


def _call_bar(
    call_id: str, labels: dict[str, str], projects: list[TimelineItem], today: dt.date
) -> TimelineItem:
    starts = [p.start for p in projects if p.start]
    ends = [p.end for p in projects]
    end = None if None in ends else max(e for e in ends if e)
    start = min(starts)
    vague = any(p.uncertain or "year" in (p.start_precision, p.end_precision) for p in projects)
    uncertain = {"dates": "the dates of some of its projects are uncertain"} if vague else {}
    return TimelineItem(
        id=call_id,
        label=labels.get(call_id, call_id),
        kind="call",
        start=start,
        end=end,
        status=status(
            dt.date.fromisoformat(start), dt.date.fromisoformat(end) if end else None, today
        ),
        uncertain=uncertain,
        call=call_id,
        projects=len(projects),
    )
