"""The five seeded ERA PerMed calls: each loads through the call schema, declares the facts its
sources state (and only those), names funders and a secretariat that exist in the graph seed,
and is consistent with the graph seed's record of the call and of the projects it funded."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from permedhub.calls.countries import eu_or_associated
from permedhub.calls.decision import decide
from permedhub.calls.documents import load_call, load_proposals, seeded_call_files
from permedhub.calls.eligibility import check
from permedhub.calls.errors import CallInputError
from permedhub.calls.model import Call
from permedhub.cli.main import app
from permedhub.graph.seed import seed_files

CALL_IDS = [f"erapermed-jtc{year}" for year in range(2018, 2023)]
FILES = {path.stem: path for path in seeded_call_files()}


@pytest.fixture(scope="module")
def graph_seed() -> dict[str, Any]:
    """The graph seed's organisations (id -> record), calls (id -> record) and projects."""
    organisations: dict[str, dict[str, Any]] = {}
    calls: dict[str, dict[str, Any]] = {}
    projects: list[dict[str, Any]] = []
    participations: list[dict[str, Any]] = []
    for path in seed_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        organisations.update({o["id"]: o for o in data.get("organisations") or []})
        calls.update({c["id"]: c for c in data.get("calls") or []})
        projects += [i for i in data.get("initiatives") or [] if i.get("call_topic")]
        participations += data.get("participations") or []
    return {"organisations": organisations, "calls": calls, "projects": projects,
            "participations": participations}  # fmt: skip


@pytest.fixture(scope="module")
def calls() -> dict[str, Call]:
    return {name: load_call(path) for name, path in FILES.items()}


def test_the_five_calls_are_seeded_as_package_data() -> None:
    assert sorted(FILES) == CALL_IDS
    for path in FILES.values():
        assert "permedhub/calls/seed" in path.as_posix()


@pytest.mark.parametrize("call_id", CALL_IDS)
def test_each_call_loads_with_its_own_id_and_is_not_synthetic(
    calls: dict[str, Call], call_id: str
) -> None:
    call = calls[call_id]
    assert call.id == call_id and not call.synthetic
    assert [s.name for s in call.stages] == ["pre-proposal", "full proposal"]


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# What the sources state, per call (the YAML files cite them): deadlines as instants,
# secretariat, approximate total budget, announced number of funders, consortium rules.
FACTS: dict[str, dict[str, Any]] = {
    "erapermed-jtc2018": {
        "deadlines": ["2018-04-10T17:00+01:00", "2018-07-05T17:00+02:00"],
        "secretariat": "isciii", "budget": None, "funders_count": 31,
        "consortium": {},
    },
    "erapermed-jtc2019": {
        "deadlines": ["2019-03-07T17:00+01:00", "2019-06-17T17:00+02:00"],
        "secretariat": "anr", "budget": 30_000_000, "funders_count": 31,
        "consortium": {"min_eligible_partners": 3, "min_countries": 3, "max_partners": 6,
                       "max_per_country": 2, "max_own_funded": 1,
                       "modules_one_of_each": [
                           ["module-1a", "module-1b", "module-2a", "module-2b"],
                           ["module-3a", "module-3b"]]},
    },
    "erapermed-jtc2020": {
        "deadlines": ["2020-03-05T17:00+01:00", "2020-06-15T17:00+02:00"],
        "secretariat": "dlr-pt", "budget": 27_000_000, "funders_count": 31,
        "consortium": {"min_eligible_partners": 3, "min_countries": 3,
                       "min_eu_associated_countries": {"countries": 2, "programme": "h2020"},
                       "modules_one_of_each": [
                           ["module-1a", "module-1b", "module-2a", "module-2b"],
                           ["module-3a", "module-3b", "module-3c", "module-3d"]]},
    },
    "erapermed-jtc2021": {
        "deadlines": ["2021-03-04T17:00+01:00", "2021-06-17T17:00+02:00"],
        "secretariat": "it-moh", "budget": 16_000_000, "funders_count": 30,
        "consortium": {"min_eligible_partners": 3, "min_countries": 3, "max_partners": 6,
                       "min_eu_associated_countries": {"countries": 2, "programme": "h2020"},
                       "coordinator_eligible": True,
                       "required_modules": ["clinical-research",
                                            "towards-application-in-healthcare", "elsa"]},
    },
    "erapermed-jtc2022": {
        "deadlines": ["2022-02-17T17:00+01:00", "2022-06-14T17:00+02:00"],
        "secretariat": "anr", "budget": 29_000_000, "funders_count": 33,
        "consortium": {"min_eligible_partners": 3, "min_countries": 3},
    },
}  # fmt: skip


