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


def test_decide_writes_every_table_to_an_xlsx_workbook(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "decision.xlsx"
    result = runner.invoke(app, ["calls", "decide", CALL, PROPOSALS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames[:5] == ["funded", "reserve", "not-ranked", "funders", "countries"]
    funded = [row[1] for row in book["funded"].iter_rows(min_row=2, values_only=True)]
    assert funded == ["syn-p1", "syn-p2", "syn-p4"]
    funders = {row[0]: row for row in book["funders"].iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in book["funders"][1]]
    de = dict(zip(header, funders["syn-funder-de"], strict=True))
    # DE pays SYN-ONE's, SYN-TWO's and SYN-FOUR's German partners (600k, all its budget);
    # SYN-THREE's and SYN-SIX's wait in reserve.
    assert (de["committed_eur"], de["remaining_eur"]) == (600000, 0)
    assert (de["partners_funded"], de["partners_reserve"]) == (3, 2)
    assert book["blocking"].max_row == 5  # 4 shortfalls and the header
    # assign --out .xlsx: the same writer, a sheet per table.
    pool = tmp_path / "assignments.xlsx"
    done = runner.invoke(
        app, ["calls", "assign", CALL, PROPOSALS, "--reviewers", REVIEWERS, "--out", str(pool)]
    )
    assert done.exit_code == 0, done.output
    assert load_workbook(pool).sheetnames == ["assignments", "loads", "uncovered"]


def test_decide_json_carries_the_funder_report() -> None:
    result = runner.invoke(app, ["calls", "decide", CALL, PROPOSALS, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["report"]
    it = next(f for f in report["funders"] if f["funder"] == "syn-funder-it")
    assert (it["budget_eur"], it["committed_eur"], it["remaining_eur"]) == (400000, 250000, 150000)
    countries = {c["country"]: c for c in report["countries"]}
    assert (countries["ES"]["proposals_submitted"], countries["ES"]["proposals_funded"]) == (3, 1)


def test_decide_xlsx_keeps_formula_like_text_as_text(tmp_path: Path) -> None:
    proposals = tmp_path / "proposals.yaml"
    text = Path(PROPOSALS).read_text(encoding="utf-8")
    proposals.write_text(text.replace("acronym: SYN-ONE", "acronym: '=1+1'", 1))
    xlsx = tmp_path / "d.xlsx"
    result = runner.invoke(app, ["calls", "decide", CALL, str(proposals), "--out", str(xlsx)])
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    cell = load_workbook(xlsx)["funded"]["C2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_stats_of_the_seeded_calls_on_the_database(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    result = runner.invoke(app, ["calls", "stats", "erapermed-jtc2021", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (summary,) = payload["calls"]
    assert summary["published_projects_funded"] == 22
    assert summary["published_success_rate"] == pytest.approx(22 / 217)
    assert payload["workflow"] == []  # not run in PerMed Hub
    kinds = {r["value"] for r in payload["graph"] if r["dimension"] == "organisation kind"}
    assert "hospital" in kinds
    across = runner.invoke(app, ["calls", "stats", "--json"])
    assert across.exit_code == 0, across.output
    ids = [c["call"] for c in json.loads(across.stdout)["calls"]]
    assert {f"erapermed-jtc{y}" for y in range(2018, 2023)} <= set(ids)
    human = runner.invoke(app, ["calls", "stats", "erapermed-jtc2021"])
    assert human.exit_code == 0 and "10.1%" in human.stdout
    unknown = runner.invoke(app, ["calls", "stats", "no-such-call"])
    assert unknown.exit_code == 2
    assert "call = 'no-such-call' is invalid" in unknown.output
    assert "erapermed-jtc2018" in unknown.output
