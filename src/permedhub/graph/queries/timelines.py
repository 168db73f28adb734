"""The timeline of initiatives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from permedhub.graph.models import Initiative
from permedhub.graph.queries.common import initiative_filters, iso, status
from permedhub.graph.views import Timeline, TimelineItem


def timeline(
    session: Session, *, kinds: Sequence[str] | None = None, today: dt.date | None = None
) -> Timeline:
    today = today or dt.date.today()
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
            )
            for i in rows
        ],
    )
