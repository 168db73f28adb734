"""The family's funders as seeded: calls agree with their funders, partners have countries, the
counts the sources state are met, and every funder record cites the web page it was read on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from permedhub.graph.models import Call, Initiative, Organisation, Participation
from permedhub.graph.seed import seed_files

FUNDERS_FILE = "funders.yaml"


def _seed_documents() -> dict[str, dict[str, Any]]:
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in seed_files()}


def _is_web_address(citation: str) -> bool:
    return citation.startswith(("http://", "https://")) and " " not in citation


def _citations(value: str) -> list[str]:
    # The seed separates several pages cited for one fact with " ; ".
    return [part.strip() for part in value.split(" ; ")]


def _place(organisation: Organisation) -> str | None:
    """Where a funder funds: its region if it is a regional body, else its country."""
    return organisation.subdivision_code or organisation.country_code


def _participants(session: Session, initiative: str) -> list[tuple[Participation, Organisation]]:
    rows = session.execute(
        select(Participation, Organisation)
        .join(Organisation, Organisation.id == Participation.organisation_id)
        .where(Participation.initiative_id == initiative)
    )
    return [(p, o) for p, o in rows]


def _call(session: Session, call_id: str) -> Call:
    return session.execute(select(Call).where(Call.id == call_id)).scalar_one()


def test_every_call_lists_the_country_or_region_of_each_of_its_funders(engine: Engine) -> None:
    with Session(engine) as session:
        organisations = {o.id: o for o in session.execute(select(Organisation)).scalars()}
        missing = [
            (call.id, funder, _place(organisations[funder]))
            for call in session.execute(select(Call)).scalars()
            for funder in call.funder_ids
            if _place(organisations[funder]) not in call.countries
        ]
    assert missing == []


def test_every_erapermed_joint_call_names_funders(engine: Engine) -> None:
    with Session(engine) as session:
        calls = session.execute(select(Call).where(Call.initiative_id == "erapermed")).scalars()
        without = [call.id for call in calls if not call.funder_ids]
    assert without == []


def test_spanish_national_funders_put_spain_in_their_calls(engine: Engine) -> None:
    with Session(engine) as session:
        for call_id, funder in [
            ("erapermed-jtc2019", "isciii"),
            ("erapermed-jtc2019", "aecc"),
            ("erapermed-jtc2020", "cdti"),
            ("erapermed-jtc2022", "isciii"),
        ]:
            call = _call(session, call_id)
            assert funder in call.funder_ids and "ES" in call.countries, call_id


def test_erapermed_partners_come_from_its_declared_countries(engine: Engine) -> None:
    with Session(engine) as session:
        erapermed = session.get(Initiative, "erapermed")
        assert erapermed is not None
        declared = set(erapermed.countries)
        partners = _participants(session, "erapermed")
    outside = [(o.id, o.country_code) for _, o in partners if o.country_code not in declared]
    assert outside == []
    # "32 partners of 23 countries": no more partners than the consortium has.
    assert len({o.id for _, o in partners}) <= 32


def test_jtc2020_spans_the_23_countries_and_6_regions_it_announced(engine: Engine) -> None:
    with Session(engine) as session:
        countries = _call(session, "erapermed-jtc2020").countries
    regions = [code for code in countries if "-" in code]
    assert len({code.split("-")[0] for code in countries}) == 23
    assert len(regions) == 6


def test_jtc2021_names_the_5_regions_of_its_pre_announcement(engine: Engine) -> None:
    with Session(engine) as session:
        countries = _call(session, "erapermed-jtc2021").countries
    assert sorted(code for code in countries if "-" in code) == [
        "DE-SN",
        "ES-CT",
        "ES-NC",
        "IT-25",
        "IT-52",
    ]


def test_icpermed_participants_are_members_or_observers_from_its_28_countries(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        participants = _participants(session, "icpermed")
    assert participants
    assert {p.role for p, _ in participants} <= {"member", "observer"}
    national = [o for _, o in participants if o.kind != "intergovernmental"]
    assert all(o.country_code for o in national)
    assert len({o.country_code for o in national}) <= 28


def test_presumed_coordinators_are_marked_uncertain(engine: Engine) -> None:
    with Session(engine) as session:
        for initiative in ("icpermed-secretariat-2", "eulac-permed"):
            coordinators = [
                p for p, _ in _participants(session, initiative) if p.role == "coordinator"
            ]
            assert coordinators and all("record" in p.uncertain for p in coordinators), initiative


def test_every_funder_record_cites_a_web_page() -> None:
    document = _seed_documents()[FUNDERS_FILE]
    records = [r for rows in document.values() if isinstance(rows, list) for r in rows]
    assert records
    for record in records:
        assert _is_web_address(record["source"]), record
        for field, citation in record.get("sources", {}).items():
            assert all(_is_web_address(c) for c in _citations(citation)), (record, field)


def test_call_funders_cite_the_pages_they_were_read_on() -> None:
    calls = _seed_documents()["relations.yaml"]["calls"]
    for call in calls:
        if call.get("funders"):
            citation = call.get("sources", {}).get("funders") or call["source"]
            assert all(_is_web_address(c) for c in _citations(citation)), call["id"]


@pytest.mark.parametrize("key", ["id", "name", "acronym"])
def test_funders_reuse_organisations_defined_elsewhere_in_the_seed(key: str) -> None:
    documents = _seed_documents()

    def values(name: str) -> set[str]:
        rows = documents[name].get("organisations", [])
        return {str(r[key]).casefold() for r in rows if r.get(key)}

    others = set().union(*(values(name) for name in documents if name != FUNDERS_FILE))
    assert values(FUNDERS_FILE) & others == set()


def test_seed_file_order_loads_funders_before_the_relations_citing_them() -> None:
    names = [path.name for path in seed_files()]
    assert names.index("organisations.yaml") < names.index(FUNDERS_FILE)
    assert names.index(FUNDERS_FILE) < names.index("relations.yaml")
    assert Path(seed_files()[names.index(FUNDERS_FILE)]).is_file()


def test_erapermed_partners_cover_most_of_its_23_countries(engine):
    # 32 funding organisations from 23 countries; the seed names 27 of them in 20 countries
    # (Hungary, Israel and Norway have no named partner yet).
    with Session(engine) as session:
        partners = _participants(session, "erapermed")
    assert len({o.id for _, o in partners}) >= 27
    assert len({o.country_code for _, o in partners}) >= 20
    countries = {o.id: o.country_code for _, o in partners}
    assert countries["mizs"] == "SI" and countries["uefiscdi"] == "RO"
    # Both are read from the 2018 call's guidelines, not from a partner list: marked uncertain.
    assert all("record" in p.uncertain for p, o in partners if o.id in {"mizs", "uefiscdi"})


@pytest.mark.parametrize(
    ("call_id", "funders"),
    [
        ("erapermed-jtc2018", {"cihr", "ncbr", "smwk", "bmbf", "ee-msa", "mizs"}),
        ("erapermed-jtc2019", {"ifd", "fnr", "vr", "bmg"}),
        ("erapermed-jtc2020", {"fnr", "vr", "tubitak", "cdti"}),
        ("erapermed-jtc2022", {"bmg", "vinnova", "hrb", "navarre"}),
    ],
)
def test_joint_calls_name_the_funders_their_national_pages_name(
    engine: Engine, call_id: str, funders: set[str]
) -> None:
    with Session(engine) as session:
        assert funders <= set(_call(session, call_id).funder_ids)


ICPERMED_FILE = "icpermed-members.yaml"


def test_icpermed_members_include_fiocruz_and_mark_inferred_memberships(engine: Engine) -> None:
    with Session(engine) as session:
        members = {o.id: (p, o) for p, o in _participants(session, "icpermed")}
    assert len(members) >= 12
    participation, fiocruz = members["fiocruz"]
    # https://www.icpermed.eu/en/brazil-is-new-icpermed-member.php
    assert fiocruz.country_code == "BR" and participation.role == "member"
    assert not participation.uncertain
    # "actively involved in ICPerMed" is not "member": the two SINO-EU PerMed partners stay doubted.
    assert all("record" in members[oid][0].uncertain for oid in ("ifd", "tls"))


def test_icpermed_members_file_cites_web_pages_and_loads_before_relations() -> None:
    document = _seed_documents()[ICPERMED_FILE]
    assert set(document) == {"participations"}
    for record in document["participations"]:
        assert record["initiative"] == "icpermed", record
        assert _is_web_address(record["source"]), record
    names = [path.name for path in seed_files()]
    # Its members are defined in organisations, funders and CSA partner files.
    assert names.index("csa-partners.yaml") < names.index(ICPERMED_FILE)
    assert names.index(ICPERMED_FILE) < names.index("relations.yaml")
