"""`permedhub calls show|check|decide`: JSON on --json, bad files and options exit 2 with the
problem (and its line) on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from permedhub.cli.main import app

runner = CliRunner()
EXAMPLES = Path(__file__).parents[2] / "src" / "permedhub" / "calls" / "examples"
CALL = str(EXAMPLES / "synthetic-call.yaml")
PROPOSALS = str(EXAMPLES / "synthetic-proposals.yaml")


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["calls", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_show_prints_the_whole_document() -> None:
    payload = _json("show", CALL)
    assert payload["id"] == "syn-jtc-example" and payload["synthetic"] is True
    assert payload["stages"][0]["deadline"] == "2026-03-05T14:00:00+01:00"
    assert payload["funders"][0]["budget_eur"] == "600000"
    assert payload["consortium"]["max_per_country"] == 2


def test_check_lists_broken_rules_with_fixes() -> None:
    payload = _json("check", CALL, PROPOSALS)
    assert payload["eligible"] == 5
    p5 = next(p for p in payload["proposals"] if p["id"] == "syn-p5")
    assert not p5["eligible"]
    assert [b["rule"] for b in p5["broken"]] == [
        "consortium.min_countries",
        "funders.rules.own_funded_allowed",
    ]
    assert "add eligible partners from 1 more" in p5["broken"][0]["message"]


def test_decide_prints_lists_commitments_and_what_ifs() -> None:
    payload = _json("decide", CALL, PROPOSALS, "--next-k", "1")
    assert payload["funded"] == ["syn-p1", "syn-p2", "syn-p4"]
    assert payload["reserve"] == ["syn-p3", "syn-p6"]
    de = next(c for c in payload["commitments"] if c["funder"] == "syn-funder-de")
    assert (de["budget_eur"], de["committed_eur"], de["left_eur"]) == (600000.0, 600000.0, 0.0)
    what_if = payload["what_if"]
    assert {b["budget"] for b in what_if["blocking"] if b["proposal_id"] == "syn-p3"} == {
        "syn-funder-de",
        "syn-funder-es",
    }
    assert [r["k"] for r in what_if["next_k"]] == [1]
    assert what_if["top_up_spending"] == []


def test_decide_with_a_top_up() -> None:
    payload = _json("decide", CALL, PROPOSALS, "--top-up", "100000")
    assert payload["mode"] == "mixed" and payload["top_up_eur"] == 100000.0
    assert payload["funded"] == ["syn-p1", "syn-p2", "syn-p3"]
    assert sum(r["top_up_eur"] for r in payload["what_if"]["top_up_spending"]) == 100000.0


def test_table_output_without_json() -> None:
    result = runner.invoke(app, ["calls", "decide", CALL, PROPOSALS])
    assert result.exit_code == 0 and "reserve: syn-p3, syn-p6" in result.stdout


def test_malformed_call_exits_2_naming_line_field_and_expectation(tmp_path: Path) -> None:
    text = Path(CALL).read_text().replace("budget_eur: 500000", "budget_eur: -500000")
    bad = tmp_path / "call.yaml"
    bad.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "-500000" in t)
    result = runner.invoke(app, ["calls", "decide", str(bad), PROPOSALS, "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert f"line {line}: funders[1].budget_eur = -500000 is invalid" in result.stderr
    bad.write_text("id: [unclosed\n")
    result = runner.invoke(app, ["calls", "show", str(bad)])
    assert result.exit_code == 2 and "valid YAML: line 2" in result.stderr


def test_bad_top_up_exits_2_naming_the_option() -> None:
    result = runner.invoke(app, ["calls", "decide", CALL, PROPOSALS, "--top-up", "1.5M"])
    assert result.exit_code == 2 and "--top-up = '1.5M' is invalid" in result.stderr
    result = runner.invoke(app, ["calls", "decide", CALL, PROPOSALS, "--top-up", "-3"])
    assert result.exit_code == 2 and "--top-up = '-3'" in result.stderr
