"""Pages of a graph too big to show at once stay bounded: the organisation lists page through
indexes in their own order, the list of initiatives comes a page at a time, and an initiative's
page embeds no more partners in its JSON-LD than it lists."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from permedhub.graph.export import node_id
from permedhub.graph.loading import load
from permedhub.graph.models import Country, Organisation
from permedhub.web.app import create_app
from permedhub.web.pages import public

EXTRA_INITIATIVES = public.INITIATIVES_PAGE + 20
EXTRA_PARTNERS = public.PARTNER_ROWS + 30


@pytest.fixture
def grown(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The family plus more initiatives than a page lists, and more PERMIT partners."""
    initiatives = tmp_path / "initiatives.csv"
    initiatives.write_text(
        "id,name,kind,start\n"
        + "".join(
            f"grown-{k:03d},Grown Project {k:03d},project,2030-01-01\n"
            for k in range(EXTRA_INITIATIVES)
        ),
        encoding="utf-8",
    )
    orgs = tmp_path / "organisations.csv"
    orgs.write_text(
        "id,name,country\n"
        + "".join(f"grown-org-{k:03d},Grown Partner {k:03d},PT\n" for k in range(EXTRA_PARTNERS)),
        encoding="utf-8",
    )
    parts = tmp_path / "participations.csv"
    parts.write_text(
        "organisation,initiative,role\n"
        + "".join(f"grown-org-{k:03d},permit,partner\n" for k in range(EXTRA_PARTNERS)),
        encoding="utf-8",
    )
    load(engine, [initiatives, orgs, parts])
    monkeypatch.setenv("PERMEDHUB_SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("PERMEDHUB_DATA_DIR", str(tmp_path / "data"))
    with TestClient(
        create_app(engine, prepare_database=False), base_url="https://testserver"
    ) as client:
        yield client


def test_the_list_of_initiatives_comes_a_page_at_a_time_and_its_csv_has_them_all(
    grown: TestClient,
) -> None:
    total = grown.get("/api/initiatives", params={"per_page": 1}).json()["total"]
    pages = -(-total // public.INITIATIVES_PAGE)
    first = grown.get("/initiatives").text
    rows = re.findall(r'<td><a href="/initiatives/([^"]+)">', first)
    assert len(rows) == public.INITIATIVES_PAGE
    assert f"Page 1 of {pages}" in first and 'href="/initiatives?page=2" rel="next"' in first
    last = grown.get(f"/initiatives?page={pages}").text
    rest = re.findall(r'<td><a href="/initiatives/([^"]+)">', last)
    assert len(rest) == total - (pages - 1) * public.INITIATIVES_PAGE
    assert not set(rows) & set(rest)
    csv = grown.get("/initiatives.csv").content.decode("utf-8-sig")
    assert csv.count("\n") == total + 1  # header and every initiative


def test_an_initiative_page_embeds_at_most_a_page_of_partners_coordinators_first(
    grown: TestClient,
) -> None:
    page = grown.get("/initiatives/permit").text
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert match
    project, *organisations = json.loads(match.group(1))["@graph"]
    roles = project.get("member", []) + project.get("funder", [])
    assert len(roles) == public.PARTNER_ROWS == len(organisations)
    api = grown.get("/api/initiatives/permit", params={"per_page": 1}).json()
    assert api["partners_total"] > public.PARTNER_ROWS
    coordinators = {node_id("organisation", c["id"]) for c in api["coordinators"]}
    assert coordinators, "PERMIT's seed names a coordinator"
    embedded = {role[key]["@id"] for role in roles for key in ("member", "funder") if key in role}
    assert coordinators <= embedded == {o["@id"] for o in organisations}


def _plan(engine: Engine, statement: object) -> str:
    sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return " | ".join(
            str(row[3]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
        )


def test_the_organisation_lists_read_their_order_from_an_index(engine: Engine) -> None:
    """Without ix_organisation_subdivision_name and ix_organisation_folded_name (migration
    0013) every page of the two lists sorted all the organisations it pages through."""
    if engine.dialect.name != "sqlite":
        # PostgreSQL plans by statistics a test database lacks: the indexes are what it gets.
        indexes = {i["name"] for i in inspect(engine).get_indexes("organisation")}
        assert {"ix_organisation_subdivision_name", "ix_organisation_folded_name"} <= indexes
        return
    subnational = (
        select(Organisation.id)
        .join(Country, Country.code == Organisation.subdivision_code)
        .order_by(Organisation.subdivision_code, Organisation.name, Organisation.id)
        .limit(100)
    )
    listed = (
        select(Organisation.id)
        .order_by(func.lower(Organisation.name), Organisation.name, Organisation.id)
        .limit(100)
    )
    for statement, index in (
        (subnational, "ix_organisation_subdivision_name"),
        (listed, "ix_organisation_folded_name"),
    ):
        plan = _plan(engine, statement)
        assert index in plan and "TEMP B-TREE" not in plan, plan
    with Session(engine) as session:  # the seed has sub-national organisations to list
        assert session.execute(subnational).first() is not None
