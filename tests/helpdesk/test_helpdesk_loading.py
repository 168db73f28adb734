"""Loading helpdesk files: every problem of every file is listed by file, row, field and value,
and a load with any problem stores nothing; text is stored as given, never interpreted."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from permedhub import db
from permedhub.graph.models import AuditEntry
from permedhub.helpdesk.loading import LoadError, load
from permedhub.helpdesk.models import Body, Faq, Funding, Rule

OK = "source: 'https://example.org/page', verified_on: 2026-12-07"


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(content).lstrip(), encoding="utf-8")
    return path


def state(engine: Engine) -> dict[str, int | None]:
    """Row counts of the helpdesk tables and the newest audit id."""
    with Session(engine) as session:
        counts: dict[str, int | None] = {
            m.__tablename__: session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Body, Rule, Funding, Faq)
        }
        counts["audit"] = session.execute(select(func.max(AuditEntry.id))).scalar_one()
    return counts


def rejected(engine: Engine, *paths: Path) -> list[tuple]:
    before = state(engine)
    with pytest.raises(LoadError) as caught:
        load(engine, paths)
    assert state(engine) == before  # nothing half-stored
    return [(i.file, i.row, i.field, i.value, i.expected) for i in caught.value.issues]


def test_every_problem_of_every_file_is_listed_and_nothing_is_stored(engine, tmp_path):
    first = write(
        tmp_path,
        "a.yaml",
        f"""
        bodies:
          - {{id: ok-body, jurisdiction: AT, role: medicines-regulator, name: Fine, {OK}}}
          - {{id: bad-country, jurisdiction: QQ, role: medicines-regulator, name: X, {OK}}}
          - {{id: no-source, jurisdiction: AT, role: medicines-regulator, name: X,
              verified_on: 2026-12-07}}
        rules:
          - {{id: bad-day, jurisdiction: EU, aspect: timeline, statement: S, days: 5,
              source: s, verified_on: 2026-02-30}}
          - {{id: us-date, jurisdiction: EU, aspect: fees, statement: S, source: s,
              verified_on: 07/12/2026}}
          - {{id: future, jurisdiction: EU, aspect: fees, statement: S, source: s,
              verified_on: 2999-01-01}}
        """,
    )
    second = write(
        tmp_path,
        "b.json",
        json.dumps({"funding": [{"id": "f", "jurisdiction": "AT", "kind": "agency"}]}),
    )
    issues = rejected(engine, first, second)  # rows are the lines the records start on
    found = {(file[-6:], row, field): (value, says) for file, row, field, value, says in issues}
    assert found[("a.yaml", 3, "bodies.jurisdiction")][0] == "QQ"
    assert "ISO 3166-1" in found[("a.yaml", 3, "bodies.jurisdiction")][1]
    assert "required" in found[("a.yaml", 4, "bodies.source")][1]
    assert "not a day of the calendar" in found[("a.yaml", 7, "rules.verified_on")][1]
    assert "YYYY-MM-DD" in found[("a.yaml", 9, "rules.verified_on")][1]
    assert found[("a.yaml", 9, "rules.verified_on")][0] == "07/12/2026"
    assert "in the future" in found[("a.yaml", 11, "rules.verified_on")][1]
    assert "required" in found[("b.json", 1, "funding.source")][1]
    assert ("b.json", 1, "funding.verified_on") in found
    assert not any(field == "bodies" and row == 2 for _, row, field, _, _ in issues)


def test_script_and_sql_in_text_are_stored_as_given(engine, tmp_path):
    script = "<script>alert('x')</script> & \"quoted\""
    sql = "'); DROP TABLE helpdesk_faq; --"
    path = write(tmp_path, "faq.json", json.dumps({"faq": [{
        "id": "tricky", "language": "en", "question": sql, "answer": script,
        "jurisdictions": ["eu", "ARG"], "topics": ["funding"],
        "source": "https://example.org/faq", "verified_on": "2026-12-07",
    }]}))  # fmt: skip
    load(engine, [path])
    with Session(engine) as session:
        faq = session.get(Faq, "tricky")
        assert faq is not None
        assert (faq.question, faq.answer, faq.jurisdictions) == (sql, script, ["EU", "AR"])


def test_script_links_and_control_characters_are_refused(engine, tmp_path):
    path = write(tmp_path, "faq.json", json.dumps({"faq": [{
        "id": "bad", "language": "fr", "question": "Q?", "answer": "A\u0000B",
        "source": "javascript:alert(1)", "verified_on": "2026-12-07",
    }], "bodies": [{
        "id": "b", "jurisdiction": "AT", "role": "medicines-regulator", "name": "B",
        "website": "javascript:alert(1)", "source": "s", "verified_on": "2026-12-07",
    }]}))  # fmt: skip
    found = {field: says for _, _, field, _, says in rejected(engine, path)}
    assert "not a script" in found["faq.source"]
    assert "control character" in found["faq.answer"]
    assert "'en', 'es' or 'pt'" in found["faq.language"]
    assert "http(s) address" in found["bodies.website"]


def test_organisations_are_linked_by_an_existing_id_in_their_country(engine, tmp_path):
    path = write(
        tmp_path,
        "f.yaml",
        f"""
        funding:
          - {{id: f1, jurisdiction: AT, kind: agency, organisation: no-such-org, {OK}}}
          - {{id: f2, jurisdiction: BR, kind: agency, organisation: fwf, {OK}}}
          - {{id: f3, jurisdiction: AT, kind: agency, organisation: fwf, name: FWF, {OK}}}
          - {{id: f4, jurisdiction: AT, kind: agency, {OK}}}
        """,
    )
    found = {(row, field): (value, says) for _, row, field, value, says in rejected(engine, path)}
    assert found[(2, "funding.organisation")][0] == "no-such-org"
    assert found[(3, "funding.jurisdiction")] == ("BR", "AT, the country of organisation 'fwf'")
    assert "link, don't copy" in found[(4, "funding")][1]
    assert "name: required" in found[(5, "funding")][1]


def test_an_id_repeated_with_other_data_is_refused_and_a_repeat_is_not(engine, tmp_path):
    body = f"{{id: dup, jurisdiction: AT, role: medicines-regulator, name: One, {OK}}}"
    first = write(tmp_path, "one.yaml", f"bodies:\n  - {body}\n  - {body}\n")
    load(engine, [first], dry_run=True)  # the same record twice is one record
    second = write(tmp_path, "two.yaml", f"bodies:\n  - {body.replace('One', 'Two')}\n")
    (issue,) = rejected(engine, first, second)
    assert issue[2:4] == ("bodies.id", "dup") and "already has it at row 2" in issue[4]


def test_a_dry_run_stores_nothing_and_a_load_upserts(engine, tmp_path):
    path = write(tmp_path, "b.yaml", f"bodies:\n  - {{id: x, jurisdiction: AT, role: "
                 f"device-regulator, name: X, {OK}}}\n")  # fmt: skip
    before = state(engine)
    assert load(engine, [path], dry_run=True).counts["bodies"].created == 1
    assert state(engine) == before
    load(engine, [path], actor="tester")
    path.write_text(path.read_text().replace("name: X", "name: Y"), encoding="utf-8")
    assert load(engine, [path]).counts["bodies"].changed == 1
    with Session(engine) as session:
        actions = session.execute(
            select(AuditEntry.action).where(AuditEntry.entity_id == "x").order_by(AuditEntry.id)
        ).scalars()
        assert list(actions) == ["create", "update"]


def test_the_migration_downgrades_and_upgrades_again(empty_engine):
    from alembic import command

    cfg = db.alembic_config(empty_engine.url.render_as_string(hide_password=False))
    with empty_engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0007")
    assert "helpdesk_body" not in db.inspect(empty_engine).get_table_names()
    db.upgrade(empty_engine)
    assert "helpdesk_faq" in db.inspect(empty_engine).get_table_names()
