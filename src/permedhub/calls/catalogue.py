"""The calls the portal lists: the package's real call documents and the calls published into
the workflow, each with what the server clock makes of its stages.

A call published into the workflow is shown with the document it runs on (`jtc_call`), which
takes the place of the seeded file of the same id: that is the version applicants are held
to. Ids are the graph's call ids, so a page joins a document to the graph's summary record
of the call and to the projects funded under it.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from permedhub.calls.documents import load_call, seeded_call_files
from permedhub.calls.model import Call
from permedhub.calls.store import CallRecord
from permedhub.calls.workflow_base import as_utc
from permedhub.graph.views import CallView

State = Literal["upcoming", "open", "closed", "unknown"]


@dataclass(frozen=True)
class CallDocument:
    """A call's document and where it comes from: the seed's file or the workflow."""

    call: Call
    seed_file: str | None = None
    # Set when the call is in the workflow: the stage open for submissions, since when.
    stage: int | None = None
    published_at: dt.datetime | None = None

    @property
    def published(self) -> bool:
        return self.stage is not None


@dataclass(frozen=True)
class Schedule:
    """Where a call stands on the clock: its state and the stage that state is about (the
    open one, the next to open, or the last one that closed; None without stages)."""

    state: State
    stage: str | None = None
    deadline: str | None = None  # ISO: a time with its offset, or a day for a graph summary


@functools.cache
def seeded() -> dict[str, tuple[Call, Path]]:
    """The seed's call documents by id (read once per process: they ship with the package)."""
    found = {}
    for path in seeded_call_files():
        call = load_call(path)
        found[call.id] = (call, path)
    return found


def seed_text(call_id: str) -> str | None:
    """The seeded file of a call as written (comments kept), for a curator to edit."""
    entry = seeded().get(call_id)
    return entry[1].read_text(encoding="utf-8") if entry else None


def documents(engine: Engine, call_id: str | None = None) -> dict[str, CallDocument]:
    """Every call document (or the one of `call_id`), published ones over seeded ones."""
    found = {
        key: CallDocument(call, seed_file=path.name)
        for key, (call, path) in seeded().items()
        if call_id in (None, key)
    }
    statement = select(CallRecord)
    if call_id is not None:
        statement = statement.where(CallRecord.id == call_id)
    with Session(engine) as session:
        for record in session.execute(statement).scalars():
            seed = found.get(record.id)
            found[record.id] = CallDocument(
                Call.model_validate(record.document),
                seed_file=seed.seed_file if seed else None,
                stage=record.stage,
                published_at=as_utc(record.published_at),
            )
    return found


def document(engine: Engine, call_id: str) -> CallDocument | None:
    return documents(engine, call_id).get(call_id)


def schedule(call: Call, now: dt.datetime, stage: int | None = None) -> Schedule:
    """The call's state at `now` (aware). A published call is about its open `stage`, as
    submissions are (`Workflow.save`); otherwise about the first stage not yet closed."""
    if stage is None:
        stage = next((i for i, s in enumerate(call.stages) if now <= s.deadline), None)
        if stage is None:
            last = call.stages[-1]
            return Schedule("closed", last.name, last.deadline.isoformat())
    current = call.stages[stage]
    if current.opens is not None and now < current.opens:
        return Schedule("upcoming", current.name, current.deadline.isoformat())
    state: State = "open" if now <= current.deadline else "closed"
    return Schedule(state, current.name, current.deadline.isoformat())


def summary_schedule(view: CallView, today: dt.date) -> Schedule:
    """A graph call's state from its summary's days (no time of day, no time zone): closed
    only once the last deadline's day is over, unknown without deadlines."""
    deadlines = summary_deadlines(view)
    if not deadlines:
        return Schedule("unknown")
    if view.opening and today < dt.date.fromisoformat(view.opening[:10]):
        name, day = deadlines[0]
        return Schedule("upcoming", name, day)
    for name, day in deadlines:
        if today <= dt.date.fromisoformat(day[:10]):
            return Schedule("open", name, day)
    name, day = deadlines[-1]
    return Schedule("closed", name, day)


def funder_marks(call: Call, index: int) -> tuple[dict[str, str], dict[str, str]]:
    """The doubts and sources of the call's funder at `index`, keyed by its own fields:
    those the funder's entry holds and those the call keys by the funder's path."""
    funder = call.funders[index]
    prefix = f"funders[{index}]."
    doubts, sources = dict(funder.uncertain), dict(funder.sources)
    for marks, merged in ((call.uncertain, doubts), (call.sources, sources)):
        merged.update({k[len(prefix) :]: v for k, v in marks.items() if k.startswith(prefix)})
    return doubts, sources


@dataclass(frozen=True)
class Listing:
    """One line of the list of calls: from its document where there is one, else from the
    graph's summary; values neither states are None (shown as unknown)."""

    id: str
    title: str
    initiative_id: str | None
    year: int | None
    stages: list[tuple[str, str]]  # (stage, deadline in ISO)
    funders_count: int | None
    funders_listed: int
    budget_eur: float | None
    uncertain: dict[str, str]  # field -> the doubt, of funders_count and budget_eur
    approximate: dict[str, str]  # field -> the note (graph summaries mark approximations)
    schedule: Schedule
    documented: bool
    published: bool
    synthetic: bool


def listing(
    docs: dict[str, CallDocument], summaries: list[CallView], now: dt.datetime
) -> list[Listing]:
    """Every call of `docs` and of the graph's `summaries`, newest first."""
    by_id = {view.id: view for view in summaries}
    rows = [_documented(doc, by_id.get(key), now) for key, doc in docs.items()]
    rows += [_summarised(view, now.date()) for key, view in by_id.items() if key not in docs]
    return sorted(rows, key=lambda r: (-(r.year or 0), r.id))


def _documented(doc: CallDocument, view: CallView | None, now: dt.datetime) -> Listing:
    call = doc.call
    doubts = {k: v for k, v in call.uncertain.items() if k in ("funders_count", "budget_eur")}
    return Listing(
        id=call.id,
        title=call.title,
        initiative_id=view.initiative_id if view else None,
        year=view.year if view and view.year else call.stages[0].deadline.year,
        stages=[(s.name, s.deadline.isoformat()) for s in call.stages],
        funders_count=call.funders_count,
        funders_listed=len(call.funders),
        budget_eur=None if call.budget_eur is None else float(call.budget_eur),
        uncertain=doubts,
        approximate={},
        schedule=schedule(call, now, doc.stage),
        documented=True,
        published=doc.published,
        synthetic=call.synthetic,
    )


def summary_deadlines(view: CallView) -> list[tuple[str, str]]:
    """A graph call's deadlines as (stage, day), those its summary records."""
    named = (
        ("pre-proposal", view.pre_proposal_deadline),
        ("full proposal", view.full_proposal_deadline),
    )
    return [(name, day) for name, day in named if day]


def _summarised(view: CallView, today: dt.date) -> Listing:
    marked = ("funders_count", "budget_eur")
    return Listing(
        id=view.id,
        title=view.title,
        initiative_id=view.initiative_id,
        year=view.year,
        stages=summary_deadlines(view),
        funders_count=view.funders_count,
        funders_listed=len(view.funders),
        budget_eur=view.budget_eur,
        uncertain={k: v for k, v in view.uncertain.items() if k in marked},
        approximate={k: v for k, v in view.approximate.items() if k in marked},
        schedule=summary_schedule(view, today),
        documented=False,
        published=False,
        synthetic=False,
    )
