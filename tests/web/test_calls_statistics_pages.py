"""The public statistics pages of calls: across calls and per call, with their CSV downloads,
chart data and table twins, on the seeded real calls; `/calls/statistics` is not taken by
the public `/calls/{call_id}` route."""

from __future__ import annotations

import csv
import io
import json
import re

import yaml
from fastapi.testclient import TestClient
from starlette.routing import Match

from permedhub.calls.documents import seeded_call_files
from permedhub.web.pages import calls_statistics

SEEDED = [f"erapermed-jtc{year}" for year in range(2018, 2023)]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_statistics_across_calls_is_its_own_page_not_a_call(read_client: TestClient) -> None:
    response = read_client.get("/calls/statistics", follow_redirects=False)
    assert response.status_code == 200
    page = response.text
    assert "<h1>Statistics across calls</h1>" in page
    for call_id in SEEDED:
        assert f'href="/calls/{call_id}/statistics"' in page
    assert 'id="figure-partners"' in page and "/tools/static/plotly.min.js" in page
    # The page's policy lets Plotly's one empty style element in, nothing else.
    assert "sha256-" in response.headers["content-security-policy"]
    # Whatever router comes first, the first route that matches is the statistics page.
    app = read_client.app
    scope = {"type": "http", "path": "/calls/statistics", "method": "GET"}
    first = next(r for r in app.routes if r.matches(scope)[0] == Match.FULL)  # type: ignore[attr-defined]
    assert getattr(first, "original_router", first) is calls_statistics.router
    # ... and a call's own public route still answers for a call.
    call_page = read_client.get("/calls/erapermed-jtc2021", follow_redirects=False)
    assert (
        call_page.status_code == 200
        and 'href="/calls/erapermed-jtc2021/statistics"' in call_page.text
    )


def test_the_across_calls_csv_has_a_row_per_call(read_client: TestClient) -> None:
    response = read_client.get("/calls/statistics/calls.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = {r["call"]: r for r in _rows(response.text)}
    assert set(SEEDED) <= set(rows)
    assert rows["erapermed-jtc2021"]["published_projects_funded"] == "22"
    assert rows["erapermed-jtc2019"]["published_projects_funded"] == ""  # unknown stays empty
    graph = _rows(read_client.get("/calls/statistics/graph.csv").text)
    assert {r["dimension"] for r in graph} == {"all", "country", "organisation kind"}
    assert read_client.get("/calls/statistics/nothing.csv").status_code == 404


def test_a_seeded_calls_page_shows_what_its_file_states(read_client: TestClient) -> None:
    path = next(p for p in seeded_call_files() if p.stem == "erapermed-jtc2021")
    stated = yaml.safe_load(path.read_text(encoding="utf-8"))["outcome"]
    page = read_client.get("/calls/erapermed-jtc2021/statistics").text
    published = page[page.index('id="table-published"') :].split("</table>")[0]
    assert "217" in published and "59" in published and "10.1%" in published
    assert "eligible pre-proposals" in published
    notes = page[page.index('id="notes-published"') :].split("</ul>")[0]
    assert f'href="{stated["source"]}"' in notes and "erapermed-jtc2021" in notes
    assert "nan" not in notes  # no doubt stated: none shown
    rows = _rows(read_client.get("/calls/erapermed-jtc2021/statistics/published.csv").text)
    assert len(rows) == 1
    assert int(rows[0]["pre_proposals_eligible"]) == stated["pre_proposals_eligible"]
    assert int(rows[0]["projects_funded"]) == stated["projects_funded"]
    # The chart's data is the graph table's twin: the same partners per country.
    figure = re.search(
        r'<script type="application/json" id="figure-data-partners">(.*?)</script>', page, re.S
    )
    assert figure is not None
    bars = json.loads(figure.group(1))["data"][0]
    graph = _rows(read_client.get("/calls/erapermed-jtc2021/statistics/graph.csv").text)
    by_country = {r["value"]: int(r["partners"]) for r in graph if r["dimension"] == "country"}
    assert dict(zip(bars["x"], bars["y"], strict=True)) == by_country
    # A call whose sources state no outcome shows none, and no rate.
    other = read_client.get("/calls/erapermed-jtc2019/statistics").text
    assert (
        'id="table-published"' in other
        and "%" not in other.split('id="table-published"')[1].split("</table>")[0]
    )


def test_an_unknown_call_has_no_statistics(read_client: TestClient) -> None:
    response = read_client.get("/calls/no-such-call/statistics")
    assert response.status_code == 404 and "no statistics" in response.text
    assert read_client.get("/calls/no-such-call/statistics/calls.csv").status_code == 404
