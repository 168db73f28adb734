"""Comparing countries: every row has one cell per country, gaps stay empty and visible, EU
rules reach member states, stale facts are marked, and the exports carry the same facts (the
HTML one loads nothing from anywhere)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from permedhub.helpdesk.comparing import (
    ASPECTS,
    ROLES,
    CompareError,
    compare,
    parse_countries,
    to_csv,
    to_html,
)
from permedhub.helpdesk.models import Rule


def test_three_countries_side_by_side_with_their_sourced_facts(helpdesk_engine):
    with Session(helpdesk_engine) as session:
        comparison = compare(session, ["AR", "BRA", "cl"])
    assert comparison.countries == ("AR", "BR", "CL")
    assert comparison.names == {"AR": "Argentina", "BR": "Brazil", "CL": "Chile"}
    by_key = {(row.section, row.key): row for row in comparison.rows}
    assert {key for section, key in by_key if section == "regulators"} == set(ROLES)
    assert {key for section, key in by_key if section == "rules"} == set(ASPECTS)
    regulators = by_key[("regulators", "medicines-regulator")].cells
    # ANMAT and ANVISA are graph organisations: their names come from the graph (linked)
    assert "Administración Nacional de Medicamentos" in regulators["AR"][0].text
    assert regulators["BR"][0].detail.startswith("ANVISA")
    assert all(f.source and f.verified_on for facts in regulators.values() for f in facts)
    timeline = by_key[("rules", "timeline")].cells["BR"][0]
    assert "15 working days" in timeline.detail
    # Every one of the three has a funding agency now (the seed filled Argentina's gap); a
    # role the seed lacks for a country stays a gap, not a guess.
    assert by_key[("funding", "agency")].gaps() == []
    assert "Agencia" in by_key[("funding", "agency")].cells["AR"][0].text
    assert comparison.gap_count() == sum(len(row.gaps()) for row in comparison.rows) > 0


def test_an_eu_member_state_gets_the_union_s_rules_marked_eu_wide(helpdesk_engine):
    with Session(helpdesk_engine) as session:
        comparison = compare(session, ["DE", "AR"])
    rules = [f for row in comparison.rows if row.section == "rules" for f in row.cells["DE"]]
    assert any(f.eu_wide for f in rules) and not any(
        f.eu_wide for row in comparison.rows for f in row.cells["AR"]
    )
    assert comparison.eu_members == {"DE"}


def test_facts_older_than_the_stale_age_are_marked(helpdesk_engine, monkeypatch):
    with Session(helpdesk_engine) as session:
        session.execute(
            update(Rule).where(Rule.id == "br-deec-link").values(verified_on=dt.date(2020, 1, 1))
        )
        session.commit()
        fresh = compare(session, ["BR", "CL"], stale_after_days=10_000)
        stale = compare(session, ["BR", "CL"], stale_after_days=365)
        monkeypatch.setenv("PERMEDHUB_HELPDESK_STALE_DAYS", "30")
        configured = compare(session, ["BR", "CL"])
        monkeypatch.setenv("PERMEDHUB_HELPDESK_STALE_DAYS", "a year")
        with pytest.raises(ValueError, match="PERMEDHUB_HELPDESK_STALE_DAYS='a year'"):
            compare(session, ["BR", "CL"])
    assert fresh.stale_count() == 0
    marked = [f.id for row in stale.rows for facts in row.cells.values() for f in facts if f.stale]
    assert marked == ["br-deec-link"]
    assert configured.stale_after_days == 30


@pytest.mark.parametrize(
    ("countries", "field", "says"),
    [
        (["AR"], "countries", "at least 2"),
        (["AR", "BR", "CL", "UY", "PA", "MX"], "countries", "at most 5"),
        (["AR", "QQ"], "countries.1", "unknown jurisdiction 'QQ'"),
        (["AR", "ARG"], "countries", "AR named twice"),
        (["AR", "ES-NC"], "countries.1", "is not a country"),
        (["AR", "<script>"], "countries.1", "unknown jurisdiction"),
    ],
)
def test_bad_countries_are_refused_naming_field_value_and_expectation(countries, field, says):
    with pytest.raises(CompareError) as caught:
        parse_countries(countries)
    fields = [problem[0] for problem in caught.value.problems]
    assert field in fields and says in str(caught.value)


def test_csv_has_a_line_per_fact_and_per_gap_and_neutralises_formulas(helpdesk_engine):
    with Session(helpdesk_engine) as session:
        session.execute(
            update(Rule).where(Rule.id == "cl-insurance").values(statement="=HYPERLINK(1)")
        )
        session.commit()
        comparison = compare(session, ["AR", "CL"])
    rows = list(csv.DictReader(io.StringIO(to_csv(comparison))))
    facts = sum(len(f) for row in comparison.rows for f in row.cells.values())
    assert len(rows) == facts + comparison.gap_count()
    assert sum(r["status"] == "gap" for r in rows) == comparison.gap_count()
    insurance = next(r for r in rows if r["fact_id"] == "cl-insurance")
    assert insurance["fact"] == "'=HYPERLINK(1)" and insurance["source"].startswith("https://")


def test_html_export_is_self_contained_and_escapes_text(helpdesk_engine):
    with Session(helpdesk_engine) as session:
        session.execute(
            update(Rule).where(Rule.id == "cl-insurance").values(statement="<script>x()</script>")
        )
        session.commit()
        page = to_html(compare(session, ["AR", "CL"]))
    assert "<script" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", page)  # nothing to fetch
    assert "Gap: no sourced fact" in page and "Argentina (AR)" in page


def test_cli_compare_json_and_exports(helpdesk_engine, tmp_path, monkeypatch):
    from permedhub.cli.main import app

    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", helpdesk_engine.url.render_as_string(False))
    runner = CliRunner()
    result = runner.invoke(app, ["helpdesk", "compare", "AR", "BR", "CL", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [c["code"] for c in data["countries"]] == ["AR", "BR", "CL"]
    assert any(row["gaps"] for row in data["rows"])
    for name in ("cmp.csv", "cmp.html"):
        result = runner.invoke(
            app, ["helpdesk", "compare", "AR", "BR", "--out", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 1000
    result = runner.invoke(app, ["helpdesk", "compare", "AR", "QQ"])
    assert result.exit_code == 2 and "unknown jurisdiction 'QQ'" in result.stderr
    result = runner.invoke(
        app, ["helpdesk", "compare", "AR", "BR", "--out", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 2 and ".csv or .html" in result.stderr
