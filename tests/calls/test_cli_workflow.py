"""`permedhub calls assign|publish|grant|outbox` and `decide --out`: JSON on --json, reports
written with --out, refusals on stderr with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from calls_world import EXAMPLES, add_users
from permedhub.cli.main import app

runner = CliRunner()
CALL = str(EXAMPLES / "synthetic-call.yaml")
PROPOSALS = str(EXAMPLES / "synthetic-proposals.yaml")
REVIEWERS = str(EXAMPLES / "synthetic-reviewers.yaml")


def test_assign_prints_assignments_respecting_conflicts(tmp_path: Path) -> None:
    out = tmp_path / "assignments.csv"
    result = runner.invoke(
        app,
        ["calls", "assign", CALL, PROPOSALS, "--reviewers", REVIEWERS, "--json", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    pairs = {(a["proposal_id"], a["reviewer"]) for a in payload["assignments"]}
    assert len(pairs) == 18 and payload["uncovered"] == []
    assert ("syn-p2", "syn-rev-nl-1") not in pairs  # declared
    assert not any(r == "syn-rev-de-1" for _, r in pairs)  # Germany is in every proposal
    lines = out.read_text().splitlines()
    assert lines[0] == "proposal_id,reviewer,match" and len(lines) == 19


def test_assign_reports_proposals_it_cannot_cover(tmp_path: Path) -> None:
    pool = tmp_path / "two.yaml"
    pool.write_text(
        "reviewers:\n"
        "  - {id: a, organisation: syn-x, country: NL}\n"
        "  - {id: b, organisation: syn-y, country: SE}\n"
    )
    result = runner.invoke(
        app, ["calls", "assign", CALL, PROPOSALS, "--reviewers", str(pool), "--json"]
    )
    payload = json.loads(result.stdout)
    assert len(payload["uncovered"]) == 6
    assert payload["uncovered"][0]["reason"].startswith("only 2 of 2 reviewers")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "reviewers:\n  - {id: a, organisation: syn-x, country: XX}\n",
            "line 2: reviewers[0].country = 'XX' is invalid",
        ),
        (
            "reviewers:\n  - {id: a, organisation: syn-x, country: NL, max_load: 0}\n",
            "reviewers[0].max_load = 0 is invalid",
        ),
        ("reviewers: []\n", "reviewers = [] is invalid"),
    ],
)
def test_a_malformed_reviewer_pool_exits_2(tmp_path: Path, text: str, message: str) -> None:
    pool = tmp_path / "pool.yaml"
    pool.write_text(text)
    result = runner.invoke(app, ["calls", "assign", CALL, PROPOSALS, "--reviewers", str(pool)])
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr, result.stderr


def test_decide_writes_its_report_with_out(tmp_path: Path) -> None:
    csv_out, json_out = tmp_path / "decision.csv", tmp_path / "decision.json"
    for out in (csv_out, json_out):
        result = runner.invoke(app, ["calls", "decide", CALL, PROPOSALS, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert json.loads(json_out.read_text())["funded"] == ["syn-p1", "syn-p2", "syn-p4"]
    header = csv_out.read_text().splitlines()[0].split(",")
    assert {"proposal_id", "status", "order"} <= set(header)
    bad = runner.invoke(
        app, ["calls", "decide", CALL, PROPOSALS, "--out", str(tmp_path / "no" / "x.csv")]
    )
    assert bad.exit_code == 2 and "expected a writable file" in bad.stderr


def test_publish_grant_and_outbox_on_the_database(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("PERMEDHUB_SMTP_HOST", raising=False)
    add_users(engine, ["sec", "rev"])
    result = runner.invoke(
        app, ["calls", "publish", CALL, "--secretariat", "sec=sec@x.test", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["published"] is True
    result = runner.invoke(
        app,
        [
            "calls",
            "grant",
            "syn-jtc-example",
            "rev",
            "reviewer",
            "--email",
            "rev@x.test",
            "--organisation",
            "syn-uni-utrecht",
            "--country",
            "NL",
            "--expertise",
            "genomics,oncology",
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["calls", "outbox", "--json"])
    pending = json.loads(result.stdout)["pending"]
    assert sorted(p["to"] for p in pending) == ["rev@x.test", "sec@x.test"]
    refused = [
        (
            ["calls", "grant", "syn-jtc-example", "nobody", "applicant", "--email", "a@b"],
            "user = 'nobody'",
        ),
        (
            [
                "calls",
                "grant",
                "syn-jtc-example",
                "rev",
                "funder",
                "--email",
                "a@b",
                "--funder",
                "syn-x",
            ],
            "funder = 'syn-x' is invalid",
        ),
        (["calls", "grant", "syn-jtc-example", "rev", "reviewer", "--email", "a@b"], "profile"),
        (["calls", "grant", "syn-jtc-example", "rev", "judge", "--email", "a@b"], "role = 'judge'"),
        (["calls", "grant", "syn-jtc-example", "rev", "applicant", "--email", "no-at"], "email"),
        (["calls", "grant", "no-such-call", "rev", "applicant", "--email", "a@b"], "no such call"),
        (["calls", "publish", CALL, "--secretariat", "sec"], "expected NAME=EMAIL"),
    ]
    for args, message in refused:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
