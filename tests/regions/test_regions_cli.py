"""`permedhub regions template|import|index|compare|report` as a user types them: JSON on
stdout and nothing else, errors on stderr with exit code 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.regions.survey import NAMES
from regions_support import HAND, answer, write_csv


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    return tmp_path


def _run(*args: str):
    return CliRunner().invoke(app, ["regions", *args])


def test_template_writes_csv_and_xlsx_and_prints_the_dictionary(cli_db):
    result = _run("template", str(cli_db / "t.xlsx"), "--dictionary", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["columns"] == list(NAMES) == [r["column"] for r in payload["dictionary"]]
    assert (cli_db / "t.xlsx").exists()
    bad = _run("template", str(cli_db / "t.pdf"))
    assert bad.exit_code == 2 and "expected a .csv or .xlsx" in bad.stderr


def test_import_index_compare_and_report(cli_db):
    imported = _run("import", str(write_csv(cli_db / "s.csv", HAND)), "--json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["stored"] == 4

    index = _run("index", "--json", "--weights", "strategy=3", "--draws", "200")
    assert index.exit_code == 0, index.output
    payload = json.loads(index.stdout)
    values = {row["region"]: row["index"] for row in payload["index"]}
    assert values == pytest.approx({"IT-52": 75.0, "DE-SN": 62.5, "ES-GA": 37.5})
    assert payload["weights"]["readiness_strategy"] == pytest.approx(3 / 8)
    assert {row["region"] for row in payload["rank_stability"]} == set(values)
    assert len(payload["one_at_a_time"]) == 12  # 6 items x factors 0.5 and 1.5

    out = cli_db / "compare.json"
    compared = _run("compare", "es-ga", "IT-52", "--json", "--out", str(out))
    assert compared.exit_code == 0, compared.output
    rows = json.loads(compared.stdout)["regions"]
    assert [r["region"] for r in rows] == ["ES-GA", "IT-52"]
    assert rows[0]["ris_group"] == "moderate-innovator" and rows[0]["density_class"] == "low"
    assert json.loads(out.read_text())["regions"] == rows

    report = cli_db / "tuscany.html"
    written = _run("report", "IT-52", "--out", str(report), "--json")
    assert written.exit_code == 0, written.output
    text = report.read_text(encoding="utf-8")
    assert "Readiness report: Toscana" in text and "75.0 of 100" in text
    assert "<script src=" not in text  # Plotly is inlined: the file works offline
    assert "plotly" in text.lower() and "moderate-innovator (RIS 2023)" in text


def test_a_malformed_survey_exits_2_lists_row_and_column_and_stores_nothing(cli_db):
    rows = [answer("a", "IT-52", (3, 3, 3, 3, 3, 9))]
    result = _run("import", str(write_csv(cli_db / "bad.csv", rows)), "--json")
    assert result.exit_code == 2
    issues = json.loads(result.stdout)["issues"]
    assert issues == [{"row": 2, "column": "readiness_collaboration", "value": "9",
                       "expected": "a whole number from 1 to 5"}]  # fmt: skip
    assert "nothing was stored" in result.stderr
    empty = _run("index", "--json")
    assert empty.exit_code == 2 and "no survey answers yet" in empty.stderr
    assert empty.stdout == ""


def test_bad_weights_and_unknown_regions_are_clear_errors(cli_db):
    _run("import", str(write_csv(cli_db / "s.csv", HAND)))
    negative = _run("index", "--weights", "strategy=-2", "--json")
    assert negative.exit_code == 2 and "expected a finite number >= 0" in negative.stderr
    assert negative.stdout == ""
    unknown = _run("compare", "PL-02", "--json")
    assert (
        unknown.exit_code == 2 and "PL-02: expected regions with survey answers" in unknown.stderr
    )
    report = _run("report", "PL-02", "--out", str(cli_db / "r.html"))
    assert report.exit_code == 2 and not (cli_db / "r.html").exists()


def test_db_seed_loads_regions_profiles_and_events_too(cli_db):
    from permedhub.regions.seed import read, seed_files

    result = CliRunner().invoke(app, ["db", "seed"])
    assert result.exit_code == 0, result.output
    document = read(seed_files())
    expected = f"loaded: regions ({len(document.profiles)} profiles, {len(document.events)} events)"
    assert expected in result.stdout
