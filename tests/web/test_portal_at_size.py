"""Pages of a graph too big to show at once stay bounded: the organisation lists page through
indexes in their own order, the list of initiatives comes a page at a time, an initiative's
page embeds no more partners in its JSON-LD than it lists, its partners.csv (thousands of
rows) is kept until any writer changes the graph, and the home network's nodes, however many,
never overlap."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, func, inspect, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from permedhub.cli.main import app as cli
from permedhub.graph import queries, revision
from permedhub.graph.export import node_id
from permedhub.graph.layout import (
    BORDER,
    INITIATIVE_SIZE,
    ORGANISATION_SIZE,
    SQUARE,
    count_subnational_organisations,
    network_layout,
    node_sizes,
    subnational_organisations,
)
from permedhub.graph.loading import load
from permedhub.graph.models import AuditEntry, Organisation
from permedhub.graph.queries.initiatives import PartnerRow
from permedhub.graph.views import Network, NetworkEdge, NetworkNode
from permedhub.web.pages import public
from permedhub.web.pages.cache import DownloadCache

EXTRA_INITIATIVES = public.INITIATIVES_PAGE + 20
EXTRA_PARTNERS = public.PARTNER_ROWS + 30


@pytest.fixture
def grown(
    engine: Engine, tmp_path: Path, client_on: Callable[[Engine], ContextManager[TestClient]]
) -> Iterator[TestClient]:
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
    with client_on(engine) as client:
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


def _plan(connection: Connection, sql: str, parameters: Any) -> str:
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
    return " | ".join(str(row[3]) for row in rows)


def _plans_of(engine: Engine, read: Callable[[Session], object]) -> list[str]:
    """SQLite's plan of each statement `read` executes, as it executed them."""
    executed: list[tuple[str, Any]] = []

    def record(_conn: object, _cursor: object, sql: str, parameters: Any, *_: object) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            executed.append((sql, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            read(session)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as connection:
        return [_plan(connection, sql, parameters) for sql, parameters in executed]


def test_the_organisation_lists_read_their_order_from_an_index(engine: Engine) -> None:
    """Without ix_organisation_subdivision_name and ix_organisation_folded_name (migration
    0013) every page of the two lists sorted all the organisations it pages through; without
    `subdivision_code IS NOT NULL` the sub-national list and its count scanned every
    organisation for the few that have a subdivision."""
    if engine.dialect.name != "sqlite":
        # PostgreSQL plans by statistics a test database lacks: the indexes are what it gets.
        indexes = {i["name"] for i in inspect(engine).get_indexes("organisation")}
        assert {"ix_organisation_subdivision_name", "ix_organisation_folded_name"} <= indexes
        return
    searched = re.compile(
        r"SEARCH organisation USING (COVERING )?INDEX ix_organisation_subdivision_name"
        r" \(subdivision_code>\?\)"
    )
    for read in (
        lambda s: subnational_organisations(s, limit=100, offset=10),
        count_subnational_organisations,
    ):
        (plan,) = _plans_of(engine, read)
        assert searched.search(plan), plan
        assert "TEMP B-TREE" not in plan, plan
    listed = (
        select(Organisation.id)
        .order_by(func.lower(Organisation.name), Organisation.name, Organisation.id)
        .limit(100)
    )
    sql = str(listed.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        plan = _plan(connection, sql, ())
    assert "ix_organisation_folded_name" in plan and "TEMP B-TREE" not in plan, plan
    with Session(engine) as session:  # the seed has sub-national organisations to list
        assert subnational_organisations(session, limit=1)
        assert count_subnational_organisations(session) >= 1


# ---------------------------------------------------------------- partners.csv, kept per revision

ORG = "isciii"  # a partner of ep-permed in the seed
PARTNERS = "/initiatives/ep-permed/partners.csv"


def _revision(engine: Engine) -> int:
    with engine.connect() as connection:
        return revision.current(connection)


def _built_counter(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The initiatives whose partners the CSV route reads from the graph, in order."""
    built: list[str] = []
    read = queries.initiative_partners

    def counted(session: Session, initiative_id: str) -> list[PartnerRow]:
        built.append(initiative_id)
        return read(session, initiative_id)

    monkeypatch.setattr(public.queries, "initiative_partners", counted)
    return built


def test_partners_csv_is_kept_until_any_writer_changes_the_graph(
    client: TestClient,
    web_engine: Engine,
    log_in: Callable[[TestClient, str], str],
    csrf_of: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = _built_counter(monkeypatch)

    def download() -> str:
        response = client.get(PARTNERS)
        assert response.status_code == 200
        assert response.headers["content-disposition"] == (
            'attachment; filename="ep-permed-partners.csv"'
        )
        return response.content.decode("utf-8-sig")

    def changed_to(name: str) -> None:
        """The next download names `name`, read anew once; the one after it from the cache."""
        before = len(built)
        assert f",{name}," in download()
        assert len(built) == before + 1
        assert f",{name}," in download() and len(built) == before + 1

    changed_to("Instituto de Salud Carlos III")
    seen = _revision(web_engine)
    # A curator's edit in the portal.
    token = log_in(client, "carol")
    edited = client.post(
        f"/curate/organisations/{ORG}",
        data={"csrf_token": token, "name": "ISCIII renamed", "country": "ES"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    assert _revision(web_engine) > seen
    changed_to("ISCIII renamed")
    # Its undo.
    seen = _revision(web_engine)
    with Session(web_engine) as session:
        entry_id = session.execute(select(func.max(AuditEntry.id))).scalar_one()
    assert client.post(f"/curate/audit/{entry_id}/undo", data={"csrf_token": token}).is_success
    assert _revision(web_engine) > seen
    changed_to("Instituto de Salud Carlos III")
    # An upload committed in the portal.
    seen = _revision(web_engine)
    preview = client.post(
        "/curate/upload",
        data={"csrf_token": token},
        files={"file": ("organisations.csv", b"id,name,country\nisciii,ISCIII uploaded,ES\n")},
    )
    assert preview.status_code == 200, preview.text[:500]
    assert _revision(web_engine) == seen, "a preview changes nothing"
    done = client.post("/curate/upload/commit", data={"csrf_token": csrf_of(client, "/curate")})
    assert done.status_code == 200
    assert _revision(web_engine) > seen
    changed_to("ISCIII uploaded")
    # The importer on the command line, in a process of its own as far as the app can tell.
    seen = _revision(web_engine)
    monkeypatch.setenv("PERMEDHUB_DATABASE_URL", web_engine.url.render_as_string(False))
    renamed = tmp_path / "organisations.csv"
    renamed.write_text("id,name,country\nisciii,ISCIII from the CLI,ES\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["db", "load", str(renamed), "--json"])
    assert result.exit_code == 0, result.output
    assert _revision(web_engine) > seen
    changed_to("ISCIII from the CLI")
    # Loading the same file again writes nothing: the kept download stays valid.
    seen = _revision(web_engine)
    assert CliRunner().invoke(cli, ["db", "load", str(renamed), "--json"]).exit_code == 0
    assert _revision(web_engine) == seen
    before = len(built)
    assert ",ISCIII from the CLI," in download() and len(built) == before


def test_the_api_writes_nothing_so_the_portal_and_the_importer_are_the_writers(
    client: TestClient,
) -> None:
    """The download cache trusts every writer to raise the graph's revision: the importer and
    the curator's edits do (tested above). A write route added to the API must do so too."""
    paths = client.get("/openapi.json").json()["paths"]
    methods = {m for path, item in paths.items() if path.startswith("/api/") for m in item}
    assert "/api/initiatives/{initiative_id}" in paths and methods == {"get"}


def test_partners_csv_lists_every_partner_with_formula_like_names_neutralised(
    grown: TestClient, engine: Engine
) -> None:
    """The lean rows give the table the views gave: coordinators first, then by name, the
    country's and the subdivision's names, the participation's uncertain fields and source."""
    text_ = grown.get("/initiatives/permit/partners.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text_)))
    assert rows[0] == list(PartnerRow._fields)
    with Session(engine) as session:
        detail = queries.get_initiative(session, "permit", per_page=queries.MAX_PER_PAGE)
    assert len(rows) - 1 == detail.partners_total >= EXTRA_PARTNERS
    expected = [
        [
            p.organisation.id,
            p.organisation.name,
            p.organisation.acronym or "",
            p.organisation.kind or "",
            p.organisation.country.code if p.organisation.country else "",
            p.organisation.country.name if p.organisation.country else "",
            p.organisation.subdivision.name if p.organisation.subdivision else "",
            p.role,
            "; ".join(sorted(p.uncertain)),
            p.source or "",
        ]
        for p in detail.partners
    ]
    assert rows[1:] == expected
    assert rows[1][7] == "coordinator"


def test_a_formula_like_partner_name_is_neutralised_in_partners_csv(
    engine: Engine, tmp_path: Path, client_on: Callable[[Engine], ContextManager[TestClient]]
) -> None:
    orgs = tmp_path / "organisations.csv"
    orgs.write_text('id,name,country\nformula-org,"=HYPERLINK(""http://x"")",PT\n', "utf-8")
    parts = tmp_path / "participations.csv"
    parts.write_text("organisation,initiative,role\nformula-org,permit,partner\n", "utf-8")
    load(engine, [orgs, parts])
    with client_on(engine) as client:
        body = client.get("/initiatives/permit/partners.csv").content.decode("utf-8-sig")
    assert 'formula-org,"\'=HYPERLINK(""http://x"")",' in body


def test_the_download_cache_keeps_a_body_per_revision_and_drops_the_least_used() -> None:
    cache = DownloadCache(max_entries=2, max_bytes=10)
    built: list[str] = []

    def body(text_: str) -> Callable[[], bytes]:
        def build() -> bytes:
            built.append(text_)
            return text_.encode()

        return build

    assert cache.get("a", 1, body("a1")) == b"a1"
    assert cache.get("a", 1, body("unused")) == b"a1"
    assert cache.get("a", 2, body("a2")) == b"a2"  # the graph changed: built anew
    cache.get("b", 2, body("b2"))
    cache.get("a", 2, body("unused"))  # "a" is now the most recently used
    cache.get("c", 2, body("c2"))  # past two entries: "b" goes
    assert cache.get("a", 2, body("unused")) == b"a2"
    assert cache.get("b", 2, body("b2 again")) == b"b2 again"
    cache.get("big", 2, body("x" * 11))  # larger than the whole cache: served, not kept
    cache.get("big", 2, body("y" * 11))
    assert built == ["a1", "a2", "b2", "c2", "b2 again", "x" * 11, "y" * 11]
    cache.get("d", 2, body("d" * 9))  # 9 bytes: the others go, to stay within 10 in all
    assert cache.get("d", 2, body("unused")) == b"d" * 9
    assert cache.get("a", 2, body("a3")) == b"a3" and built[-1] == "a3"
    assert cache.get("d", 2, body("d again")) == b"d again"  # it went to make room for "a"
    with pytest.raises(ValueError, match="max_entries"):
        DownloadCache(max_entries=0)


# ---------------------------------------------------------------- the network's nodes, apart


def _touching(nodes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of nodes whose circles (around what the browser draws at `size`: through a
    square's corners, outline included) overlap."""
    xy = np.array([(n["x"], n["y"]) for n in nodes])
    radius = np.array(
        [n["size"] / 2 * (np.sqrt(2) if n["type"] in SQUARE else 1) + BORDER for n in nodes]
    )
    distance = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    i, j = np.nonzero(np.triu(distance < radius[:, None] + radius[None, :], k=1))
    return [(nodes[a]["id"], nodes[b]["id"]) for a, b in zip(i, j, strict=True)]


def test_no_two_nodes_of_the_seeded_home_network_overlap(grown: TestClient) -> None:
    for query in (public.HOME_NETWORK_QUERY, ""):  # what the page asks first; every kind
        nodes = grown.get(f"/network.json?{query}").json()["nodes"]
        assert len(nodes) > 100
        sizes = {n["type"]: n["size"] for n in nodes if n["type"] not in SQUARE}
        assert sizes == {"initiative": INITIATIVE_SIZE, "organisation": ORGANISATION_SIZE}
        assert _touching(nodes) == []


def _dense(initiatives: int, organisations: int) -> Network:
    """Organisations in two initiatives each, crowding around them (as the browser test's)."""
    nodes = [NetworkNode(id=f"i{k}", type="initiative", label=f"I{k}") for k in range(initiatives)]
    nodes += [
        NetworkNode(id=f"o{k}", type="organisation", label=f"O{k}") for k in range(organisations)
    ]
    nodes += [
        NetworkNode(id=f"c{k}", type="country", label=f"C{k}", weight=k * k + 1) for k in range(30)
    ]
    edges = [
        NetworkEdge(source=f"o{k}", target=f"i{i}", type="participation")
        for k in range(organisations)
        for i in sorted({k % initiatives, (k * 7 + 3) % initiatives})
    ] + [
        NetworkEdge(source=f"o{k}", target=f"c{k % 30}", type="location")
        for k in range(organisations)
    ]
    return Network(nodes=nodes, edges=edges)


@pytest.mark.parametrize("organisations", [600, 1900])
def test_no_two_nodes_of_a_dense_network_overlap(organisations: int) -> None:
    network = _dense(40, organisations)
    positions = network_layout(network, seed=public.NETWORK_SEED)
    assert positions == network_layout(network, seed=public.NETWORK_SEED)
    sizes = node_sizes(network)
    nodes = [
        {"id": n.id, "type": n.type, "size": sizes[n.id], "x": positions[n.id][0],
         "y": positions[n.id][1]}
        for n in network.nodes
    ]  # fmt: skip
    assert _touching(nodes) == []
    assert min(p[0] for p in positions.values()) >= 0
    assert min(p[1] for p in positions.values()) >= 0
    # The countries are sized by weight, 14 to 60.
    squares = sorted(sizes[n.id] for n in network.nodes if n.type == "country")
    assert squares[0] < 20 and squares[-1] == 60
