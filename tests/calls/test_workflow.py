"""The call workflow end to end on a real database and a real SMTP server: each step by the
role it needs, deadlines on a controllable clock, every state change mailed and audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from calls_world import (
    BEFORE_FULL_DEADLINE,
    PDF,
    PRE_DEADLINE,
    World,
    build_world,
    example_proposals,
    mail_of,
)
from permedhub.calls.errors import LateSubmission, NotAllowed, WorkflowError
from permedhub.calls.store import Mail, ProposalRecord, WorkflowAudit
from permedhub.calls.submissions import MAX_PDF_BYTES
from smtp_support import Mailbox as Inbox
from smtp_support import wait_for


@pytest.fixture
def world(engine: Engine, smtp: tuple[Inbox, Any]) -> World:
    return build_world(engine, smtp[1])


def _submit(world: World, applicant: str, form: dict[str, Any], submit: bool = True) -> int:
    consortium, _ = world.workflow.register_consortium(
        world.call.id, world[applicant], form["acronym"]
    )
    return world.workflow.save(consortium, world[applicant], form, PDF, submit=submit)


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_whole_call_from_submission_to_decision(world: World, smtp, engine) -> None:
    inbox, _ = smtp
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    forms = example_proposals()[:4]
    ids = [_submit(world, f"app{i}", form) for i, form in enumerate(forms)]
    received = wait_for(inbox, mail_of("app0"), 2)
    assert "pre-proposal SYN-ONE received" in received[-1]["Subject"]

    report = wf.check_eligibility(call, sec)
    assert [p["eligible"] for p in report["proposals"]] == [True, True, True, True]
    wf.national_check(ids[0], world["fun-de"], 0, True, "a university of a German Land")
    wf.invite(call, sec, ids[:3])
    assert "is not invited" in wait_for(inbox, mail_of("app3"), 4)[-1].get_payload()

    world.clock.now = BEFORE_FULL_DEADLINE
    consortia = {
        c["acronym"]: c["id"] for i in range(3) for c in wf.my_consortia(call, world[f"app{i}"])
    }
    full = [
        wf.save(consortia[f["acronym"]], world[f"app{i}"], f, PDF, submit=True)
        for i, f in enumerate(forms[:3])
    ]
    with pytest.raises(WorkflowError, match="invitation to the full-proposal stage"):
        wf.save(wf.my_consortia(call, world["app3"])[0]["id"], world["app3"], forms[3], PDF)
    wf.check_eligibility(call, sec)

    result = wf.assign_reviewers(call, sec, per_proposal=3)
    assert result.assigned == 9 and result.uncovered == []
    queues = {
        name: wf.review_queue(call, world[name])
        for name in ("rev-nl", "rev-se", "rev-pl", "rev-at", "rev-be")
    }
    assert sum(len(q) for q in queues.values()) == 9
    totals = {full[0]: 4.5, full[1]: 4.0, full[2]: 3.5}
    for name, queue in queues.items():
        assert wait_for(inbox, mail_of(name), 2)[-1]["Subject"].endswith("to review")
        for item in queue:
            score = totals[item["id"]]
            wf.submit_review(
                item["id"],
                world[name],
                {"excellence": score, "impact": score, "implementation": score},
            )
    ranking = wf.ranking(call, sec)
    assert list(ranking["proposal_id"]) == [str(i) for i in full]
    outcome = wf.decide(call, sec)
    assert outcome.funded == [str(full[0]), str(full[1])]  # the third asks DE more than is left
    assert "funded" in wait_for(inbox, mail_of("app0"), 7)[-1].get_payload()
    assert "funding decision" in wait_for(inbox, mail_of("fun-de"), 2)[-1]["Subject"]
    dashboard = wf.dashboard(call, sec)
    assert [p["outcome"] for p in dashboard.proposals] == ["funded", "funded", "reserve"]
    committed = {c["funder"]: c["committed_eur"] for c in dashboard.commitments}
    assert committed["syn-funder-de"] == 550000.0
    with Session(engine) as session:
        unsent = session.execute(select(func.count()).where(Mail.sent_at.is_(None))).scalar_one()
        actions = set(session.execute(select(WorkflowAudit.action)).scalars())
    assert unsent == 0
    assert {
        "publish",
        "grant",
        "register",
        "submit",
        "eligibility",
        "national",
        "invite",
        "assign",
        "review",
        "decide",
    } <= actions


def test_the_deadline_is_the_server_clock_as_an_instant_whatever_its_zone(world: World) -> None:
    wf, form = world.workflow, example_proposals()[0]
    consortium, _ = wf.register_consortium(world.call.id, world["app0"], form["acronym"])
    draft = wf.save(consortium, world["app0"], form, PDF, submit=False)
    # 14:00 at UTC+01:00 is 13:00 UTC; the clock may be read in any zone.
    world.clock.now = PRE_DEADLINE.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    late = {**form, "title": "changed after the deadline"}
    world.clock.now = PRE_DEADLINE + dt.timedelta(seconds=1)
    with pytest.raises(LateSubmission) as refused:
        wf.save(consortium, world["app0"], late, PDF, submit=True)
    assert "2026-03-05T14:00:00+01:00" in str(refused.value)
    assert "draft is kept" in str(refused.value)
    mine = wf.my_consortia(world.call.id, world["app0"])[0]["proposals"][0]
    assert mine["id"] == draft and mine["state"] == "draft"
    assert mine["fields"]["title"] == form["title"]
    world.clock.now = PRE_DEADLINE.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert wf.save(consortium, world["app0"], late, PDF, submit=True) == draft
    # The instant is kept whatever the clock's zone (SQLite stores no offset: UTC is stored).
    stored = wf.my_consortia(world.call.id, world["app0"])[0]["proposals"][0]["submitted_at"]
    assert stored == PRE_DEADLINE and stored.utcoffset() == dt.timedelta(0)


def test_a_clock_without_a_time_zone_is_refused(world: World) -> None:
    world.clock.now = dt.datetime(2026, 2, 1, 12, 0)
    with pytest.raises(ValueError, match="time-zone aware"):
        world.workflow.register_consortium(world.call.id, world["app0"], "NAIVE")


def test_a_submission_before_the_stage_opens_is_refused(world: World) -> None:
    world.clock.now = dt.datetime(2026, 1, 12, 7, 59, tzinfo=dt.UTC)  # 08:59 at +01:00
    with pytest.raises(WorkflowError, match="after the stage opens"):
        _submit(world, "app0", example_proposals()[0])


def test_each_step_refuses_a_role_that_may_not_take_it(world: World) -> None:
    wf, call = world.workflow, world.call.id
    pid = _submit(world, "app0", example_proposals()[0])
    outsider, applicant, reviewer = world["outsider"], world["app1"], world["rev-nl"]
    steps = {
        "register": lambda a: wf.register_consortium(call, a, "X"),
        "eligibility": lambda a: wf.check_eligibility(call, a),
        "invite": lambda a: wf.invite(call, a, [pid]),
        "assign": lambda a: wf.assign_reviewers(call, a),
        "ranking": lambda a: wf.ranking(call, a),
        "decide": lambda a: wf.decide(call, a),
        "dashboard": lambda a: wf.dashboard(call, a),
        "grant": lambda a: wf.grant(
            call, a, {"user": a.name, "role": "secretariat", "email": "x@y.test"}
        ),
        "national": lambda a: wf.national_check(pid, a, 0, False, "no"),
        "review": lambda a: wf.submit_review(pid, a, {}),
        "review_queue": lambda a: wf.review_queue(call, a),
        "funder_queue": lambda a: wf.funder_queue(call, a),
        "withdraw": lambda a: wf.withdraw(pid, a),
        "pdf": lambda a: wf.pdf(pid, a),
    }
    secretariat_only = {
        "eligibility",
        "invite",
        "assign",
        "ranking",
        "decide",
        "dashboard",
        "grant",
    }
    for name, step in steps.items():
        with pytest.raises(NotAllowed):
            step(outsider)
        if name in secretariat_only | {
            "national",
            "review",
            "review_queue",
            "funder_queue",
            "withdraw",
            "pdf",
        }:
            with pytest.raises(NotAllowed):
                step(applicant)  # another consortium's applicant
        if name in secretariat_only | {"national", "withdraw"}:
            with pytest.raises(NotAllowed):
                step(reviewer)
    # A funder decides only on the partners asking it: partner 1 asks the French funder.
    with pytest.raises(NotAllowed, match="does not ask it"):
        wf.national_check(pid, world["fun-de"], 1, False, "not ours")
    # A reviewer not assigned to the proposal may neither score nor read it.
    wf.check_eligibility(call, world["sec"])
    with pytest.raises(NotAllowed, match="not assigned"):
        wf.submit_review(pid, reviewer, {"excellence": 4, "impact": 4, "implementation": 4})


def test_each_role_reads_only_what_it_may(world: World) -> None:
    wf, call = world.workflow, world.call.id
    forms = example_proposals()
    mine = _submit(world, "app0", forms[0])
    _submit(world, "app1", forms[1])
    assert [c["acronym"] for c in wf.my_consortia(call, world["app0"])] == ["SYN-ONE"]
    # The German funder sees its own partners of each proposal, never the others' budgets.
    queue = wf.funder_queue(call, world["fun-de"])
    assert [len(p["partners"]) for p in queue] == [1, 1]
    assert {x["funder"] for p in queue for x in p["partners"]} == {"syn-funder-de"}
    wf.check_eligibility(call, world["sec"])
    wf.assign_reviewers(call, world["sec"], per_proposal=2)
    for name in ("rev-nl", "rev-se", "rev-pl", "rev-at", "rev-be"):
        for item in wf.review_queue(call, world[name]):
            assert set(item) == {"id", "fields", "stage", "scores", "comment"}  # no names
    assert wf.pdf(mine, world["app0"]) == PDF and wf.pdf(mine, world["sec"]) == PDF


def test_malformed_submissions_are_refused_naming_the_field(world: World) -> None:
    wf, call = world.workflow, world.call.id
    form = example_proposals()[0]
    consortium, _ = wf.register_consortium(call, world["app0"], form["acronym"])

    def save(data: dict[str, Any], pdf: bytes = PDF) -> int:
        return wf.save(consortium, world["app0"], data, pdf, submit=True)

    def bad_partner(**change: Any) -> dict[str, Any]:
        return {**form, "partners": [{**form["partners"][0], **change}, *form["partners"][1:]]}

    cases = [
        (bad_partner(requested_eur=-5), "partners[0].requested_eur"),
        (bad_partner(requested_eur="1,000"), "partners[0].requested_eur"),
        (bad_partner(funder="nobody"), "partners[0].funder"),
        (bad_partner(country="XX"), "partners[0].country"),
        ({**form, "modules": ["no-such-module"]}, "modules[0]"),
        ({**form, "partners": []}, "partners"),
        ({**form, "surprise": 1}, "surprise"),
    ]
    for data, where in cases:
        with pytest.raises(WorkflowError) as refused:
            save(data)
        assert refused.value.field == where, (where, str(refused.value))
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    with pytest.raises(WorkflowError, match="starts with '%PDF-'"):
        save(form, png)
    with pytest.raises(WorkflowError, match="at most 5,242,880 bytes"):
        save(form, b"%PDF-1.4" + b"0" * MAX_PDF_BYTES + b"%%EOF")
    save(form)
    with pytest.raises(WorkflowError, match="withdraw it first"):
        save(form)
    wf.withdraw(wf.my_consortia(call, world["app0"])[0]["proposals"][0]["id"], world["app0"])
    save(form)  # submitted anew after the withdrawal


def test_a_refused_step_stores_nothing_and_mails_nobody(world: World, engine, smtp) -> None:
    inbox, _ = smtp
    form = example_proposals()[0]
    consortium, _ = world.workflow.register_consortium(world.call.id, world["app0"], "SYN-ONE")
    mails, audits = _count(engine, Mail), _count(engine, WorkflowAudit)
    received = len(inbox.messages)
    broken = {**form, "partners": [{**form["partners"][0], "funder": "nobody"}]}
    with pytest.raises(WorkflowError):
        world.workflow.save(consortium, world["app0"], broken, PDF, submit=True)
    assert (_count(engine, Mail), _count(engine, WorkflowAudit)) == (mails, audits)
    assert len(inbox.messages) == received
    assert _count(engine, ProposalRecord) == 0


def test_assignment_respects_declared_and_derived_conflicts(world: World) -> None:
    wf, call = world.workflow, world.call.id
    pid = _submit(world, "app0", example_proposals()[0])
    wf.declare_conflict(call, world["rev-nl"], "I co-author with the coordinator", pid)
    wf.check_eligibility(call, world["sec"])
    wf.assign_reviewers(call, world["sec"], per_proposal=3)
    assert wf.review_queue(call, world["rev-nl"]) == []
    assigned = [
        n for n in ("rev-se", "rev-pl", "rev-at", "rev-be") if wf.review_queue(call, world[n])
    ]
    assert len(assigned) == 3


def test_reviews_out_of_scale_or_unknown_criteria_are_refused(world: World) -> None:
    wf, call = world.workflow, world.call.id
    pid = _submit(world, "app0", example_proposals()[0])
    wf.check_eligibility(call, world["sec"])
    wf.assign_reviewers(call, world["sec"], per_proposal=1)
    name = next(
        n
        for n in ("rev-nl", "rev-se", "rev-pl", "rev-at", "rev-be")
        if wf.review_queue(call, world[n])
    )
    good = {"excellence": 4, "impact": 4, "implementation": 4}
    for scores, where in [
        ({**good, "impact": 6}, "scores.impact"),
        ({**good, "impact": "high"}, "scores.impact"),
        ({**good, "novelty": 3}, "scores.novelty"),
        ({"excellence": 4}, "scores.impact"),
    ]:
        with pytest.raises(WorkflowError) as refused:
            wf.submit_review(pid, world[name], scores)
        assert refused.value.field == where


def test_without_an_smtp_host_notices_stay_in_the_outbox(engine) -> None:
    build_world(engine, None, applicants=1)
    with Session(engine) as session:
        queued = session.execute(select(func.count()).where(Mail.sent_at.is_(None))).scalar_one()
    assert queued > 0


def test_a_top_up_is_passed_to_the_decision(world: World) -> None:
    wf, call = world.workflow, world.call.id
    pid = _submit(world, "app0", example_proposals()[0])
    wf.check_eligibility(call, world["sec"])
    wf.assign_reviewers(call, world["sec"], per_proposal=1)
    for name in ("rev-nl", "rev-se", "rev-pl", "rev-at", "rev-be"):
        for item in wf.review_queue(call, world[name]):
            wf.submit_review(
                item["id"], world[name], {"excellence": 4, "impact": 4, "implementation": 4}
            )
    outcome = wf.decide(call, world["sec"], top_up_eur=Decimal("1000"))
    assert outcome.mode == "mixed" and outcome.funded == [str(pid)]


def test_a_panel_adjustment_changes_the_ranking_and_says_why(world: World) -> None:
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    first = _submit(world, "app0", example_proposals()[0])
    second = _submit(world, "app1", example_proposals()[1])
    wf.check_eligibility(call, sec)
    wf.assign_reviewers(call, sec, per_proposal=1)
    given = {first: 4.5, second: 4.0}
    for name in ("rev-nl", "rev-se", "rev-pl", "rev-at", "rev-be"):
        for item in wf.review_queue(call, world[name]):
            score = given[item["id"]]
            wf.submit_review(
                item["id"],
                world[name],
                {"excellence": score, "impact": score, "implementation": score},
            )
    assert list(wf.ranking(call, sec)["proposal_id"]) == [str(first), str(second)]
    wf.adjust(first, sec, "excellence", 2.5, "the panel found the work plan unclear")
    ranking = wf.ranking(call, sec)
    assert list(ranking["proposal_id"]) == [str(second), str(first)]
    adjusted = ranking.set_index("proposal_id").loc[str(first), "adjusted"]
    assert adjusted == "excellence set to 2.5: the panel found the work plan unclear"
    for args, where in [
        (("novelty", 3, "x"), "criterion"),
        (("impact", 9, "x"), "score"),
        (("impact", "high", "x"), "score"),
        (("impact", 3, "  "), "reason"),
    ]:
        with pytest.raises(WorkflowError) as refused:
            wf.adjust(first, sec, *args)
        assert refused.value.field == where
    with pytest.raises(NotAllowed):
        wf.adjust(first, world["app0"], "impact", 3, "mine")
