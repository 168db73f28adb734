"""The portal's feasibility page (`/federation`): a logged-in researcher composes a cohort and
gets each real node process's disclosure-controlled answer, with the nodes that did not answer
reported; the page is checked over HTTP and in Chromium."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from federation_support import Region, RunningNode
from oracle import expected_members
from sqlalchemy import Engine

from browser_support import chromium_or_skip, guarded_tab, launched_chromium, screenshot, serve
from permedhub.db import make_engine
from permedhub.federation.cohort import CohortError, parse_cohort
from permedhub.graph.curation import create_user
from permedhub.web.app import create_app
from permedhub.web.federation import cohort_document
from serving import free_port

PASSWORD = "viewer-password-1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def published(region: Region, definition: dict) -> int | None:
    """What a node publishes for the cohort: None below k = 10, else rounded up to tens."""
    true = len(expected_members(region.synthetic.tables, parse_cohort(definition)))
    return None if true < 10 else -(-true // 10) * 10


@pytest.fixture(scope="module")
def nodes_file(
    running_nodes: dict[str, RunningNode], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """north (HTTP), islands (HTTPS, self-signed) and a node nobody serves."""
    folder = tmp_path_factory.mktemp("hub")
    entries = []
    for node in running_nodes.values():
        (folder / f"{node.name}.secret").write_text(node.secret, encoding="utf-8")
        entry = {"name": node.name, "url": node.url, "user": node.user,
                 "secret_file": f"{node.name}.secret"}  # fmt: skip
        if node.ca:
            entry["ca"] = str(node.ca)
        entries.append(entry)
    (folder / "gone.secret").write_text("x" * 64, encoding="utf-8")
    entries.append({"name": "gone", "url": f"http://127.0.0.1:{free_port()}", "user": "alice",
                    "secret_file": "gone.secret", "timeout": 2})  # fmt: skip
    path = folder / "nodes.yaml"
    path.write_text(yaml.safe_dump({"nodes": entries}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def portal_engine(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("portal") / "portal.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    create_user(engine, "vera", PASSWORD, "viewer")
    yield engine
    engine.dispose()


@pytest.fixture
def client(
    portal_engine: Engine, nodes_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("PERMEDHUB_SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("PERMEDHUB_FEDERATION_NODES", str(nodes_file))
    app = create_app(portal_engine, prepare_database=False)
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def token(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client: TestClient) -> str:
    answer = client.post("/login", data={"name": "vera", "password": PASSWORD, "next": "/",
                                         "csrf_token": token(client, "/login")},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    return token(client, "/federation")


def form(csrf: str, name: str, **fields: str) -> dict[str, str]:
    criterion = {"inclusion-0-domain": "condition", "inclusion-0-concepts": "201826"}
    return {"csrf_token": csrf, "name": name, "reference_date": "2024-01-01", **criterion,
            **fields}  # fmt: skip


def node_row(html: str, node: str) -> list[str]:
    match = re.search(rf'<tr data-status="([a-z_]+)"><th scope="row">{node}</th>(.*?)</tr>', html)
    assert match, f"no result row for node {node}"
    return [match.group(1), *re.findall(r"<td[^>]*>(.*?)</td>", match.group(2))]


def test_the_form_fields_make_the_cohort_the_cli_reads() -> None:
    fields = {
        "name": "HbA1c high", "reference_date": "2024-01-01", "age_min": "40", "age_max": "70",
        "sex_female": "on", "observation_from": "2020-01-01", "observation_to": "2023-12-31",
        "inclusion-0-domain": "measurement", "inclusion-0-concepts": "3004410",
        "inclusion-0-value_min": "7", "inclusion-1-domain": "drug",
        "inclusion-1-concepts": "1503297; 1308216", "inclusion-1-start": "2015-01-01",
        "inclusion-2-domain": "condition", "inclusion-2-concepts": " ",
        "exclusion-0-domain": "condition", "exclusion-0-concepts": "46271022",
        "breakdown_age_band": "on",
    }  # fmt: skip
    assert cohort_document(fields) == {
        "name": "HbA1c high", "reference_date": "2024-01-01", "sex": ["female"],
        "age": {"min": 40, "max": 70},
        "observation": {"from": "2020-01-01", "to": "2023-12-31"},
        "inclusion": [
            {"domain": "measurement", "concept_ids": [3004410], "value": {"min": 7.0}},
            {"domain": "drug", "concept_ids": [1503297, 1308216], "start": "2015-01-01"},
        ],
        "exclusion": [{"domain": "condition", "concept_ids": [46271022]}],
        "breakdown": ["age_band"],
    }  # fmt: skip


def test_unreadable_fields_are_each_named() -> None:
    with pytest.raises(CohortError) as caught:
        cohort_document({"name": "x", "reference_date": "2024-01-01", "age_min": "forty",
                         "inclusion-0-domain": "measurement", "inclusion-0-concepts": "HbA1c",
                         "inclusion-0-value_max": "high"})  # fmt: skip
    assert [p.field for p in caught.value.problems] == [
        "inclusion[0].concept_ids", "inclusion[0].value.max", "age.min"]  # fmt: skip
    assert "whole numbers separated by commas" in str(caught.value)


def test_the_page_needs_a_logged_in_user(client: TestClient) -> None:
    page = client.get("/federation")
    assert page.status_code == 401 and "/login?next=/federation" in page.text
    posted = client.post("/federation", data={"name": "x"})
    assert posted.status_code == 401 and 'id="node-results"' not in posted.text


def test_a_post_without_the_form_token_is_refused(client: TestClient) -> None:
    log_in(client)
    refused = client.post("/federation", data=form("not-the-token", "T2DM"))
    assert refused.status_code == 403 and 'id="node-results"' not in refused.text


def test_every_node_answers_or_is_reported(client: TestClient, regions: dict[str, Region]) -> None:
    csrf = log_in(client)
    page = client.get("/federation")
    assert page.status_code == 200
    assert re.findall(r"<li><strong>(\w+)</strong>", page.text) == ["north", "islands", "gone"]
    definition = {"name": "T2DM 40-70", "reference_date": "2024-01-01",
                  "age": {"min": 40, "max": 70},
                  "inclusion": [{"domain": "condition", "concept_ids": [201826]}]}  # fmt: skip
    answer = client.post("/federation", data=form(csrf, "T2DM 40-70", age_min="40", age_max="70"))
    assert answer.status_code == 200, answer.text
    expected = {name: published(regions[name], definition) for name in ("north", "islands")}
    assert all(expected.values()), "the test cohort must be above k at both nodes"
    for name, count in expected.items():
        status, _label, shown, *_ = node_row(answer.text, name)
        assert (status, shown) == ("answered", f"{count:,}")
    status, label, shown, _seconds, detail = node_row(answer.text, "gone")
    assert (status, label, shown) == ("unreachable", "unreachable", "–") and "Connect" in detail
    total = sum(c for c in expected.values() if c)
    assert f"Total: {total:,}</strong> from 2 nodes (north, islands)" in answer.text
    assert "counted once per node (double-counted)" in answer.text
    assert "No answer from gone: not in the total." in answer.text

    again = client.post("/federation", data=form(csrf, "the same people, renamed",
                                                 age_min="40", age_max="70"))  # fmt: skip
    status, _label, shown, _seconds, detail = node_row(again.text, "north")
    assert (status, shown) == ("refused", "–") and detail.startswith("repeat")


def test_a_breakdown_shows_each_nodes_cells(client: TestClient, regions: dict[str, Region]) -> None:
    csrf = log_in(client)
    answer = client.post("/federation", data=form(csrf, "T2DM by sex", breakdown_sex="on",
                                                  age_min="18"))  # fmt: skip
    assert answer.status_code == 200
    table = answer.text.split('id="breakdown"')[1].split("</table>")[0]
    assert re.findall(r"<th scope=\"col\"[^>]*>(\w+)</th>", table) == ["sex", "north", "islands"]
    rows = re.findall(r"<tr><td>(\w+)</td>(.*?)</tr>", table)
    assert [sex for sex, _ in rows] == ["female", "male", "all"]
    for sex, cells in rows:
        definition = {"name": "t", "reference_date": "2024-01-01", "age": {"min": 18},
                      "inclusion": [{"domain": "condition", "concept_ids": [201826]}]}  # fmt: skip
        if sex != "all":
            definition["sex"] = [sex]
        shown = re.findall(r'<td class="num">(.*?)</td>', cells)
        for node, value in zip(("north", "islands"), shown, strict=True):
            count = published(regions[node], definition)
            assert value == ("suppressed" if count is None else f"{count:,}")


def test_malformed_cohorts_are_named_and_nothing_is_sent(client: TestClient) -> None:
    csrf = log_in(client)
    broken = client.post("/federation", data={"csrf_token": csrf, "cohort_json": '{"name": '})
    assert broken.status_code == 422
    assert "JSON line 1 column 9 (value &#39;&#39;): valid JSON" in broken.text
    assert 'id="node-results"' not in broken.text
    unknown = client.post("/federation", data={"csrf_token": csrf, "cohort_json": json.dumps(
        {"name": "x", "reference_date": "2024-01-01", "colour": "red"})})  # fmt: skip
    assert unknown.status_code == 422 and "colour" in unknown.text
    fields = client.post("/federation", data=form(csrf, "", age_min="seventy"))
    assert fields.status_code == 422 and "age.min (value &#39;seventy&#39;)" in fields.text


def test_the_answers_download_as_json(client: TestClient) -> None:
    csrf = log_in(client)
    download = client.post("/federation", data=form(csrf, "T2DM, women", sex_female="on",
                                                    output="json"))  # fmt: skip
    assert download.headers["content-disposition"] == 'attachment; filename="feasibility.json"'
    data = download.json()
    assert [n["node"] for n in data["nodes"]] == ["north", "islands", "gone"]
    assert data["not_answered"] == ["gone"] and data["cohort"] == "T2DM, women"


def test_without_registered_nodes_the_page_says_so(
    portal_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERMEDHUB_SECRET_KEY", "test-secret-key")
    monkeypatch.delenv("PERMEDHUB_FEDERATION_NODES", raising=False)
    with TestClient(create_app(portal_engine, prepare_database=False),
                    base_url="https://testserver") as bare:  # fmt: skip
        csrf = log_in(bare)
        page = bare.get("/federation")
        assert page.status_code == 503 and "PERMEDHUB_FEDERATION_NODES" in page.text
        assert re.search(r'value="page"\s+disabled', page.text)
        posted = bare.post("/federation", data=form(csrf, "T2DM"))
        assert posted.status_code == 503 and 'id="node-results"' not in posted.text


@pytest.mark.browser
def test_a_researcher_asks_the_nodes_in_a_browser(
    portal_engine: Engine, nodes_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium_or_skip()
    monkeypatch.setenv("PERMEDHUB_SECRET_KEY", "browser-secret")
    monkeypatch.setenv("PERMEDHUB_FEDERATION_NODES", str(nodes_file))
    app = create_app(portal_engine, prepare_database=False)
    with serve(app) as url, launched_chromium() as chromium, \
            guarded_tab(chromium, url, timeout_ms=20_000) as tab:  # fmt: skip
        page = tab.page
        page.goto(f"{url}/login?next=/federation")
        page.fill("#name", "vera")
        page.fill("#password", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{url}/federation")
        page.fill("#name", "COPD, browser")
        page.fill("input[name='inclusion-0-concepts']", "255573")
        page.fill("input[name='inclusion-1-concepts']", "")
        page.fill("#age_min", "18")
        page.fill("#age_max", "")
        page.click("button[value=page]")
        page.wait_for_selector("#node-results")
        statuses = page.eval_on_selector_all(
            "#node-results tbody tr", "rows => rows.map(r => r.dataset.status)"
        )
        assert statuses == ["answered", "answered", "unreachable"]
        counts = page.eval_on_selector_all(
            "#node-results tbody td:nth-child(3)", "cells => cells.map(c => c.textContent)"
        )
        assert all(re.fullmatch(r"[\d,]+0", c) for c in counts[:2]), counts
        total = sum(int(c.replace(",", "")) for c in counts[:2])
        assert page.inner_text("#total").startswith(f"Total: {total:,} from 2 nodes")
        screenshot(page, "federation-results")
