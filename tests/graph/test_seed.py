"""The family seed: every initiative of the ICPerMed family page, with facts, sources and doubts."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.graph.models import AuditEntry, Initiative, Organisation, Participation
from permedhub.graph.queries import get_initiative, list_initiatives
from permedhub.graph.seed import seed

FAMILY = {
    "icpermed",
    "icpermed-secretariat-1",
    "icpermed-secretariat-2",
    "erapermed",
    "sino-eu-permed",
    "hecopermed",
    "ic2permed",
    "permit",
    "saphire",
    "regions4permed",
    "eulac-permed",
    "eu-africa-permed",
    "ep-permed",
    "era4health",
}


def test_every_initiative_of_the_family_is_seeded_with_a_source(engine):
    with Session(engine) as session:
        page = list_initiatives(session, per_page=500)
    assert {i.id for i in page.items} >= FAMILY
    # Besides the family itself the seed holds only the projects its calls funded.
    assert {i.kind for i in page.items if i.id not in FAMILY} <= {"project"}
    assert all(i.source for i in page.items)


def test_erapermed_facts_as_published(engine):
    with Session(engine) as session:
        era = get_initiative(session, "erapermed")
    assert era.grant_id == "779282"
    assert era.kind == "era-net-cofund"
    assert era.start == "2017-12-01"
    assert "end" in era.uncertain  # CORDIS reports to 2023-11-30
    assert [c.id for c in era.coordinators] == ["isciii"]
    assert len([c for c in era.countries if "declared" in c.via and "-" not in c.code]) == 23
    assert [c.id for c in era.calls] == [f"erapermed-jtc{y}" for y in range(2018, 2023)]
    jtc2019 = era.calls[1]
    assert jtc2019.secretariat and jtc2019.secretariat.id == "anr"
    assert jtc2019.budget_eur == 30_000_000 and "budget_eur" in jtc2019.approximate
    assert {"icpermed", "ep-permed"} <= {link.initiative_id for link in era.links}


def test_unknown_values_stay_empty_and_doubts_stay_marked(engine):
    with Session(engine) as session:
        heco = get_initiative(session, "hecopermed")
        eulac = get_initiative(session, "eulac-permed")
        e4h = get_initiative(session, "era4health")
    assert heco.coordinators == []  # coordinator not found in sources
    # Its partners are inferred from the consortium's guidance article, so each is doubted.
    assert heco.partners and all("record" in p.uncertain for p in heco.partners)
    assert "start" in heco.uncertain
    assert e4h.start is None and e4h.end is None and e4h.eu_contribution_eur is None
    coordinator = next(p for p in eulac.partners if p.role == "coordinator")
    assert coordinator.organisation.id == "isciii" and "record" in coordinator.uncertain


def test_month_precision_dates_are_kept(engine):
    with Session(engine) as session:
        sino = get_initiative(session, "sino-eu-permed")
    assert (sino.start, sino.start_precision) == ("2020-01-01", "month")
    assert (sino.end, sino.end_precision) == ("2024-06-30", "month")


def test_seeding_again_changes_nothing(engine, seed_declared):
    with Session(engine) as session:
        before = session.execute(select(func.count(AuditEntry.id))).scalar_one()
    report = seed(engine)
    assert all(c.created == 0 and c.changed == 0 for c in report.counts.values())
    with Session(engine) as session:
        assert session.execute(select(func.count(AuditEntry.id))).scalar_one() == before
        counts = {
            "initiatives": select(func.count(Initiative.id)),
            "organisations": select(func.count(Organisation.id)),
            "participations": select(func.count(Participation.id)),
        }
        for section, query in counts.items():
            assert session.execute(query).scalar_one() == len(seed_declared[section]), section
