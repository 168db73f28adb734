"""Long lists come a page at a time, with links to the others, on SQLite and PostgreSQL: a
country's organisations, an initiative's partners; broad searches say their total is a lower
bound; region pages list counts, not every initiative of every member."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from permedhub.graph import queries
from permedhub.graph.loading import load
from permedhub.search.query import search
from permedhub.web.pages import public

EXTRA = 230  # more than a page of partners (public.PARTNER_ROWS) and of a country's (50)


@pytest.fixture
def crowded(
    engine: Engine, tmp_path: Path, client_on: Callable[[Engine], ContextManager[TestClient]]
) -> Iterator[TestClient]:
    """The family plus EXTRA Portuguese organisations, all partners of PERMIT."""
    orgs = tmp_path / "organisations.csv"
    orgs.write_text(
        "id,name,country\n"
        + "".join(f"crowd-{k:03d},Crowd Member {k:03d},PT\n" for k in range(EXTRA)),
        encoding="utf-8",
    )
    parts = tmp_path / "participations.csv"
    parts.write_text(
        "organisation,initiative,role\n"
        + "".join(f"crowd-{k:03d},permit,partner\n" for k in range(EXTRA)),
        encoding="utf-8",
    )
    load(engine, [orgs, parts])
    with client_on(engine) as client:
        yield client


def _names(page: str) -> list[str]:
    return re.findall(r'<a href="/organisations/crowd-\d+">(Crowd Member \d+)</a>', page)


def test_a_country_lists_its_organisations_a_page_at_a_time(crowded: TestClient) -> None:
    api = crowded.get("/api/countries/PT").json()
    total = api["organisations_total"]
    assert total >= EXTRA and api["participations_total"] >= EXTRA
    first = crowded.get("/countries/PT").text
    pages = -(-total // queries.COUNTRY_ORGANISATIONS_PER_PAGE)
    assert f"page 1 of {pages}" in first and f"Page 1 of {pages}" in first
    assert 'href="/countries/PT?page=2#org-title" rel="next"' in first
    assert 'rel="prev"' not in first
    last = crowded.get(f"/countries/PT?page={pages}").text
    assert f'href="/countries/PT?page={pages - 1}#org-title" rel="prev"' in last
    assert 'rel="next"' not in last
    seen = [
        n for p in range(1, pages + 1) for n in _names(crowded.get(f"/countries/PT?page={p}").text)
    ]
    assert seen == sorted(seen) and len(seen) == EXTRA
    rows = crowded.get("/countries/PT/organisations.csv").content.decode("utf-8-sig")
    assert rows.count("Crowd Member") == EXTRA


def test_an_initiative_lists_its_partners_a_page_at_a_time(crowded: TestClient) -> None:
    api = crowded.get("/api/initiatives/permit", params={"per_page": 10, "page": 3}).json()
    total = api["partners_total"]
    assert total > EXTRA and len(api["partners"]) == 10 and api["partners_page"] == 3
    portugal = next(c for c in api["countries"] if c["code"] == "PT")
    assert portugal["partners"] >= EXTRA and "partner" in api["roles"]
    first = crowded.get("/initiatives/permit").text
    assert f"Partners ({total})" in first
    assert 'href="/initiatives/permit?page=2#partners-title" rel="next"' in first
    # Coordinators first, then by name, across pages: the crowd fills the pages in order.
    pages = -(-total // public.PARTNER_ROWS)
    assert pages >= 2 and f"Page 1 of {pages}" in first
    shown = _names(first) + [
        n
        for p in range(2, pages + 1)
        for n in _names(crowded.get(f"/initiatives/permit?page={p}").text)
    ]
    assert shown == sorted(shown) and len(shown) == EXTRA
    rows = crowded.get("/initiatives/permit/partners.csv").content.decode("utf-8-sig")
    assert rows.count("\n") == total + 1  # header + every partner


def test_a_broad_search_says_its_total_is_a_lower_bound(
    crowded: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = crowded.get("/search/results", params={"q": "crowd"}).text
    assert f"{EXTRA} results for" in exact and "At least" not in exact
    # The portal's window and count limit, made small enough for this graph.
    monkeypatch.setattr(public, "search", functools.partial(search, candidates=20, count_limit=100))
    broad = crowded.get("/search/results", params={"q": "crowd"}).text
    assert "At least 100 results" in broad and "best 50 of the first 50 matches" in broad
    api = crowded.get("/api/search", params={"q": "crowd member"}).json()
    assert api["total"] == EXTRA and api["total_exact"] is True


def test_a_region_page_counts_each_members_initiatives(crowded: TestClient) -> None:
    page = crowded.get("/regions/eu27").text
    portugal = crowded.get("/api/countries/PT").json()
    assert f'<a href="/countries/PT#init-title">{portugal["initiatives_total"]}</a>' in page
    region = crowded.get("/api/regions/eu27").json()
    assert "permit" in {i["id"] for i in region["initiatives"]}
    assert region["initiatives_total"] >= len(region["initiatives"])
