"""graph.curation and graph.layout: audited edits and undo, accounts, seeded layouts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from permedhub.cli.main import app as cli
from permedhub.graph import curation, queries
from permedhub.graph.layout import LayoutError, network_layout, timeline_axis
from permedhub.graph.loading import load
from permedhub.graph.models import AuditEntry, Organisation, Participation
from permedhub.graph.views import Network, NetworkEdge, NetworkNode, Timeline, TimelineItem
from permedhub.web.auth import session_secret
from permedhub.web.pages.cache import PageCache

LogIn = Callable[[TestClient, str], str]


def _name(engine: Engine, org_id: str) -> str:
    with Session(engine) as session:
        return queries.get_organisation(session, org_id).name


def test_an_edit_is_validated_by_the_importer_schema_and_names_every_bad_field(
    web_engine: Engine,
) -> None:
    with pytest.raises(curation.CurationError) as error:
        curation.update_record(
            web_engine,
            "organisation",
            "isciii",
            {"country": "XX", "latitude": 91, "kind": "pharmacy"},
            actor="t",
        )
    fields = {p.field for p in error.value.problems}
    assert fields == {"country", "latitude", "kind"}
    assert isinstance(error.value, ValueError)
    assert _name(web_engine, "isciii") == "Instituto de Salud Carlos III"


def test_an_unchanged_save_writes_no_audit_entry(web_engine: Engine) -> None:
    result = curation.update_record(web_engine, "initiative", "erapermed", {}, actor="t")
    assert result.action == "unchanged" and result.audit_id is None


def test_initiative_dates_keep_their_precision_through_an_edit(web_engine: Engine) -> None:
    curation.update_record(web_engine, "initiative", "erapermed", {"end": "2023-11"}, actor="t")
    with Session(web_engine) as session:
        detail = queries.get_initiative(session, "erapermed")
        assert (detail.end, detail.end_precision) == ("2023-11-30", "month")
        record = curation.record_input(session, "initiative", "erapermed")
    assert record["end"] == "2023-11"


def test_undo_restores_the_old_values_and_is_itself_audited(web_engine: Engine) -> None:
    edit = curation.update_record(
        web_engine, "organisation", "anr", {"city": "Lyon"}, actor="carol"
    )
    assert edit.audit_id is not None
    undo_id = curation.undo(web_engine, edit.audit_id, actor="carol")
    with Session(web_engine) as session:
        assert queries.get_organisation(session, "anr").city == "Paris"
        log, _ = curation.audit_log(session, limit=2)
    assert [e.id for e in log] == [undo_id, edit.audit_id]
    assert log[0].changed["city"] == ("Lyon", "Paris")
    # the coordinates taken from the city (the gazetteer's) go back with it
    assert set(log[0].changed) - {"city"} <= {"latitude", "longitude", "sources", "approximate"}
    assert log[1].undone_by == undo_id and not log[1].undoable
    with pytest.raises(curation.CurationError, match="not yet undone"):
        curation.undo(web_engine, edit.audit_id, actor="carol")


def test_undo_refuses_when_the_record_changed_again_since(web_engine: Engine) -> None:
    first = curation.update_record(web_engine, "organisation", "anr", {"city": "Lyon"}, actor="a")
    curation.update_record(web_engine, "organisation", "anr", {"city": "Nice"}, actor="b")
    assert first.audit_id is not None
    with pytest.raises(curation.CurationError, match="changed again since"):
        curation.undo(web_engine, first.audit_id, actor="a")


def test_a_loaded_creation_shows_the_first_values_and_undoes_once_later_edits_are_undone(
    web_engine: Engine, tmp_path: Path
) -> None:
    new_org = tmp_path / "organisations.csv"
    new_org.write_text("id,name,kind,country,city\nnew-lab,New Lab,university,FR,Paris\n")
    load(web_engine, [new_org], actor="loader")
    with Session(web_engine) as session:
        created = session.execute(
            select(AuditEntry).where(AuditEntry.entity_id == "new-lab")
        ).scalar_one()
        assert (created.action, created.new) == ("create", None)  # no copy of the record
    edit = curation.update_record(
        web_engine, "organisation", "new-lab", {"city": "Lyon"}, actor="carol"
    )
    assert edit.audit_id is not None

    def creation() -> curation.AuditView:
        with Session(web_engine) as session:
            log, _ = curation.audit_log(session, limit=10)
        # The seed's creations on the same page are read from their records, in one batch.
        assert all(e.changed for e in log if e.action == "create")
        return next(e for e in log if e.id == created.id)

    assert creation().changed["city"] == (None, "Paris")  # as created, not as now
    assert creation().changed["name"] == (None, "New Lab")
    with pytest.raises(curation.CurationError, match="changed again since"):
        curation.undo(web_engine, created.id, actor="carol")
    curation.undo(web_engine, edit.audit_id, actor="carol")
    assert creation().changed["city"] == (None, "Paris")
    curation.undo(web_engine, created.id, actor="carol")
    with Session(web_engine) as session:
        assert session.get(Organisation, "new-lab") is None


def test_creating_a_participation_checks_references_and_undo_deletes_it(
    web_engine: Engine,
) -> None:
    with pytest.raises(curation.CurationError) as error:
        curation.create_record(
            web_engine,
            "participation",
            {"organisation": "nobody", "initiative": "erapermed", "role": "partner"},
            actor="t",
        )
    assert [p.field for p in error.value.problems] == ["organisation"]
    made = curation.create_record(
        web_engine,
        "participation",
        {"organisation": "anr", "initiative": "permit", "role": "observer", "start": "2019"},
        actor="t",
    )
    assert made.action == "create" and made.entity_id == "permit:anr:observer"
    with Session(web_engine) as session:
        row = session.get(Participation, "permit:anr:observer")
        assert row is not None and row.start_date == dt.date(2019, 1, 1)
    assert made.audit_id is not None
    curation.undo(web_engine, made.audit_id, actor="t")
    with Session(web_engine) as session:
        assert session.get(Participation, "permit:anr:observer") is None
        kinds = (
            session.execute(
                select(AuditEntry.action).where(AuditEntry.entity_id == "permit:anr:observer")
            )
            .scalars()
            .all()
        )
    assert sorted(kinds) == ["create", "delete"]


def test_undoing_the_creation_of_an_organisation_still_in_use_is_refused(
    web_engine: Engine,
) -> None:
    with Session(web_engine) as session:
        created = session.execute(
            select(AuditEntry.id).where(
                AuditEntry.entity_id == "isciii", AuditEntry.action == "create"
            )
        ).scalar_one()
    with pytest.raises(curation.CurationError, match="participation refers to"):
        curation.undo(web_engine, created, actor="t")


def test_accounts_hash_passwords_and_check_names_roles_and_lengths(web_engine: Engine) -> None:
    with pytest.raises(curation.CurationError) as error:
        curation.create_user(web_engine, "bad name", "short", "owner")
    assert {p.field for p in error.value.problems} == {"name", "password", "role"}
    with pytest.raises(curation.CurationError, match="no other user"):
        curation.create_user(web_engine, "carol", "another-password", "viewer")
    with Session(web_engine) as session:
        users = {u.name: u for u in curation.list_users(session)}
    assert users["carol"].role == "curator"
    assert curation.authenticate(web_engine, "carol", "curator-password-1") is not None
    assert curation.authenticate(web_engine, "carol", "wrong") is None
    assert curation.authenticate(web_engine, "nobody", "curator-password-1") is None


def test_cli_adds_a_user_from_stdin(web_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", web_engine.url.render_as_string(False))
    result = CliRunner().invoke(
        cli,
        ["users", "add", "dora", "--role", "curator", "--password-stdin", "--json"],
        input="dora-password-1\n",
    )
    assert result.exit_code == 0, result.output
    assert '"role": "curator"' in result.stdout
    assert curation.authenticate(web_engine, "dora", "dora-password-1") is not None
    refused = CliRunner().invoke(
        cli, ["users", "add", "eve", "--role", "admin", "--password-stdin"], input="short\n"
    )
    assert refused.exit_code == 1 and "at least 10 characters" in refused.output


def _star(n: int) -> Network:
    nodes = [NetworkNode(id="hub", type="initiative", label="hub")] + [
        NetworkNode(id=f"o{i}", type="organisation", label=f"o{i}") for i in range(n)
    ]
    edges = [NetworkEdge(source=f"o{i}", target="hub", type="participation") for i in range(n)]
    return Network(nodes=nodes, edges=edges)


def test_network_layout_is_seeded_bounded_and_pulls_partners_together() -> None:
    network = _star(30)
    first = network_layout(network, seed=7)
    assert first == network_layout(network, seed=7)
    assert first != network_layout(network, seed=8)
    xs = [x for x, _ in first.values()]
    ys = [y for _, y in first.values()]
    assert min(xs) >= 0 and max(xs) <= 1600 and min(ys) >= 0 and max(ys) <= 1000
    # The hub sits among its partners: nearer the middle of them than the frame's corner.
    hub = first["hub"]
    cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    assert abs(hub[0] - cx) < 200 and abs(hub[1] - cy) < 200
    with pytest.raises(LayoutError, match="seed"):
        network_layout(network, seed=-1)


def test_timeline_axis_spans_every_date_and_today() -> None:
    timeline = Timeline(
        today="2026-07-01",
        items=[
            TimelineItem(
                id="a", label="A", kind="csa", start="2018-01-01", end="2021-12-31", status="ended"
            ),
            TimelineItem(
                id="b",
                label="B",
                kind="csa",
                start="2024-01-01",
                end=None,
                status="ongoing",
                uncertain={"start": "inferred"},
            ),
        ],
    )
    axis = timeline_axis(timeline)
    assert (axis.first_year, axis.last_year) == (2018, 2027)
    a, b = axis.bars
    assert a.x == 0.0 and not a.uncertain and not a.open_end
    assert b.uncertain and b.open_end and b.x + b.width == pytest.approx(100, abs=0.01)
    assert 80 < axis.today_x < 90  # mid-2026 on a 2018-2027 axis


def test_page_cache_serves_stale_answers_while_refreshing_and_clears_on_demand() -> None:
    now = [0.0]
    cache = PageCache(ttl_s=30, clock=lambda: now[0])
    calls: list[int] = []

    def compute(_session: Session) -> int:
        calls.append(1)
        return len(calls)

    def get() -> int:
        return cache.get("counts", compute, session=Session(), engine=None)

    assert get() == 1
    now[0] = 29.9
    assert get() == 1 and len(calls) == 1
    now[0] = 30.1
    assert get() == 1, "an expired answer is served while it is recomputed"
    cache.wait_for_refreshes()
    assert len(calls) == 2 and get() == 2
    cache.clear()
    assert get() == 3, "after a clear the next visitor waits for a fresh answer"


def test_a_portal_edit_shows_at_once_on_cached_pages(client: TestClient, log_in: LogIn) -> None:
    assert "/organisations/isciii" in client.get("/partials/network-table").text
    token = log_in(client, "carol")
    client.post(
        "/curate/organisations/isciii",
        data={"csrf_token": token, "name": "ISCIII", "acronym": "NEW-ACRONYM"},
    )
    assert "NEW-ACRONYM" in client.get("/partials/network-table").text


def test_session_secret_is_made_once_per_data_dir_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERMEDHUB_SECRET_KEY", raising=False)
    monkeypatch.setenv("PERMEDHUB_DATA_DIR", str(tmp_path))
    first = session_secret()
    assert len(first) >= 40 and session_secret() == first
    assert (tmp_path / "session-secret").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("PERMEDHUB_SECRET_KEY", "from-the-environment")
    assert session_secret() == "from-the-environment"


def test_a_curator_cannot_publish_a_script_link(web_engine: Engine) -> None:
    with pytest.raises(curation.CurationError) as error:
        curation.update_record(
            web_engine, "organisation", "isciii",
            {"website": "javascript:alert(1)", "source": "java\nscript:alert(1)"}, actor="t",
        )  # fmt: skip
    problems = {p.field: p.expected for p in error.value.problems}
    assert set(problems) == {"website", "source"}
    assert "http(s) address" in problems["website"]
