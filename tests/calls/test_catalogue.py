"""Where a call stands on the server clock: open, closed or upcoming, as submissions are
judged (deadlines compared as instants, whatever their time zone)."""

from __future__ import annotations

import datetime as dt

from calls_world import CALL_FILE
from permedhub.calls.catalogue import schedule, seeded, summary_schedule
from permedhub.calls.documents import load_call
from permedhub.graph.views import CallView

UTC = dt.UTC


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_a_call_document_is_upcoming_open_then_closed_stage_by_stage() -> None:
    call = load_call(CALL_FILE)  # pre-proposals 2026-01-12 09:00+01:00 .. 2026-03-05 14:00+01:00
    assert schedule(call, _at(2026, 1, 12, 7, 59)).state == "upcoming"
    assert schedule(call, _at(2026, 1, 12, 8, 0)).state == "open"
    opened = schedule(call, _at(2026, 3, 5, 13, 0))
    assert (opened.state, opened.stage) == ("open", "pre-proposal")
    after = schedule(call, _at(2026, 3, 5, 13, 0, 1))
    assert (after.state, after.stage) == ("open", "full proposal")
    closed = schedule(call, _at(2026, 6, 18, 12, 0, 1))
    assert (closed.state, closed.stage, closed.deadline) == (
        "closed", "full proposal", "2026-06-18T14:00:00+02:00",
    )  # fmt: skip


def test_a_published_call_is_read_at_the_stage_it_is_at() -> None:
    call = load_call(CALL_FILE)
    late = schedule(call, _at(2026, 3, 5, 13, 0, 1), stage=0)
    assert (late.state, late.stage) == ("closed", "pre-proposal")
    assert schedule(call, _at(2026, 5, 1), stage=1).state == "open"


def test_the_seeded_real_calls_are_closed_now() -> None:
    now = dt.datetime.now(UTC)
    assert {key: schedule(call, now).state for key, (call, _) in seeded().items()} == {
        f"erapermed-jtc{year}": "closed" for year in range(2018, 2023)
    }


def test_a_graph_summary_is_judged_by_its_days() -> None:
    view = CallView(
        id="x",
        initiative_id="y",
        title="t",
        opening="2023-01-13",
        full_proposal_deadline="2023-03-14",
    )
    assert summary_schedule(view, dt.date(2023, 1, 12)).state == "upcoming"
    assert summary_schedule(view, dt.date(2023, 3, 14)).state == "open"
    assert summary_schedule(view, dt.date(2023, 3, 15)).state == "closed"
    assert (
        summary_schedule(CallView(id="x", initiative_id="y", title="t"), dt.date(2023, 1, 1)).state
        == "unknown"
    )