@pytest.mark.parametrize("call_id", CALL_IDS)
def test_each_call_declares_the_facts_of_its_sources(calls: dict[str, Call], call_id: str) -> None:
    call, facts = calls[call_id], FACTS[call_id]
    assert [s.deadline for s in call.stages] == [_utc(d) for d in facts["deadlines"]]
    assert call.secretariat == facts["secretariat"]
    expected_budget = None if facts["budget"] is None else Decimal(facts["budget"])
    assert call.budget_eur == expected_budget
    assert call.funders_count == facts["funders_count"]
    assert call.consortium.model_dump(exclude_defaults=True) == facts["consortium"]


@pytest.mark.parametrize("call_id", CALL_IDS)
def test_every_value_is_sourced_and_every_approximate_budget_marked(
    calls: dict[str, Call], call_id: str
) -> None:
    call = calls[call_id]
    assert call.source and call.source.startswith("http")
    for url in call.sources.values():
        assert url.startswith("http"), url
    for stage in call.stages:
        assert stage.as_written, f"{call_id}: {stage.name} keeps the deadline as written"
    if call.budget_eur is not None:
        assert "budget_eur" in call.uncertain  # every announced total is "approx."
    assert "funding" in call.uncertain  # the funding mode is our reading, said so
    for funder in call.funders:
        # A national budget or rule stands on its funder's own source.
        assert funder.source and funder.source.startswith("http"), funder.organisation


def test_national_rules_only_where_a_call_text_states_them(calls: dict[str, Call]) -> None:
    """The national budgets and rules the call texts state, and no others."""
    stated = {
        (call.id, f.organisation): (f.budget_eur, f.rules.model_dump(exclude_defaults=True))
        for call in calls.values()
        for f in call.funders
        if f.budget_eur is not None or f.rules.model_dump(exclude_defaults=True)
    }
    assert stated == {
        ("erapermed-jtc2018", "bmbf"): (None, {"max_request_per_partner_eur": Decimal(300_000),
                                               "max_request_per_project_eur": Decimal(400_000)}),
        ("erapermed-jtc2018", "smwk"): (Decimal(1_500_000),
                                        {"eligible_kinds": ["university", "research-institute"]}),
        ("erapermed-jtc2018", "mizs"): (Decimal(420_000),
                                        {"max_request_per_project_eur": Decimal(210_000)}),
        ("erapermed-jtc2020", "smwk"): (Decimal(2_000_000),
                                        {"eligible_kinds": ["university", "research-institute"]}),
        ("erapermed-jtc2020", "vr"): (None, {"max_request_per_project_eur": Decimal(450_000)}),
        ("erapermed-jtc2022", "tuscreg"): (Decimal(300_000), {}),
        ("erapermed-jtc2022", "lmt"): (Decimal(200_000), {}),  # "up to", marked uncertain
    }  # fmt: skip
    jtc2018 = calls["erapermed-jtc2018"]
    doubts = {f.organisation: f.uncertain for f in jtc2018.funders}
    assert "rules.eligible_kinds" in doubts["smwk"]  # hospitals are not named either way
    assert "minimum" in doubts["mizs"]["rules.max_request_per_project_eur"]
    # Limits in another currency are said, not converted.
    for call_id, funder in (("erapermed-jtc2019", "vr"), ("erapermed-jtc2022", "vinnova")):
        entry = next(f for f in calls[call_id].funders if f.organisation == funder)
        assert "SEK" in entry.uncertain["rules"] and not entry.rules.model_dump(
            exclude_defaults=True
        )


