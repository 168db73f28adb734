"""`permedhub atlas ...` as a user types it: JSON on stdout and nothing else, errors on stderr
with exit code 2, the seed loaded by `db seed`, a report with its sources."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from permedhub.atlas.models import RECORDS
from permedhub.cli.main import app
from permedhub.db import make_engine


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A file database seeded with the family, the helpdesk and the atlas by `db seed`."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["db", "seed"])
    assert result.exit_code == 0, result.output
    assert "loaded: atlas" in result.stdout
    return url


def run(*args: str):
    return CliRunner().invoke(app, ["atlas", *args])


def test_db_seed_loads_every_sourced_atlas_record(database):
    import yaml

    from permedhub.atlas.seed import seed_files

    declared = [r for f in seed_files() for r in yaml.safe_load(f.read_text("utf-8"))["records"]]
    assert all(r["source"].startswith(("http://", "https://")) for r in declared)
    engine = make_engine(database)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(RECORDS)).scalar_one() == len(
            declared
        )
    engine.dispose()


def test_coverage_gaps_mutual_and_network_answer_json(database):
    result = run("coverage", "--region", "eu27", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    # PFMG2025 and its two sequencing platforms, SeqOIA (FR-IDF) and AURAGEN (FR-ARA)
    assert body["records"]["FR"]["v2030-implementation"] == 3
    assert body["records"]["ES"]["v2030-implementation"] == 2  # IMPaCT, the PMP call
    result = run("gaps", "africa", "--json")
    gaps = json.loads(result.stdout)
    assert result.exit_code == 0 and {"topics_without_capacity", "to_invite", "absent"} <= set(gaps)
    result = run("mutual", "eu27", "celac", "--json")
    mutual = json.loads(result.stdout)
    assert mutual["shared"][0]["topic_id"] == "v2030-health-data"
    result = run("network", "--top", "5", "--json")
    network = json.loads(result.stdout)
    assert len(network["organisations"]) == 5 and network["growth"]


def test_bad_requests_exit_2_and_say_what_was_expected(database):
    result = run("gaps", "atlantis", "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "region 'atlantis': expected one of" in result.stderr
    result = run("coverage", "--by", "planet")
    assert result.exit_code == 2 and "expected 'country' or 'region'" in result.stderr


def test_template_then_import_of_a_bad_survey(database, tmp_path):
    result = run("template", "--out", str(tmp_path / "t"))
    assert result.exit_code == 0, result.output
    survey = tmp_path / "t" / "survey.csv"
    with survey.open("a", encoding="utf-8") as handle:
        handle.write("x-1,A record,,standard,QQ,,,,,,,,,,https://example.org,,,\n")
    result = run("import", str(survey), "--json")
    assert result.exit_code == 2
    issue = json.loads(result.stdout)["issues"][0]
    assert (issue["row"], issue["field"], issue["value"]) == (2, "countries.0", "QQ")
    assert "unknown country code" in result.stderr


def test_the_region_report_is_self_contained_and_cites_its_sources(database, tmp_path):
    out = tmp_path / "africa.html"
    result = run("report", "africa", "--with", "eu27", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<script src=" not in page  # Plotly inlined, nothing from another host
    assert "plotly" in page.lower() and "@media print" in page
    assert "https://www.samrc.ac.za/news/celebrating-scientific-milestones" in page
    assert "https://en.wikipedia.org/wiki/H3Africa" in page  # a per-field source
    assert "Mutual interest with eu27" in page
