"""Revoking a role and publishing a new version of a call's document, on a real database and
a real SMTP server: what stays consistent, what is refused, what is audited and mailed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from calls_world import PDF, World, build_world, example_proposals, mail_of
from permedhub.calls.errors import NotAllowed, WorkflowError
from permedhub.calls.model import Call
from permedhub.calls.store import CallRecord, ReviewAssignment, WorkflowAudit
from permedhub.cli.main import app
from smtp_support import Mailbox as Inbox
from smtp_support import wait_for


@pytest.fixture
def world(engine: Engine, smtp: tuple[Inbox, Any]) -> World:
    return build_world(engine, smtp[1], applicants=4)


def _audit(engine: Engine, action: str) -> list[WorkflowAudit]:
    with Session(engine) as session:
        return list(
            session.execute(
                select(WorkflowAudit)
                .where(WorkflowAudit.action == action)
                .order_by(WorkflowAudit.id)
            ).scalars()
        )


def _document(engine: Engine, call_id: str) -> dict[str, Any]:
    with Session(engine) as session:
        record = session.get(CallRecord, call_id)
        assert record is not None
        return dict(record.document)


def test_a_revoked_role_is_gone_audited_and_mailed(world: World, engine, smtp) -> None:
    inbox, _ = smtp
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    assert "funder" in wf.roles_of(call, world["fun-fr"].id)
    wf.revoke(call, sec, "fun-fr", "funder")
    assert "funder" not in wf.roles_of(call, world["fun-fr"].id)
    with pytest.raises(NotAllowed):
        wf.funder_queue(call, world["fun-fr"])
    entry = _audit(engine, "revoke")[-1]
    assert (entry.actor, entry.entity_id) == ("sec", "fun-fr")
    assert entry.detail["role"] == "funder" and entry.detail["funder"] == "syn-funder-fr"
    notice = wait_for(inbox, mail_of("fun-fr"), 2)[-1]
    assert notice["Subject"] == f"{call}: you are no longer a funder"


def test_only_the_secretariat_or_the_operator_revokes(world: World) -> None:
    wf, call = world.workflow, world.call.id
    with pytest.raises(NotAllowed, match="not a secretariat"):
        wf.revoke(call, world["rev-nl"], "fun-de", "funder")
    assert "funder" in wf.roles_of(call, world["fun-de"].id)
    wf.revoke(call, "operator", "fun-de", "funder")
    assert "funder" not in wf.roles_of(call, world["fun-de"].id)


def test_revoking_a_role_nobody_holds_names_the_user(world: World) -> None:
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    with pytest.raises(WorkflowError, match="'outsider' is invalid: expected a user holding"):
        wf.revoke(call, sec, "outsider", "reviewer")
    with pytest.raises(WorkflowError, match="role = 'judge'"):
        wf.revoke(call, sec, "rev-nl", "judge")


def test_the_last_secretariat_member_stays(world: World) -> None:
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    with pytest.raises(WorkflowError, match="another secretariat member first"):
        wf.revoke(call, sec, "sec", "secretariat")
    wf.grant(call, sec, {"user": "outsider", "role": "secretariat", "email": mail_of("outsider")})
    wf.revoke(call, sec, "sec", "secretariat")
    assert wf.roles_of(call, world["sec"].id) == set()


def test_an_applicant_of_a_consortium_keeps_the_role(world: World) -> None:
    wf, call = world.workflow, world.call.id
    wf.register_consortium(call, world["app0"], "SYN-ONE")
    with pytest.raises(WorkflowError, match="a member of SYN-ONE"):
        wf.revoke(call, world["sec"], "app0", "applicant")
    wf.revoke(call, world["sec"], "app1", "applicant")
    assert "applicant" not in wf.roles_of(call, world["app1"].id)


def test_a_reviewer_who_scored_stays_one_who_did_not_loses_the_assignments(
    world: World, engine
) -> None:
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    for i, form in enumerate(example_proposals()[:4]):
        consortium, _ = wf.register_consortium(call, world[f"app{i}"], form["acronym"])
        wf.save(consortium, world[f"app{i}"], form, PDF, submit=True)
    wf.check_eligibility(call, sec)
    wf.assign_reviewers(call, sec, per_proposal=2)
    queues = {name: wf.review_queue(call, world[name]) for name in ("rev-nl", "rev-se")}
    assert queues["rev-nl"] and queues["rev-se"]
    first = queues["rev-nl"][0]["id"]
    wf.submit_review(first, world["rev-nl"], {"excellence": 4, "impact": 4, "implementation": 4})
    with pytest.raises(WorkflowError, match="without reviews on record"):
        wf.revoke(call, sec, "rev-nl", "reviewer")
    assert [q["id"] for q in wf.review_queue(call, world["rev-nl"])] == [
        q["id"] for q in queues["rev-nl"]
    ]
    wf.revoke(call, sec, "rev-se", "reviewer")
    with Session(engine) as session:
        left = session.execute(
            select(ReviewAssignment).where(ReviewAssignment.reviewer_id == world["rev-se"].id)
        ).all()
    assert left == []
    entry = _audit(engine, "revoke")[-1]
    assert entry.detail["assignments_dropped"] == sorted(q["id"] for q in queues["rev-se"])


def test_a_new_version_is_stored_and_its_changes_audited(world: World, engine) -> None:
    wf, call = world.workflow, world.call
    changed = call.model_copy(update={"title": "Synthetic call, second version"})
    wf.publish(changed, "curator carol")
    assert _document(engine, call.id)["title"] == "Synthetic call, second version"
    entry = _audit(engine, "publish")[-1]
    assert (entry.actor, entry.detail) == ("curator carol", {"changed": ["title"]})


def test_a_version_dropping_a_funder_somebody_acts_for_is_refused(world: World, engine) -> None:
    wf, call = world.workflow, world.call
    before = _document(engine, call.id)
    data = call.model_dump(mode="json")
    data["funders"] = [f for f in data["funders"] if f["organisation"] != "syn-funder-fr"]
    with pytest.raises(WorkflowError, match=r"funders = 'syn-funder-fr'.*revoke those roles"):
        wf.publish(Call.model_validate(data), "curator carol")
    assert _document(engine, call.id) == before
    wf.revoke(call.id, world["sec"], "fun-fr", "funder")
    wf.publish(Call.model_validate(data), "curator carol")
    assert [f["organisation"] for f in _document(engine, call.id)["funders"]] == [
        "syn-funder-de", "syn-funder-es", "syn-funder-it",
    ]  # fmt: skip


def test_a_version_after_a_submission_is_refused(world: World, engine) -> None:
    wf, call = world.workflow, world.call
    form = example_proposals()[0]
    consortium, _ = wf.register_consortium(call.id, world["app0"], form["acronym"])
    wf.save(consortium, world["app0"], form, PDF, submit=True)
    before = _document(engine, call.id)
    changed = call.model_copy(update={"title": "changed under the applicants"})
    with pytest.raises(WorkflowError, match="a call without submissions"):
        wf.publish(changed, "curator carol")
    assert _document(engine, call.id) == before


def test_the_operator_revokes_at_the_command_line(
    world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("PERMEDHUB_SMTP_HOST", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["calls", "revoke", world.call.id, "fun-de", "funder", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "call": world.call.id,
        "user": "fun-de",
        "revoked": "funder",
    }
    assert "funder" not in world.workflow.roles_of(world.call.id, world["fun-de"].id)
    result = runner.invoke(app, ["calls", "revoke", world.call.id, "sec", "secretariat"])
    assert result.exit_code == 2 and "another secretariat member first" in result.stderr
    assert _audit(engine, "revoke")[-1].actor == "command line"