@pytest.mark.parametrize("call_id", CALL_IDS)
def test_funders_and_secretariat_exist_in_the_graph_seed(
    calls: dict[str, Call], graph_seed: dict[str, Any], call_id: str
) -> None:
    call = calls[call_id]
    organisations = graph_seed["organisations"]
    assert call.secretariat in organisations
    for funder in call.funders:
        record = organisations.get(funder.organisation)
        assert record is not None, f"{call_id}: {funder.organisation} is not in the graph seed"
        # The funder's country (or region) is the graph organisation's.
        assert funder.country in {record.get("country"), record.get("subdivision")}, funder


@pytest.mark.parametrize("call_id", CALL_IDS)
def test_consistent_with_the_graph_seeds_call_record(
    calls: dict[str, Call], graph_seed: dict[str, Any], call_id: str
) -> None:
    call, record = calls[call_id], graph_seed["calls"][call_id]
    # The same funders as the graph's call record names (the sources name these).
    assert set(call.funder_ids()) <= set(record["funders"]) | {"mizs", call.secretariat}
    assert set(record["funders"]) <= set(call.funder_ids())
    # Each funder's country or region takes part in the call per the graph's record, or (for
    # countries the record leaves out) its funder's source names it for this call.
    countries = set(record.get("countries") or [])
    for funder in call.funders:
        assert funder.country in countries or funder.country.split("-")[0] in countries, funder
    assert str(record["pre_proposal_deadline"]) == call.stages[0].deadline.date().isoformat()
    secretariat = record.get("secretariat")
    assert secretariat == call.secretariat


def _project_countries(graph_seed: dict[str, Any], call_id: str) -> dict[str, set[str]]:
    """Funded project id -> the countries the graph seed knows of its consortium: the
    project's `countries` and those of its partners' organisations (regions as countries)."""
    organisations = graph_seed["organisations"]
    found: dict[str, set[str]] = {}
    for project in graph_seed["projects"]:
        if project["call_topic"] != call_id:
            continue
        countries = {c.split("-")[0] for c in project.get("countries") or []}
        for participation in graph_seed["participations"]:
            if participation["initiative"] == project["id"]:
                country = organisations[participation["organisation"]].get("country")
                countries |= {country} if country else set()
        found[project["id"]] = countries
    return found


@pytest.mark.parametrize("call_id", CALL_IDS)
def test_funded_projects_meet_the_consortium_rules_where_countries_are_known(
    calls: dict[str, Call], graph_seed: dict[str, Any], call_id: str
) -> None:
    """A funded consortium met the call's rules, so wherever the graph seed lists all of its
    countries (a project's `countries`) there are enough of them, and enough EU member states
    or associated countries."""
    rules = calls[call_id].consortium
    listed = {p["id"]: p.get("countries") for p in graph_seed["projects"]}
    for project, countries in _project_countries(graph_seed, call_id).items():
        if not listed[project]:
            continue  # only some partners known: no lower bound can be checked
        if rules.min_countries is not None:
            assert len(countries) >= rules.min_countries, project
        eu = rules.min_eu_associated_countries
        if eu is not None:
            assert len(countries & eu_or_associated(eu.programme)) >= eu.countries, project


