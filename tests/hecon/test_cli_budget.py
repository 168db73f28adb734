"""`permedhub hecon budget` (CliRunner on the main app): tables, --json and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.hecon.budget_spec import budget_examples, load_budget_document, run_budget

runner = CliRunner()
EXAMPLE = budget_examples()["budget_impact"]


def _budget(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["hecon", "budget", *args])


def test_json_output_parses_back_to_the_library_result() -> None:
    result = _budget(str(EXAMPLE), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    expected = run_budget(load_budget_document(EXAMPLE))
    assert payload["file"] == str(EXAMPLE)
    assert payload["total_budget_impact"] == pytest.approx(expected.total)
    year_one = payload["by_year"][0]
    # 1,600 patients in year 1: reference 1,600 x 12,000; scenario 1,280 x 12,000 + 320 x 31,000.
    assert year_one == {
        "year": 1,
        "cost_scenario": 25_280_000.0,
        "cost_reference": 19_200_000.0,
        "budget_impact": 6_080_000.0,
        "discounted_budget_impact": 6_080_000.0,
    }
    assert {row["strategy"] for row in payload["scenario"]} == {
        "chemotherapy",
        "test_and_targeted",
    }


def test_table_output_from_the_shipped_example() -> None:
    result = _budget("example:budget_impact")
    assert result.exit_code == 0, result.output
    assert "6,080,000.00" in result.stdout and "42,800,000.00" in result.stdout  # year 1, total
    assert "Scenario patients treated by strategy and year" in " ".join(result.stdout.split())


def _write(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "budget.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "annual_costs:  ",
            "annual_costs: [unclosed  ",
            "not valid YAML/JSON: line 6, column 3: expected ',' or ']', but got '<scalar>' "
            "(while parsing a flow sequence from line 5, column 15)",
        ),
        (
            "horizon_years: 5",
            "horizon_years: 5.5",
            "invalid budget document: horizon_years: Input should be a valid integer, got a "
            "number with a fractional part, got 5.5",
        ),
        (
            "beyond_profile: repeat_last",
            "beyond_profile: forever",
            "invalid budget document: beyond_profile: Input should be 'zero' or 'repeat_last', "
            "got 'forever'",
        ),
        (
            "test_and_targeted: [0.2,",
            "test_and_targeted: [0.3,",
            "scenario_shares: shares must sum to 1 in every year; year 1 sums to 1.1",
        ),
    ],
)
def test_bad_input_exits_2_naming_file_place_and_value(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _write(tmp_path, old, new)
    result = _budget(str(path), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: budget file {path}: {message}")


def test_missing_or_device_files_and_unknown_examples_are_named(tmp_path: Path) -> None:
    missing = _budget(str(tmp_path / "none.yaml"))
    assert missing.exit_code == 2
    assert missing.stderr == f"error: budget file {tmp_path / 'none.yaml'}: no such file\n"
    device = _budget("/dev/null")
    assert device.exit_code == 2
    assert "budget file /dev/null: the file is empty (a character device" in device.stderr
    unknown = _budget("example:nope")
    assert unknown.exit_code == 2
    assert unknown.stderr == "error: unknown example 'nope'; available: budget_impact\n"
