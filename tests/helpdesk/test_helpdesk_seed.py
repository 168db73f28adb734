"""The helpdesk seed: it validates, loads into SQLite and PostgreSQL, keeps every source and date,
links graph organisations instead of copying them, and covers the family's countries (the gaps
it still has are listed here, so that losing a country fails and filling one is noticed)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.graph.models import AuditEntry
from permedhub.helpdesk.loading import prepare
from permedhub.helpdesk.models import Body, Faq, Funding, Rule
from permedhub.helpdesk.seed import seed, seed_files

GROUPS = {
    "EU/EEA": "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "IS LI NO",
    "EULAC-PerMed": "AR BR CL UY PA MX CO PE CR CU",
    "China": "CN",
    "EU-Africa PerMed": "ZA KE EG NG TZ RW GH SN",
}


def codes(text: str) -> set[str]:
    return set(text.split())


# Countries the seed has no sourced medicines regulator / research funder for yet (none left: a
# country that loses its record fails here).
REGULATOR_GAPS: dict[str, set[str]] = {group: set() for group in GROUPS}
FUNDER_GAPS: dict[str, set[str]] = {group: set() for group in GROUPS}
MODELS = (Body, Rule, Funding, Faq)


@pytest.fixture(scope="module")
def declared():
    prepared, issues = prepare(seed_files())
    assert issues == []
    return prepared.rows


def _jurisdictions(rows, **match):
    return {r["jurisdiction"] for r in rows if all(r.get(k) == v for k, v in match.items())}


@pytest.mark.parametrize("group", GROUPS)
def test_every_country_has_a_sourced_medicines_regulator_except_the_listed_gaps(declared, group):
    have = _jurisdictions(declared["bodies"], role="medicines-regulator")
    missing = {c for c in GROUPS[group].split() if c not in have}
    assert missing == REGULATOR_GAPS[group], f"{group}: no medicines regulator for {missing}"


@pytest.mark.parametrize("group", GROUPS)
def test_every_country_has_a_research_funder_except_the_listed_gaps(declared, group):
    have = _jurisdictions(declared["funding"])
    missing = {c for c in GROUPS[group].split() if c not in have}
    assert missing == FUNDER_GAPS[group], f"{group}: no research funder for {missing}"


def test_the_eu_rules_hold_the_regulation_s_timelines(declared):
    days = {r["id"]: r["days"] for r in declared["rules"] if r["jurisdiction"] == "EU"}
    assert days["eu-modification-validation"] == 6
    assert days["eu-modification-assessment"] == 38
    assert days["eu-modification-decision"] == 5
    assert days["eu-notify-start"] == 15


def test_graph_funders_are_linked_not_copied(declared):
    linked = [r for r in declared["funding"] if r["organisation_id"] and r["kind"] == "agency"]
    assert {r["organisation_id"] for r in linked} >= {"isciii", "fwf", "anr", "confap", "asrt"}
    assert all(r["name"] is None and r["acronym"] is None for r in linked)


def test_the_seed_loads_with_every_source_and_date_and_again_changes_nothing(engine, declared):
    report = seed(engine)
    assert {s: c.created for s, c in report.counts.items()} == {
        s: len(rows) for s, rows in declared.items()
    }
    with Session(engine) as session:
        for model in MODELS:
            rows = session.execute(select(model.source, model.verified_on)).all()
            assert rows and all(source for source, _ in rows), model.__tablename__
            assert {day for _, day in rows} == {dt.date(2026, 12, 7)}, model.__tablename__
        anmat = session.get(Body, "ar-anmat")
        assert anmat is not None and anmat.organisation_id == "anmat" and anmat.name is None
        faq = session.get(Faq, "faq-br-quem-aprova-ensaios-pt")
        assert faq is not None and faq.language == "pt" and faq.jurisdictions == ["BR"]
        audits = session.execute(select(func.count(AuditEntry.id))).scalar_one()
    again = seed(engine)  # seeding again changes nothing and audits nothing
    assert all(c.created == c.changed == 0 for c in again.counts.values())
    with Session(engine) as session:
        assert session.execute(select(func.count(AuditEntry.id))).scalar_one() == audits