def test_the_cross_check_has_projects_to_check(graph_seed: dict[str, Any]) -> None:
    with_countries = [
        p["id"] for p in graph_seed["projects"]
        if p["call_topic"] in CALL_IDS and p.get("countries")
    ]  # fmt: skip
    assert len(with_countries) >= 6
    # The countries of listed partners are among the project's own list where it has one.
    for call_id in CALL_IDS:
        for project, countries in _project_countries(graph_seed, call_id).items():
            own = next(p.get("countries") for p in graph_seed["projects"] if p["id"] == project)
            if own:
                assert countries == {c.split("-")[0] for c in own}, project


# ---------------------------------------------------------------- the engines on real calls

runner = CliRunner()

PROPOSALS_2021 = """\
call: erapermed-jtc2021
proposals:
  - id: SYN-1
    modules: [clinical-research, towards-application-in-healthcare, elsa]
    partners:
      - {organisation: syn-a, country: IT, kind: hospital, funder: it-moh, requested_eur: 200000}
      - {organisation: syn-b, country: PL, kind: university, funder: ncbr, requested_eur: 150000}
      - {organisation: syn-c, country: BR, kind: university, funder: confap, requested_eur: 100000}
  - id: SYN-2
    modules: [clinical-research]
    partners:
      - {organisation: syn-d, country: BR, kind: university, funder: confap, requested_eur: 1}
      - {organisation: syn-e, country: CL, kind: university, funder: anid, requested_eur: 1}
      - {organisation: syn-f, country: IT, kind: university, funder: it-moh, requested_eur: 1}
      - {organisation: syn-g, country: US, kind: university, own_funded: true}
"""


def test_check_and_show_on_a_seeded_call(tmp_path: Path) -> None:
    """`permedhub calls show|check` on a seeded call (invented proposals, ids syn-)."""
    call_file = str(FILES["erapermed-jtc2021"])
    proposals = tmp_path / "proposals.yaml"
    proposals.write_text(PROPOSALS_2021, encoding="utf-8")
    shown = runner.invoke(app, ["calls", "show", call_file, "--json"])
    assert shown.exit_code == 0, shown.output
    payload = json.loads(shown.stdout)
    assert payload["secretariat"] == "it-moh" and payload["funders"][0]["budget_eur"] is None
    assert payload["consortium"]["min_eu_associated_countries"] == {
        "countries": 2, "programme": "h2020"
    }  # fmt: skip
    human = runner.invoke(app, ["calls", "show", call_file])
    assert human.exit_code == 0 and "unknown" in human.stdout
    checked = runner.invoke(app, ["calls", "check", call_file, str(proposals), "--json"])
    assert checked.exit_code == 0, checked.output
    result = {p["id"]: p for p in json.loads(checked.stdout)["proposals"]}
    assert result["SYN-1"]["eligible"]
    rules = sorted(b["rule"] for b in result["SYN-2"]["broken"])
    # IT is the only EU member state / H2020 associated country among its eligible partners.
    assert rules == ["consortium.min_eu_associated_countries", "consortium.required_modules"]
    eu = next(b for b in result["SYN-2"]["broken"] if "eu_associated" in b["rule"])
    assert (
        "from 1 different EU member state or Horizon 2020 associated country (IT)"
        in (eu["message"])
    )


def test_a_decision_on_a_call_without_national_budgets_names_the_unknown_budget(
    tmp_path: Path,
) -> None:
    call = load_call(FILES["erapermed-jtc2021"])
    proposals = tmp_path / "proposals.yaml"
    proposals.write_text(PROPOSALS_2021, encoding="utf-8")
    loaded = load_proposals(proposals, call)
    assert check(call, loaded).eligible_ids() == ["SYN-1"]
    with pytest.raises(CallInputError) as error:
        decide(call, loaded)
    assert error.value.field == "funders[0].budget_eur"
    assert "leaves the budget of it-moh" in error.value.expected
    result = runner.invoke(
        app, ["calls", "decide", str(FILES["erapermed-jtc2021"]), str(proposals), "--json"]
    )
    assert result.exit_code != 0 and "budget_eur" in result.output
