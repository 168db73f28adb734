"""`permedhub helpdesk load` as a user types it: the package seed by default, JSON on stdout,
errors on stderr with a non-zero exit code."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from permedhub.cli.main import app


def test_load_without_files_loads_the_package_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    result = CliRunner().invoke(app, ["helpdesk", "load", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert counts["bodies"]["created"] > 70 and counts["faq"]["created"] >= 4


def test_a_bad_file_exits_non_zero_and_names_the_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "bodies:\n  - {id: x, jurisdiction: QQ, role: medicines-regulator, name: X,"
        " source: s, verified_on: 2026-12-07}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["helpdesk", "load", str(bad), "--json"])
    assert result.exit_code == 2
    issue = json.loads(result.stdout)["issues"][0]
    assert (issue["row"], issue["field"], issue["value"]) == (2, "bodies.jurisdiction", "QQ")
    assert "unknown jurisdiction" in result.stderr


def test_db_seed_loads_the_helpdesk_seed_after_the_family(tmp_path, monkeypatch):
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from permedhub.db import make_engine
    from permedhub.helpdesk.models import Body

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["db", "seed"])
    assert result.exit_code == 0, result.output
    assert "loaded: helpdesk" in result.stdout
    engine = make_engine(url)
    with Session(engine) as session:
        assert session.execute(select(func.count(Body.id))).scalar_one() > 70
    engine.dispose()
