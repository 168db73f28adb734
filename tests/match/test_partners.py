"""Partner search on the seeded family: the parts of the score that can be counted by hand
(topics, collaborations, new countries, eligibility under a call) are checked exactly against
the seed files; the idea's part is checked by what it must find (HEcoPerMed's partners for a
health-economics idea)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from permedhub.calls.documents import load_call, seeded_call_files
from permedhub.cli.main import app
from permedhub.graph.geography import region_members
from permedhub.match.consortium import funder_for
from permedhub.match.errors import MatchInputError
from permedhub.match.partners import WEIGHTS, search_partners

HEALTH_ECONOMICS = "health economic models and payment strategies for personalised medicine"


def test_a_health_economics_idea_finds_hecopermeds_partners(engine: Engine) -> None:
    with Session(engine) as session:
        found = search_partners(session, HEALTH_ECONOMICS, limit=5)
    top = [m.organisation for m in found.matches]
    hecopermed = {"erasmus-university-rotterdam", "syreon-research-institute",
                  "university-of-oxford"}  # fmt: skip
    assert hecopermed <= set(top), top
    for m in found.matches:
        assert m.score == pytest.approx(sum(WEIGHTS[k] * v for k, v in m.parts.items()))
        assert 0 <= m.parts["idea"] <= 1 and m.reasons[0].startswith("matches the idea")


def test_topics_collaborations_and_new_countries_count_exactly(
    engine: Engine, seed_declared: dict[str, list[dict[str, Any]]]
) -> None:
    with Session(engine) as session:
        found = search_partners(session, "genomic medicine implementation in health systems",
                                topics=["erp-ra2-data-ict", "v2030-health-data"],
                                partners=["isciii"], limit=200)  # fmt: skip
    members: dict[str, set[str]] = {}
    for p in seed_declared["participations"]:
        members.setdefault(p["initiative"], set()).add(p["organisation"])
    shared = Counter(
        org for orgs in members.values() if "isciii" in orgs for org in orgs if org != "isciii"
    )
    countries = {o["id"]: o.get("country") for o in seed_declared["organisations"]}
    assert found.matches, "the search found nobody"
    for m in found.matches:
        assert m.organisation != "isciii"
        assert m.parts["collaboration"] == min(shared[m.organisation], 3) / 3
        assert m.parts["new_country"] == (1.0 if countries[m.organisation] != "ES" else 0.0)
        assert m.parts["topics"] in (0.0, 0.5, 1.0)
    assert any(m.parts["collaboration"] > 0 for m in found.matches)


def test_filters_by_region_and_country(engine: Engine) -> None:
    with Session(engine) as session:
        celac = search_partners(session, HEALTH_ECONOMICS, regions=["celac"], limit=50)
        brazil = search_partners(session, HEALTH_ECONOMICS, countries=["br"], limit=50)
    assert celac.matches
    assert {m.country for m in celac.matches} <= set(region_members()["celac"])
    assert brazil.matches and {m.country for m in brazil.matches} == {"BR"}


def test_a_call_keeps_only_those_its_funders_fund(engine: Engine) -> None:
    path = next(p for p in seeded_call_files() if p.stem == "erapermed-jtc2022")
    call = load_call(path)
    with Session(engine) as session:
        found = search_partners(session, HEALTH_ECONOMICS, call=call, limit=50)
        everyone = search_partners(session, HEALTH_ECONOMICS, call=call, own_funded=True, limit=50)
    assert found.matches
    for m in found.matches:
        assert (
            m.funder is not None
            and f"eligible in erapermed-jtc2022 through {m.funder}" in m.reasons
        )
    own = [m for m in everyone.matches if m.funder is None]
    assert own and all("own-funded only" in " ".join(m.reasons) for m in own)
    assert funder_for(call, "NL", None, "university") is None  # no Dutch funder in that list


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"idea": "  "}, "idea"),
        ({"idea": "x" * 2001}, "idea"),
        ({"idea": "genomics\x00"}, "idea"),
        ({"topics": ["astrology"]}, "topics"),
        ({"regions": ["atlantis"]}, "region"),
        ({"partners": ["nobody"]}, "partners"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_input_names_the_field(engine: Engine, options: dict[str, Any], field: str) -> None:
    arguments = {"idea": HEALTH_ECONOMICS, **options}
    with Session(engine) as session, pytest.raises(MatchInputError) as caught:
        search_partners(session, **arguments)
    assert caught.value.field == field


def _cli(engine: Engine, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return CliRunner().invoke(app, list(args))


def test_the_cli_ranks_and_completes_a_consortium(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ranked = _cli(engine, monkeypatch, "match", "partners", HEALTH_ECONOMICS, "--limit", "3",
                  "--json")  # fmt: skip
    assert ranked.exit_code == 0, ranked.output
    data = json.loads(ranked.stdout)
    assert len(data["matches"]) == 3 and data["weights"] == WEIGHTS
    partial = tmp_path / "partial.yaml"
    first = "{organisation: isciii, country: ES, kind: research-institute, funder: isciii}"
    partial.write_text(f"partners:\n  - {first}\n", encoding="utf-8")
    done = _cli(engine, monkeypatch, "match", "consortium", "erapermed-jtc2022", str(partial),
                "--idea", HEALTH_ECONOMICS, "--json")  # fmt: skip
    assert done.exit_code == 0, done.output
    completion = json.loads(done.stdout)
    assert completion["meets_consortium_rules"] is True
    # JTC2022: at least 3 eligible partners from 3 countries; ES is in, so two more countries.
    added = completion["added"]
    assert len(added) == 2 and len({a["country"] for a in added} | {"ES"}) == 3
    unknown = _cli(engine, monkeypatch, "match", "partners", HEALTH_ECONOMICS, "--call", "jtc-9")
    assert unknown.exit_code == 2 and "erapermed-jtc2022" in unknown.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("partners:\n  - {organisation: isciii, country: ES}\n", encoding="utf-8")
    refused = _cli(engine, monkeypatch, "match", "consortium", "erapermed-jtc2022", str(broken),
                   "--idea", HEALTH_ECONOMICS)  # fmt: skip
    assert refused.exit_code == 2 and "partners.kind" in refused.stderr
