"""The expert register: consented listings only, references checked, one transaction,
deletion that leaves no personal data behind; and working groups chosen from it (library and
CLI), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.graph.models import AuditEntry
from permedhub.match.errors import MatchInputError
from permedhub.match.experts import (
    balance_regions,
    contacts,
    delete,
    public_frame,
    register,
    register_frame,
)
from permedhub.match.models import Expert

CONSENT = "I agree to be listed in the PerMed Hub expert register (version 1)."


def listing(expert_id: str, country: str, sector: str, topics: list[str], **extra: Any) -> dict:
    return {"id": expert_id, "name": f"Expert {expert_id}", "country": country,
            "sector": sector, "topics": topics, "consent": True,
            "consent_statement": CONSENT, **extra}  # fmt: skip


LISTINGS = [
    listing("ana", "ES", "academia", ["erp-ra2-data-ict", "v2030-health-data"],
            email="ana@example.org", organisation="isciii"),
    listing("bruno", "BR", "healthcare", ["erp-ra3-implementation"]),
    listing("chen", "CN", "industry", ["erp-ra2-data-ict"]),
    listing("dede", "GH", "government", ["v2030-health-data", "erp-ra1-translation"]),
    listing("eve", "CA", "academia", ["erp-ra1-translation"]),
]  # fmt: skip


def test_listings_are_stored_with_their_consent(engine: Engine) -> None:
    assert register(engine, LISTINGS, actor="carol") == ["ana", "bruno", "chen", "dede", "eve"]
    with Session(engine) as session:
        ana = session.get(Expert, "ana")
        assert ana is not None and ana.consent_statement == CONSENT
        assert ana.consented_at is not None and ana.organisation_id == "isciii"
        assert "email" not in ana.public() and ana.public()["topics"] == [
            "erp-ra2-data-ict", "v2030-health-data"]  # fmt: skip
        frame = register_frame(session)
    assert dict(zip(frame["expert_id"], frame["region"], strict=True)) == {
        "ana": "europe",
        "bruno": "celac",
        "chen": "asia",
        "dede": "africa",
        "eve": "americas",
    }


def test_celac_comes_before_the_americas_and_europe_before_asia(engine: Engine) -> None:
    with Session(engine) as session:
        regions = balance_regions(session)
    assert (regions["MX"], regions["US"], regions["TR"], regions["RU"]) == (
        "celac", "americas", "asia", "europe")  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"consent": False}, "experts[1].consent", "needs the person's consent"),
        ({"consent_statement": "ok"}, "experts[1].consent_statement", "at least 10"),
        ({"country": "XX"}, "experts[1].country", "XX"),
        ({"sector": "astrology"}, "experts[1].sector", "academia"),
        ({"email": "not an address"}, "experts[1].email", "not an e-mail address"),
        ({"topics": ["astrology"]}, "experts[1].topics", "topic ids of the ICPerMed taxonomy"),
        ({"organisation": "nobody"}, "experts[1].organisation", "an organisation in the graph"),
        ({"id": "Ana Lopez"}, "experts[1].id", "must be a slug"),
        ({"hobby": "chess"}, "experts[1].hobby", "Extra inputs are not permitted"),
    ],
)
def test_a_refused_listing_is_named_and_nothing_is_stored(
    engine: Engine, change: dict[str, Any], field: str, message: str
) -> None:
    records = [LISTINGS[0], {**LISTINGS[1], **change}]
    with pytest.raises(MatchInputError) as caught:
        register(engine, records, actor="carol")
    assert caught.value.field == field and message in str(caught.value)
    with Session(engine) as session:
        assert session.scalars(select(Expert.id)).all() == []


def test_repeated_ids_and_a_non_list_are_refused(engine: Engine) -> None:
    with pytest.raises(MatchInputError, match="each id once"):
        register(engine, [LISTINGS[0], LISTINGS[0]], actor="carol")
    with pytest.raises(MatchInputError, match="a list of expert records"):
        register(engine, {"id": "ana"}, actor="carol")  # type: ignore[arg-type]


def test_deletion_removes_the_person_and_the_audit_keeps_only_the_id(engine: Engine) -> None:
    register(engine, LISTINGS[:2], actor="carol")
    delete(engine, "ana", actor="ana-by-email")
    with Session(engine) as session:
        assert session.get(Expert, "ana") is None
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "expert").order_by(AuditEntry.id)
        ).all()
    assert [(e.action, e.entity_id, e.old, e.new) for e in entries] == [
        ("create", "ana", None, None), ("create", "bruno", None, None),
        ("delete", "ana", None, None)]  # fmt: skip
    with pytest.raises(MatchInputError, match="the id of a listed expert"):
        delete(engine, "ana", actor="carol")


def _cli(engine: Engine, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return CliRunner().invoke(app, list(args))


def test_the_cli_lists_chooses_and_deletes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    file = tmp_path / "experts.yaml"
    file.write_text(yaml.safe_dump({"experts": LISTINGS}), encoding="utf-8")
    added = _cli(engine, monkeypatch, "match", "experts", "add", str(file))
    assert added.exit_code == 0, added.output
    chosen = _cli(engine, monkeypatch, "match", "group", "--size", "3",
                  "--topic", "erp-ra2-data-ict", "--topic", "erp-ra1-translation",
                  "--region-min", "africa=1", "--json")  # fmt: skip
    assert chosen.exit_code == 0, chosen.output
    data = json.loads(chosen.stdout)
    members = {m["expert_id"] for m in data["members"]}
    assert "dede" in members and len(members) == 3
    assert (data["largest_region"], data["largest_sector"]) == (1, 1)
    assert all(row["experts"] >= 1 for row in data["coverage"])
    assert "email" not in chosen.stdout
    impossible = _cli(engine, monkeypatch, "match", "group", "--size", "2",
                      "--region-min", "oceania=1")  # fmt: skip
    assert impossible.exit_code == 2
    assert "region_min: oceania needs 1, 0 available" in impossible.stderr
    unknown = _cli(engine, monkeypatch, "match", "group", "--size", "2", "--topic", "nope")
    assert unknown.exit_code == 2
    assert "--topic = ['nope'] is invalid: expected topic ids" in unknown.stderr
    malformed = _cli(engine, monkeypatch, "match", "group", "--size", "2", "--sector-min", "x")
    assert malformed.exit_code == 2 and "GROUP=COUNT" in malformed.stderr
    removed = _cli(engine, monkeypatch, "match", "experts", "delete", "dede")
    assert removed.exit_code == 0
    with Session(engine) as session:
        assert "dede" not in set(register_frame(session)["expert_id"])


def test_the_cli_refuses_a_malformed_file(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("experts: [\n", encoding="utf-8")
    done = _cli(engine, monkeypatch, "match", "experts", "add", str(broken))
    assert done.exit_code == 2 and "cannot read it" in done.stderr
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump({"experts": [{**LISTINGS[0], "consent": False}]}))
    done = _cli(engine, monkeypatch, "match", "experts", "add", str(wrong))
    assert done.exit_code == 2 and "experts[0].consent" in done.stderr


def test_the_public_register_filters_and_keeps_addresses_for_curators(engine: Engine) -> None:
    register(engine, LISTINGS, actor="carol")
    with Session(engine) as session:
        everyone = public_frame(session)
        assert list(everyone["id"]) == ["ana", "bruno", "chen", "dede", "eve"]  # by name
        assert "email" not in everyone.columns
        assert (
            everyone.set_index("id").loc["ana", "topics"] == "erp-ra2-data-ict; v2030-health-data"
        )
        assert list(public_frame(session, topic="v2030-health-data")["id"]) == ["ana", "dede"]
        assert list(public_frame(session, region="celac")["id"]) == ["bruno"]
        assert list(public_frame(session, country="gh")["id"]) == ["dede"]
        assert public_frame(session, region="africa", topic="erp-ra2-data-ict").empty
        with pytest.raises(MatchInputError, match="region = 'atlantis'"):
            public_frame(session, region="atlantis")
        with pytest.raises(MatchInputError, match=r"topic = \['astrology'\]"):
            public_frame(session, topic="astrology")
        assert contacts(session) == {"ana": "ana@example.org"}
