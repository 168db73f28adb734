"""`permedhub db ...` as a user types it: exit codes, JSON on stdout, errors on stderr."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from permedhub.cli.main import app


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    return tmp_path


def test_upgrade_then_load_reports_counts_as_json(env):
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    csv_file = env / "organisations.csv"
    csv_file.write_text("id,name,country\ncli-org,CLI Org,PT\n", encoding="utf-8")
    result = runner.invoke(app, ["db", "load", str(csv_file), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["counts"]["organisations"]["created"] == 1


def test_bad_file_exits_non_zero_and_names_the_problem(env):
    bad = env / "organisations.csv"
    bad.write_text("id,name,country\nx,X,QQ\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["db", "load", str(bad), "--json"])
    assert result.exit_code == 2
    issue = json.loads(result.stdout.splitlines()[0])["issues"][0]
    assert (issue["row"], issue["value"]) == (2, "QQ")
    assert "unknown country code" in result.stderr


def test_dry_run_stores_nothing(env):
    runner = CliRunner()
    good = env / "organisations.csv"
    good.write_text("id,name,country\ndry,Dry,PT\n", encoding="utf-8")
    first = json.loads(runner.invoke(app, ["db", "load", str(good), "--dry-run", "--json"]).stdout)
    second = json.loads(runner.invoke(app, ["db", "load", str(good), "--json"]).stdout)
    assert first["counts"]["organisations"]["created"] == 1
    assert second["counts"]["organisations"]["created"] == 1


@pytest.mark.parametrize("fmt", ["json", "jsonld", "graphml"])
def test_export_to_stdout_is_the_whole_seeded_graph(env, fmt):
    result = CliRunner().invoke(app, ["db", "export", "--format", fmt])
    assert result.exit_code == 0, result.stderr
    assert "erapermed" in result.stdout and "EULAC-PerMed" in result.stdout
    if fmt != "graphml":
        json.loads(result.stdout)


def test_export_csv_needs_a_destination_and_unknown_formats_are_refused(env):
    runner = CliRunner()
    no_out = runner.invoke(app, ["db", "export", "--format", "csv"])
    assert no_out.exit_code == 2 and "--out" in no_out.stderr
    unknown = runner.invoke(app, ["db", "export", "--format", "xlsx"])
    assert unknown.exit_code == 2 and "expected one of json" in unknown.stderr
    written = runner.invoke(app, ["db", "export", "--format", "csv", "--out", str(env / "csv")])
    assert written.exit_code == 0
    assert (env / "csv" / "organisations.csv").read_text(encoding="utf-8").startswith("id,")
