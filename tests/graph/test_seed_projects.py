"""The funded projects in the seed (one file per group of calls): each linked to its call,
with a coordinator or the stated reason there is none, dates that fit the call, partners that
exist with a country, sources for every record, and no more projects than a call funded."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.graph.models import Call, Initiative, Link, Organisation, Participation
from permedhub.graph.seed import seed_files

# File -> the calls its projects may belong to (None: any call) and whether every project's
# start is published or the project says why not (`facts.start`).
PROJECT_FILES: dict[str, tuple[set[str] | None, bool]] = {
    "projects-jtc2018-2019.yaml": ({"erapermed-jtc2018", "erapermed-jtc2019"}, False),
    "projects-jtc2020-2022.yaml": (None, True),
}
URL = re.compile(r"^https?://\S+$")
# A funded project starts after its call closes and runs a few years: ERA PerMed projects are
# funded for about three years, so anything outside these bounds is a typing error.
START_DELAY_YEARS = (0, 2)
MAX_DURATION_YEARS = 5
STATED_CONSORTIA = {
    "erapermed-pattern-cog": (6, None),  # "brings together six partners" (kick-off news)
    "erapermed-percard": (4, 3),  # Tampere, POLIMI, CCM, PUL: Finland, Italy, Germany
    "erapermed-per-neph": (4, 3),  # Meyer, UniFi, Bellvitge, LMU hospital: Italy, Spain, Germany
}
# A sample of the projects each call must keep: dropping a record fails here, not silently.
PROJECTS_BY_CALL = {
    "erapermed-jtc2018": {"RADprecise", "JAKSTAT-TARGET", "PerProGlio", "TREAT-Essential"},
    "erapermed-jtc2019": {"P4-LUCAT", "SuPerTreat", "GRAMMY", "PerHeart"},
    "erapermed-jtc2020": {"DIGIPD", "RESPECT"},
    "erapermed-jtc2021": {"Pattern-Cog", "EDAP-AD", "PerCard", "ScandRA", "Per-Neph", "PETictCAC"},
    "erapermed-jtc2022": {"PERMANENS", "OPTIMA", "ArtiPro"},
}
# (project, organisation, role) that a cited source states; each must stay in the seed.
STATED_PARTICIPATIONS = [
    ("erapermed-radprecise", "polimi", "partner"),
    ("erapermed-supertreat", "uio", "partner"),
    ("erapermed-digipd", "fraunhofer-scai", "coordinator"),
    ("erapermed-per-neph", "aou-meyer", "coordinator"),
    ("erapermed-petictcac", "aou-careggi", "partner"),
    ("erapermed-jakstat-target", "university-of-helsinki", "coordinator"),
    ("erapermed-perproglio", "university-of-marburg", "coordinator"),
    ("erapermed-respect", "heidelberg-university", "partner"),
    ("erapermed-artipro", "irccs-isnb", "partner"),
]


def _path(name: str) -> Path:
    return Path(next(p for p in seed_files() if p.name == name))


def _document(name: str) -> dict[str, Any]:
    return yaml.safe_load(_path(name).read_text(encoding="utf-8"))


def _projects() -> list[tuple[str, str]]:
    return [
        (name, record["id"]) for name in PROJECT_FILES for record in _document(name)["initiatives"]
    ]


@pytest.mark.parametrize("name", PROJECT_FILES)
def test_the_file_is_part_of_the_seed_and_holds_projects_of_its_calls_only(name):
    records = _document(name)["initiatives"]
    assert records, f"{name} declares no project"
    assert {record["kind"] for record in records} == {"project"}
    calls = PROJECT_FILES[name][0]
    if calls is not None:
        assert {record["call_topic"] for record in records} <= calls


@pytest.mark.parametrize(("name", "project_id"), _projects())
def test_each_project_names_its_call_and_the_call_initiative_funds_it(engine, name, project_id):
    with Session(engine) as session:
        project = session.get(Initiative, project_id)
        assert project is not None and project.kind == "project"
        call = session.get(Call, project.call_topic)
        assert call is not None, f"{project_id}: call_topic {project.call_topic!r} is no call id"
        link = session.execute(
            select(Link).where(Link.from_id == call.initiative_id, Link.to_id == project_id)
        ).scalar_one_or_none()
    assert link is not None and link.kind == "cofunds", (
        f"{project_id}: {call.initiative_id} has no cofunds link to it"
    )
    assert project.programme and str(call.year) in project.programme


@pytest.mark.parametrize(("name", "project_id"), _projects())
def test_each_project_has_a_coordinator_or_says_why_not(engine, name, project_id):
    with Session(engine) as session:
        project = session.get(Initiative, project_id)
        roles = list(
            session.execute(
                select(Participation.role).where(Participation.initiative_id == project_id)
            ).scalars()
        )
    assert project is not None
    assert roles.count("coordinator") == 1 or (
        "coordinator" not in roles and "coordinator" in (project.facts or {})
    ), f"{project_id}: roles {roles}, facts {project.facts}"


@pytest.mark.parametrize(("name", "project_id"), _projects())
def test_known_dates_fit_the_call_year(engine, name, project_id):
    with Session(engine) as session:
        project = session.get(Initiative, project_id)
        assert project is not None
        call = session.get(Call, project.call_topic)
    assert call is not None and call.year is not None
    if PROJECT_FILES[name][1]:
        assert project.start_date is not None or "start" in (project.facts or {}), (
            f"{project_id}: neither a start nor why it is unknown"
        )
    if project.start_date is not None:
        delay = project.start_date.year - call.year
        assert START_DELAY_YEARS[0] <= delay <= START_DELAY_YEARS[1], (
            f"{project_id} starts {project.start_date}, call year {call.year}"
        )
    if project.end_date is not None:
        assert project.start_date is not None, f"{project_id} has an end without a start"
        assert project.start_date < project.end_date
        assert project.end_date.year - project.start_date.year <= MAX_DURATION_YEARS


@pytest.mark.parametrize("name", PROJECT_FILES)
def test_every_partner_organisation_exists_with_a_country(engine, name):
    projects = {project_id for file, project_id in _projects() if file == name}
    with Session(engine) as session:
        rows = session.execute(
            select(Participation.initiative_id, Participation.organisation_id, Organisation)
            .join(Organisation, Organisation.id == Participation.organisation_id, isouter=True)
            .where(Participation.initiative_id.in_(projects))
        ).all()
    assert rows, "no participation on the projects"
    assert [(p, o) for p, o, org in rows if org is None or not org.country_code] == []


@pytest.mark.parametrize("name", PROJECT_FILES)
def test_every_record_has_http_sources_and_no_personal_data(name):
    document = _document(name)
    sections = ("organisations", "initiatives", "links", "participations")
    records = [record for section in sections for record in document.get(section, [])]
    assert records
    for record in records:
        citations = [part.strip() for part in (record.get("source") or "").split(" ; ")]
        assert all(URL.match(c) for c in citations), record
    text = _path(name).read_text(encoding="utf-8")
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text), "an e-mail address is in the file"


@pytest.mark.parametrize("name", PROJECT_FILES)
def test_new_organisations_do_not_redefine_one_of_another_seed_file(name):
    known: set[str] = set()
    for path in (p for p in seed_files() if p.name != name):
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        known |= {record["id"] for record in document.get("organisations", [])}
    mine = {record["id"] for record in _document(name)["organisations"]}
    assert mine.isdisjoint(known), mine & known


@pytest.mark.parametrize("project_id", sorted(STATED_CONSORTIA))
def test_consortium_sizes_the_sources_state_are_met(engine, project_id):
    organisations, countries = STATED_CONSORTIA[project_id]
    with Session(engine) as session:
        rows = session.execute(
            select(Organisation.id, Organisation.country_code)
            .join(Participation, Participation.organisation_id == Organisation.id)
            .where(Participation.initiative_id == project_id)
        ).all()
    assert len(rows) == organisations
    if countries is not None:
        assert len({country for _, country in rows}) == countries


@pytest.mark.parametrize("name", PROJECT_FILES)
def test_no_call_has_more_projects_than_its_sources_say_it_funded(engine, name):
    published = _document(name)["meta"]["calls_as_published"]
    if "erapermed-jtc2018" in published:
        assert published["erapermed-jtc2018"]["projects_funded"] == 25
    with Session(engine) as session:
        for call_id, stated in published.items():
            found = session.execute(
                select(func.count(Initiative.id)).where(
                    Initiative.kind == "project", Initiative.call_topic == call_id
                )
            ).scalar_one()
            if stated.get("projects_funded") is not None:
                assert found <= stated["projects_funded"], (call_id, found)


@pytest.mark.parametrize("call_id", sorted(PROJECTS_BY_CALL))
def test_each_call_keeps_its_sampled_projects(engine, call_id):
    with Session(engine) as session:
        acronyms = set(
            session.execute(
                select(Initiative.acronym).where(
                    Initiative.kind == "project", Initiative.call_topic == call_id
                )
            ).scalars()
        )
    assert PROJECTS_BY_CALL[call_id] <= acronyms, PROJECTS_BY_CALL[call_id] - acronyms


@pytest.mark.parametrize(("project_id", "organisation_id", "role"), STATED_PARTICIPATIONS)
def test_stated_participations_are_seeded(engine, project_id, organisation_id, role):
    with Session(engine) as session:
        found = session.execute(
            select(Participation.role).where(
                Participation.initiative_id == project_id,
                Participation.organisation_id == organisation_id,
            )
        ).scalar_one_or_none()
    assert found == role
