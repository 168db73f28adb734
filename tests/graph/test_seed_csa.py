"""The CSAs' and EP PerMed's partner lists as seeded: each partner located or doubted, each
record sourced, and no consortium larger (or spread wider) than its own pages say it is."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from permedhub.graph.models import Initiative, Organisation, Participation
from permedhub.graph.schemas import ParticipationIn
from permedhub.graph.seed import seed_files

CSA_FILE = "csa-partners.yaml"
# No page read names HEcoPerMed's coordinator; every other CSA has one.
CSAS_WITHOUT_A_SOURCED_COORDINATOR = {"hecopermed"}


@dataclass(frozen=True)
class Partner:
    organisation: str
    role: str
    country: str | None
    doubted: bool  # the organisation's country (or the whole record) is marked uncertain


def _partners(engine: Engine) -> dict[str, list[Partner]]:
    """Initiative id -> its partners, for the CSAs and EP PerMed."""
    with Session(engine) as session:
        rows = session.execute(
            select(Participation, Organisation)
            .join(Organisation, Organisation.id == Participation.organisation_id)
            .join(Initiative, Initiative.id == Participation.initiative_id)
            .where((Initiative.kind == "csa") | (Initiative.id == "ep-permed"))
        ).all()
        csas = session.execute(select(Initiative.id).where(Initiative.kind == "csa")).scalars()
        found: dict[str, list[Partner]] = {initiative: [] for initiative in csas}
    for participation, organisation in rows:
        doubted = bool({"country", "record"} & set(organisation.uncertain or {}))
        found.setdefault(participation.initiative_id, []).append(
            Partner(organisation.id, participation.role, organisation.country_code, doubted)
        )
    return found


def _organisations(partners: list[Partner]) -> set[str]:
    return {p.organisation for p in partners}


def _countries(partners: list[Partner]) -> set[str | None]:
    return {p.country for p in partners}


def _seed_documents() -> dict[str, dict]:
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in seed_files()}


def test_every_csa_but_hecopermed_has_exactly_one_coordinator(engine):
    partners = _partners(engine)
    coordinators = {
        initiative: [p.organisation for p in found if p.role == "coordinator"]
        for initiative, found in partners.items()
        if initiative != "ep-permed"
    }
    assert {i for i, c in coordinators.items() if not c} == CSAS_WITHOUT_A_SOURCED_COORDINATOR
    assert {i: c for i, c in coordinators.items() if len(c) > 1} == {}
    assert [p.organisation for p in partners["ep-permed"] if p.role == "coordinator"] == ["dlr-pt"]


def test_every_partner_has_a_country_or_a_doubt_about_it(engine):
    unplaced = sorted(
        f"{initiative}:{p.organisation}"
        for initiative, found in _partners(engine).items()
        for p in found
        if p.country is None and not p.doubted
    )
    assert unplaced == []


def test_every_record_of_the_csa_file_cites_a_web_page():
    document = _seed_documents()[CSA_FILE]
    records = [*document["organisations"], *document["participations"]]
    assert records
    uncited = [
        r for r in records if not str(r.get("source", "")).startswith(("https://", "http://"))
    ]
    assert uncited == []


def test_no_participation_is_listed_twice_across_the_seed_files():
    ids = Counter(
        ParticipationIn.model_validate(row).id
        for document in _seed_documents().values()
        for row in (document or {}).get("participations", [])
    )
    assert {pid: n for pid, n in ids.items() if n > 1} == {}


def test_no_organisation_is_defined_twice_across_the_seed_files():
    ids = Counter(
        row["id"]
        for document in _seed_documents().values()
        for row in (document or {}).get("organisations", [])
    )
    assert {oid: n for oid, n in ids.items() if n > 1} == {}


def test_sino_eu_permed_has_all_six_partners_four_european_two_chinese(engine):
    # https://www.internationales-buero.de/en/new_website_on_eu-china_cooperation_in_personalised_medicine.php
    found = _partners(engine)["sino-eu-permed"]
    assert len(_organisations(found)) == 6
    assert Counter(p.country for p in found) == Counter(
        {"DE": 1, "DK": 1, "IT": 1, "IE": 1, "CN": 2}
    )


def test_eulac_permed_stays_within_eleven_organisations_in_its_ten_countries(engine):
    # https://www.eulac-permed.eu/ : 11 organisations from these 10 countries.
    stated = {"ES", "DE", "BR", "IT", "CL", "FR", "UY", "PA", "IL", "AR"}
    found = _partners(engine)["eulac-permed"]
    assert len(_organisations(found)) <= 11
    assert _countries(found) <= stated
    if len(_organisations(found)) == 11:
        assert _countries(found) == stated
    # The Latin American partners the pages name: ANII, ICGES and FIOCRUZ.
    assert {"UY", "PA", "BR"} <= _countries(found)


def test_eu_africa_permed_stays_within_six_european_and_seven_african_partners(engine):
    # https://aphrc.org/project/eu-africa-permed/ : 13 partners, six European, seven African;
    # their countries per https://www.forlitoday.it/cronaca/lotta-ai-tumori-un-ponte-tra-europa-e-africa-l-irst-collabora-in-un-progetto-di-medicina-personalizzata-in-oncologia.html
    european, african = {"FR", "IT", "ES"}, {"EG", "KE", "SN", "ZA", "TZ"}
    found = _partners(engine)["eu-africa-permed"]
    assert _countries(found) <= european | african
    assert len({p.organisation for p in found if p.country in european}) <= 6
    assert len({p.organisation for p in found if p.country in african}) <= 7


@pytest.mark.parametrize("secretariat", ["icpermed-secretariat-1", "icpermed-secretariat-2"])
def test_an_icpermed_secretariat_has_at_most_four_partners_from_four_countries(engine, secretariat):
    # https://www.icpermed.eu/en/icpermed-secretariat.php : four partners from four countries.
    found = _partners(engine)[secretariat]
    assert len(_organisations(found)) <= 4
    assert len(_countries(found)) == len(_organisations(found))


def test_ep_permed_partners_include_its_italian_partners_and_stay_within_its_size(engine):
    # https://www.gesundheitsforschung-bmftr.de/de/europaische-partnerschaft-fur-personalisierte-medizin-ep-permed-18587.php
    # : 61 partners from 28 countries (and 11 regions).
    found = _partners(engine)["ep-permed"]
    assert len(_organisations(found)) <= 61
    assert len(_countries(found) - {None}) <= 28
    # https://www.toscanalifesciences.org/it/comunicati-stampa/ep-permed-a-siena-50-paesi-lanciano-la-sfida-della-medicina-di-precisione/
    italian = {"it-moh", "mur", "tuscreg", "tls", "telethon", "frrb"}
    assert italian <= _organisations(found)
    assert {p.country for p in found if p.organisation in italian} == {"IT"}


def test_saxony_is_one_organisation_the_saxon_state_ministry(engine):
    # The Regions4PerMed partner "Saxony" and the ERA PerMed funder SMWK are one body: SMWK
    # applied for the CSA for the Free State of Saxony
    # (https://www.medienservice.sachsen.de/medien/news/217529).
    with Session(engine) as session:
        saxon = session.execute(
            select(Organisation).where(Organisation.subdivision_code == "DE-SN")
        ).scalars()
        saxon_ids = [o.id for o in saxon if o.kind == "regional-government"]
    assert saxon_ids == ["smwk"]
    partners = _partners(engine)
    assert "smwk" in _organisations(partners["regions4permed"])
    assert len(_organisations(partners["regions4permed"])) == 6


def test_eu_africa_permed_names_nine_of_its_thirteen_partners_with_samrc(engine):
    # https://www.euafrica-permed.eu/2nd-eu-africa-permed-stakeholder-workshop/ : the workshop
    # was "hosted by the SAMRC, with contribution from other consortium members".
    found = _partners(engine)["eu-africa-permed"]
    assert len(_organisations(found)) >= 9
    assert Partner("samrc", "partner", "ZA", False) in found


def test_hecopermed_partners_are_inferred_and_marked_so(engine):
    # https://pure.eur.nl/en/publications/guidance-for-the-harmonisation-and-improvement-of-economic-evalua
    # : the HEcoPerMed Consortium's guidance, by authors from EUR, Syreon and Oxford.
    with Session(engine) as session:
        participations = session.execute(
            select(Participation).where(Participation.initiative_id == "hecopermed")
        ).scalars()
        doubts = {p.organisation_id: p.uncertain for p in participations}
    assert set(doubts) >= {
        "erasmus-university-rotterdam",
        "syreon-research-institute",
        "university-of-oxford",
    }
    assert all("record" in marks for marks in doubts.values())
    countries = _countries(_partners(engine)["hecopermed"])
    assert {"NL", "HU", "GB"} <= countries


def test_ep_permed_names_vinnova_smwk_and_doubts_partners_read_off_call_pages(engine):
    found = _partners(engine)["ep-permed"]
    assert len(_organisations(found)) >= 21
    # Named as partners: VINNOVA on the governance page, SMWK by its own call notice.
    assert {"vinnova", "smwk"} <= _organisations(found)
    with Session(engine) as session:
        participations = session.execute(
            select(Participation).where(Participation.initiative_id == "ep-permed")
        ).scalars()
        doubts = {p.organisation_id: p.uncertain for p in participations}
    assert not doubts["vinnova"] and not doubts["smwk"]
    # Funders of JTC2024 per their own pages: partnership presumed, so doubted.
    assert all("record" in doubts[o] for o in ("vr", "hrb", "sfi", "navarre"))
