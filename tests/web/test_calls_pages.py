"""The call workflow's pages over HTTP: each role's access to each route, malformed input
per endpoint, the deadline, uploads checked by their bytes, and the mail each step sends."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from calls_portal import log_in_as, partner_fields, people_template, set_up_call
from calls_world import BEFORE_FULL_DEADLINE, PDF, PRE_DEADLINE, Clock, example_proposals, mail_of
from permedhub.db import make_engine
from smtp_support import Mailbox as Inbox
from smtp_support import smtp_inbox, wait_for

CALL = "syn-jtc-example"
APPLY = f"/calls/{CALL}/apply"


@pytest.fixture(scope="module")
def calls_template(portal_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal's template plus the accounts of the call's people."""
    return people_template(portal_template, tmp_path_factory.mktemp("calls"))


@pytest.fixture
def web_engine(calls_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """This module's tests run on a copy of calls_template (tests/web/conftest's app and
    client take it)."""
    shutil.copyfile(calls_template, tmp_path / "portal.sqlite")
    engine = make_engine(f"sqlite:///{tmp_path / 'portal.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, Any]]:
    with smtp_inbox() as server:
        yield server


@pytest.fixture
def clock(app: FastAPI, web_engine: Engine, smtp: tuple[Inbox, Any]) -> Clock:
    return set_up_call(app, web_engine, smtp[1])


def _form(index: int = 0, **change: Any) -> dict[str, str]:
    proposal = example_proposals()[index]
    data = {
        "acronym": proposal["acronym"],
        "title": f"{proposal['acronym']} title",
        "abstract": "synthetic",
        "topics": ", ".join(proposal["topics"]),
        **partner_fields(proposal["partners"]),
    }
    data.update(change)
    return data


def _post_proposal(
    client: TestClient,
    token: str,
    consortium: int,
    data: dict[str, str],
    pdf: bytes = PDF,
    action: str = "submit",
    modules: list[str] | None = None,
) -> Any:
    body: dict[str, Any] = {**data, "csrf_token": token, "action": action}
    body["modules"] = modules if modules is not None else ["syn-module-a"]
    return client.post(
        f"/calls/{CALL}/consortia/{consortium}/proposal",
        data=body,
        files={"pdf": ("proposal.pdf", pdf, "application/pdf")},
        follow_redirects=False,
    )


def _consortium(client: TestClient, token: str, acronym: str = "SYN-ONE") -> int:
    response = client.post(
        f"/calls/{CALL}/consortia",
        data={"acronym": acronym, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    workflow = client.app.state.calls_workflow  # type: ignore[attr-defined]
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from permedhub.calls.store import Consortium

    with Session(workflow.engine) as session:
        return int(
            session.execute(select(Consortium.id).where(Consortium.acronym == acronym)).scalar_one()
        )


def test_an_applicant_registers_submits_and_is_mailed(client, clock, smtp) -> None:
    inbox, _ = smtp
    token = log_in_as(client, "out")
    page = client.get(APPLY)
    assert page.status_code == 200 and "Register as an applicant" in page.text
    assert page.headers["cache-control"] == "no-store"
    response = client.post(f"{APPLY}/register", data={"email": "nobody", "csrf_token": token})
    assert response.status_code == 422 and "email" in response.text
    response = client.post(
        f"{APPLY}/register",
        data={"email": mail_of("out"), "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    consortium = _consortium(client, token)
    response = _post_proposal(client, token, consortium, _form(), action="draft")
    assert response.status_code == 303, response.text
    assert "draft" in client.get(APPLY).text
    response = _post_proposal(client, token, consortium, _form())
    assert response.status_code == 303, response.text
    received = wait_for(inbox, mail_of("out"), 2)
    assert received[-1]["Subject"] == f"{CALL}: pre-proposal SYN-ONE received"
    page = client.get(APPLY).text
    assert "submitted" in page and "Withdraw" in page
    response = _post_proposal(client, token, consortium, _form())
    assert response.status_code == 422 and "withdraw it first" in response.text


def test_late_submission_is_refused_with_the_deadline_and_the_draft_kept(client, clock) -> None:
    token = log_in_as(client, "app0")
    consortium = _consortium(client, token)
    assert _post_proposal(client, token, consortium, _form(), action="draft").status_code == 303
    clock.now = PRE_DEADLINE + dt.timedelta(seconds=1)
    response = _post_proposal(client, token, consortium, _form(title="late"))
    assert response.status_code == 422
    assert "2026-03-05T14:00:00+01:00" in response.text and "draft is kept" in response.text
    clock.now = PRE_DEADLINE
    page = client.get(APPLY).text
    assert "SYN-ONE title" in page and ">draft<" in page, page[page.find("<main") :][:3000]


@pytest.mark.parametrize(
    ("pdf", "status", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"0" * 64, 422, "starts with"),
        (b"", 422, "a PDF file"),
        (b"%PDF-1.4" + b"0" * (5 * 1024 * 1024) + b"%%EOF", 422, "at most 5,242,880 bytes"),
        (b"%PDF-1.4" + b"0" * (6 * 1024 * 1024) + b"%%EOF", 413, ""),
    ],
)
def test_uploads_are_checked_by_their_bytes_and_size(client, clock, pdf, status, message) -> None:
    token = log_in_as(client, "app0")
    consortium = _consortium(client, token)
    response = _post_proposal(client, token, consortium, _form(), pdf=pdf)
    assert response.status_code == status
    assert message in response.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"p0_requested_eur": "1,000"}, "partners[0].requested_eur"),
        ({"p0_requested_eur": "-5"}, "partners[0].requested_eur"),
        ({"p0_country": "Atlantis"}, "partners[0].country"),
        ({"p0_funder": "syn-funder-xx"}, "partners[0].funder"),
        ({"p0_kind": "pirate"}, "partners[0].kind"),
        ({"acronym": ""}, "acronym"),
    ],
)
def test_malformed_proposal_fields_name_the_field(client, clock, change, message) -> None:
    token = log_in_as(client, "app0")
    consortium = _consortium(client, token)
    response = _post_proposal(client, token, consortium, _form(**change))
    assert response.status_code == 422 and message in response.text
    assert "Nothing was saved" in response.text


def test_the_live_check_names_each_broken_rule_and_its_fix(client, clock) -> None:
    one_partner = _form()
    for key in [k for k in one_partner if k.startswith(("p1_", "p2_"))]:
        del one_partner[key]
    answer = client.post(f"/calls/{CALL}/check", data=one_partner).json()
    rules = {b["rule"]: b["message"] for b in answer["broken"]}
    assert not answer["ok"]
    assert (
        "consortium.min_eligible_partners" in rules
        and "add" in rules["consortium.min_eligible_partners"]
    )
    assert "consortium.modules_one_of" in rules
    answer = client.post(
        f"/calls/{CALL}/check", data={**_form(), "modules": ["syn-module-a"]}
    ).json()
    assert answer == {"ok": True, "problems": [], "broken": []}
    answer = client.post(
        f"/calls/{CALL}/check", data={"p0_organisation": "x", "p0_country": "ZZ"}
    ).json()
    fields = {p["field"] for p in answer["problems"]}
    assert {"partners[0].country", "partners[0].kind", "acronym", "title"} <= fields
    assert client.post("/calls/no-such-call/check", data={}).status_code == 404


def _secretariat_ready(client: TestClient, clock: Clock) -> int:
    """Two applicants submitted; logged in as the secretariat. The first proposal's id."""
    token = log_in_as(client, "app0")
    first = _consortium(client, token, "SYN-ONE")
    assert _post_proposal(client, token, first, _form(0)).status_code == 303
    token = log_in_as(client, "app1")
    second = _consortium(client, token, "SYN-TWO")
    assert (
        _post_proposal(client, token, second, _form(1), modules=["syn-module-b"]).status_code == 303
    )
    workflow = client.app.state.calls_workflow  # type: ignore[attr-defined]
    return int(workflow.my_consortia(CALL, _actor_of(client, "app0"))[0]["proposals"][0]["id"])


def _actor_of(client: TestClient, name: str) -> Any:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from permedhub.calls.workflow_base import Actor
    from permedhub.graph.models import UserAccount

    workflow = client.app.state.calls_workflow  # type: ignore[attr-defined]
    with Session(workflow.engine) as session:
        user_id = session.execute(
            select(UserAccount.id).where(UserAccount.name == name)
        ).scalar_one()
    return Actor(user_id, name)


def test_the_secretariat_runs_the_steps_and_sees_the_dashboard(client, clock, smtp) -> None:
    inbox, _ = smtp
    pid = _secretariat_ready(client, clock)
    token = log_in_as(client, "sec")

    def step(name: str, **data: str) -> Any:
        return client.post(
            f"/calls/{CALL}/secretariat/{name}",
            data={**data, "csrf_token": token},
            follow_redirects=False,
        )

    assert step("eligibility").status_code == 303
    assert "eligibility of proposal" in wait_for(inbox, mail_of("app0"), 3)[-1]["Subject"]
    page = client.get(f"/calls/{CALL}/secretariat").text
    assert page.count(">eligible<") == 2
    assert step("assign", per_proposal="x").status_code == 422
    assert step("assign", per_proposal="1").status_code == 303
    assert "to review" in wait_for(inbox, mail_of("rev-nl"), 2)[-1]["Subject"]
    response = step("decide", top_up_eur="1,000")
    assert response.status_code == 422 and "top_up_eur" in response.text
    response = step("decide")
    assert response.status_code == 422 and "reviews of the eligible proposals" in response.text
    assert step("nonsense").status_code == 404
    # the reviewer scores both proposals, then the secretariat decides
    token = log_in_as(client, "rev-nl")
    review_page = client.get(f"/calls/{CALL}/review").text
    assert "SYN-ONE" in review_page and "SYN-TWO" in review_page
    for proposal in (pid, pid + 1):
        response = client.post(
            f"/calls/{CALL}/review/{proposal}",
            data={
                "score_excellence": "4.5",
                "score_impact": "4",
                "score_implementation": "4",
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    response = client.post(
        f"/calls/{CALL}/review/{pid}",
        data={
            "score_excellence": "high",
            "score_impact": "4",
            "score_implementation": "4",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422 and "scores.excellence" in response.text
    token = log_in_as(client, "sec")
    response = step("adjust", proposal=str(pid), criterion="impact", score="3", reason="")
    assert response.status_code == 422 and "reason" in response.text
    response = step("adjust", proposal="x", criterion="impact", score="3", reason="r")
    assert response.status_code == 422 and "proposal" in response.text
    response = step(
        "adjust",
        proposal=str(pid),
        criterion="impact",
        score="3.5",
        reason="the panel weighed the letters of support",
    )
    assert response.status_code == 303
    assert "impact set to 3.5: the panel weighed" in client.get(f"/calls/{CALL}/secretariat").text
    assert step("decide").status_code == 303
    page = client.get(f"/calls/{CALL}/secretariat").text
    assert 'id="ranking"' in page and 'id="commitments"' in page
    assert 'id="report-stale"' not in page, page[page.find("report-stale") :][:400]
    assert 'id="funder-report"' in page
    assert page.count("<td>sec</td><td>decide</td>") == 1  # the audit trail
    assert "funding decision" in wait_for(inbox, mail_of("app1"), 4)[-1]["Subject"]
    table = client.get(f"/calls/{CALL}/secretariat/proposals.csv")
    assert table.headers["content-type"].startswith("text/csv")
    lines = table.text.lstrip("\ufeff").splitlines()
    assert "paid_by_syn-funder-de_eur" in lines[0] and len(lines) == 3
    assert all(",funded," in line for line in lines[1:])


def test_each_role_reaches_only_its_own_routes(client, clock) -> None:
    pid = _secretariat_ready(client, clock)
    pages = {
        "apply": APPLY,
        "secretariat": f"/calls/{CALL}/secretariat",
        "review": f"/calls/{CALL}/review",
        "funder": f"/calls/{CALL}/funder",
        "pdf": f"/calls/{CALL}/proposals/{pid}.pdf",
        "csv": f"/calls/{CALL}/secretariat/proposals.csv",
    }
    client.cookies.clear()
    for path in pages.values():
        assert client.get(path, follow_redirects=False).status_code == 401, path
    allowed = {
        "sec": {"apply", "secretariat", "pdf", "csv"},
        "app0": {"apply", "pdf"},  # its own proposal
        "app1": {"apply"},  # another consortium's PDF: no
        "rev-nl": {"apply", "review"},  # not assigned yet: no PDF
        "fun-de": {"apply", "funder"},
        "out": {"apply"},
    }
    for name, may in allowed.items():
        log_in_as(client, name)
        for page, path in pages.items():
            status = client.get(path).status_code
            assert status == (200 if page in may else 403), (name, page, status)
    # POSTs of the secretariat by others, a review by an unassigned reviewer, a funder's
    # check of a partner asking another funder: all refused.
    for name in ("app0", "rev-nl", "fun-de", "out"):
        token = log_in_as(client, name)
        response = client.post(f"/calls/{CALL}/secretariat/eligibility", data={"csrf_token": token})
        assert response.status_code == 403, name
    token = log_in_as(client, "rev-nl")
    response = client.post(
        f"/calls/{CALL}/review/{pid}", data={"score_excellence": "4", "csrf_token": token}
    )
    assert response.status_code == 403
    token = log_in_as(client, "fun-de")
    response = client.post(
        f"/calls/{CALL}/funder/{pid}/1",
        data={"verdict": "reject", "reason": "x", "csrf_token": token},
    )
    assert response.status_code == 403  # partner 1 asks the French funder
    response = client.post(
        f"/calls/{CALL}/funder/{pid}/0",
        data={"verdict": "maybe", "reason": "x", "csrf_token": token},
    )
    assert response.status_code == 422 and "accept or reject" in response.text
    response = client.post(
        f"/calls/{CALL}/funder/{pid}/0",
        data={"verdict": "accept", "reason": "a Land university", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    # A funder's page holds its own applicants only: the French partner's organisation of
    # the first proposal is not on the German funder's page.
    page = client.get(f"/calls/{CALL}/funder").text
    assert "syn-uni-berlin" in page and "syn-inst-lyon" not in page
    # A POST without the form's token is refused before anything is read.
    response = client.post(f"/calls/{CALL}/secretariat/eligibility", data={})
    assert response.status_code == 403
    assert client.get(f"/calls/{CALL}/proposals/x.pdf").status_code == 422
    assert client.get("/calls/no-such-call/apply").status_code == 404


def test_an_applicant_sees_only_their_own_consortia(client, clock) -> None:
    _secretariat_ready(client, clock)
    log_in_as(client, "app0")
    page = client.get(APPLY).text
    assert "SYN-ONE" in page and "SYN-TWO" not in page


def test_the_secretariat_invites_to_the_full_proposal_stage(client, clock, smtp) -> None:
    inbox, _ = smtp
    pid = _secretariat_ready(client, clock)
    token = log_in_as(client, "sec")
    response = client.post(
        f"/calls/{CALL}/secretariat/invite",
        data={"proposal": [str(pid)], "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "is not invited" in wait_for(inbox, mail_of("app1"), 3)[-1].get_payload()
    assert "full proposal" in client.get(f"/calls/{CALL}/secretariat").text
    response = client.post(
        f"/calls/{CALL}/secretariat/invite", data={"proposal": [str(pid)], "csrf_token": token}
    )
    assert response.status_code == 422 and "pre-proposal stage" in response.text
    clock.now = BEFORE_FULL_DEADLINE
    log_in_as(client, "app0")
    assert "<h3>Full proposal</h3>" in client.get(APPLY).text
    log_in_as(client, "app1")
    assert "<h3>Full proposal</h3>" not in client.get(APPLY).text


def _decided(client: TestClient, clock: Clock) -> tuple[int, int]:
    """Both proposals submitted, checked, reviewed and decided (through the library; the
    pages' own steps are tested above). Their ids."""
    first = _secretariat_ready(client, clock)
    ids = _decided_after_ready(client)
    assert first in ids
    return ids


def _decided_after_ready(client: TestClient) -> tuple[int, int]:
    workflow = client.app.state.calls_workflow  # type: ignore[attr-defined]
    sec, reviewer = _actor_of(client, "sec"), _actor_of(client, "rev-nl")
    workflow.check_eligibility(CALL, sec)
    workflow.assign_reviewers(CALL, sec, per_proposal=1)
    for item in workflow.review_queue(CALL, reviewer):
        scores = dict.fromkeys(("excellence", "impact", "implementation"), 4.5)
        workflow.submit_review(item["id"], reviewer, scores)
    workflow.decide(CALL, sec)
    ids = [p["id"] for p in workflow.dashboard(CALL, sec).proposals]
    return ids[0], ids[1]


def test_the_secretariat_sees_each_funders_report_and_downloads_the_decision(client, clock) -> None:
    import io

    from openpyxl import load_workbook

    _decided(client, clock)
    log_in_as(client, "sec")
    page = client.get(f"/calls/{CALL}/secretariat").text
    assert 'id="funder-report"' in page and 'id="figure-commitments"' in page
    assert "/tools/static/plotly.min.js" in page  # the packaged bundle, no other host
    # SYN-ONE (DE 250k, FR 200k, ES 150k) and SYN-TWO (DE 300k, IT 200k, FR 150k) funded:
    # the German funder committed 550,000 of 600,000.
    german = page[page.index("syn-funder-de</abbr>") :].split("</tr>")[0]
    assert "600,000" in german and "550,000" in german and "50,000" in german
    assert 'id="countries"' in page
    download = client.get(f"/calls/{CALL}/secretariat/decision.xlsx")
    assert download.status_code == 200
    assert download.headers["cache-control"] == "no-store"
    book = load_workbook(io.BytesIO(download.content))
    funded = [row[2] for row in book["funded"].iter_rows(min_row=2, values_only=True)]
    assert funded == ["SYN-ONE", "SYN-TWO"]
    table = client.get(f"/calls/{CALL}/secretariat/decision/funders.csv")
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    lines = table.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("funder,name,country,budget_eur,committed_eur,remaining_eur")
    assert lines[1].startswith("syn-funder-de,") and ",600000.0,550000.0,50000.0," in lines[1]
    assert client.get(f"/calls/{CALL}/secretariat/decision/nothing.csv").status_code == 404


def test_only_the_secretariat_reads_the_report_and_its_downloads(client, clock) -> None:
    _decided(client, clock)
    paths = [
        f"/calls/{CALL}/secretariat/decision.xlsx",
        f"/calls/{CALL}/secretariat/decision/funders.csv",
        f"/calls/{CALL}/secretariat/decision/countries.csv",
    ]
    client.cookies.clear()
    for path in paths:
        assert client.get(path, follow_redirects=False).status_code == 401, path
    for name in ("app0", "app1", "rev-nl", "fun-de", "fun-fr", "out"):
        log_in_as(client, name)
        assert client.get(f"/calls/{CALL}/secretariat").status_code == 403, name
        for path in paths:
            assert client.get(path).status_code == 403, (name, path)
    log_in_as(client, "sec")
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_before_a_decision_there_is_no_report_to_download(client, clock) -> None:
    _secretariat_ready(client, clock)
    log_in_as(client, "sec")
    assert 'id="funder-report"' not in client.get(f"/calls/{CALL}/secretariat").text
    assert client.get(f"/calls/{CALL}/secretariat/decision.xlsx").status_code == 404


def test_a_refused_partner_organisation_is_named_on_the_form(client, clock) -> None:
    token = log_in_as(client, "app0")
    consortium = _consortium(client, token, "SYN-ONE")
    data = _form(0, p1_organisation="syn-unknown-lab")
    response = _post_proposal(client, token, consortium, data)
    assert response.status_code == 422
    assert "partners[1].organisation = &#39;syn-unknown-lab&#39; is invalid" in response.text


def test_a_call_run_here_has_public_statistics_once_decided(client, clock) -> None:
    _secretariat_ready(client, clock)
    client.cookies.clear()
    assert client.get(f"/calls/{CALL}/statistics").status_code == 404  # not decided yet
    _decided_after_ready(client)
    client.cookies.clear()
    page = client.get(f"/calls/{CALL}/statistics")
    assert page.status_code == 200 and 'id="table-workflow"' in page.text
    assert 'id="figure-proposals"' in page.text
    rows = client.get(f"/calls/{CALL}/statistics/workflow.csv").text.lstrip("\ufeff")
    lines = rows.splitlines()
    assert lines[0].startswith("call,stage,dimension,value,proposals_submitted")
    # Both proposals submitted, eligible and funded; SYN-ONE and SYN-TWO have a French partner.
    assert f"{CALL},pre-proposal,all,all,2,2,2," in rows
    assert f"{CALL},pre-proposal,country,FR,2,2,2," in rows


def test_a_report_the_ranking_has_moved_away_from_is_not_shown(client, clock) -> None:
    first, _ = _decided(client, clock)
    workflow = client.app.state.calls_workflow  # type: ignore[attr-defined]
    # The panel fails SYN-ONE on a threshold after the decision: it would not be funded now.
    workflow.adjust(first, _actor_of(client, "sec"), "excellence", 0, "a conflict came to light")
    log_in_as(client, "sec")
    page = client.get(f"/calls/{CALL}/secretariat").text
    assert 'id="report-stale"' in page and "decide again" in page
    assert 'id="funder-report"' not in page and 'id="commitments"' in page  # what was decided
    assert client.get(f"/calls/{CALL}/secretariat/decision.xlsx").status_code == 409
