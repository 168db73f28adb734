"""The home page at the family's real size: words in the right number, one timeline bar per
call's funded projects, a bounded list of sub-national organisations with a page of them all."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from permedhub.graph.models import Call, Initiative, Organisation
from permedhub.web.pages import public
from permedhub.web.pages.public import SUBNATIONAL_LISTED
from permedhub.web.pages.rendering import templates


def test_the_plural_filter_puts_the_word_in_the_right_number() -> None:
    plural = templates.env.filters["plural"]
    assert plural(1, "participation") == "1 participation"
    assert plural(0, "participation") == "0 participations"
    assert plural(3, "country", "countries") == "3 countries"
    assert plural(1, "country", "countries") == "1 country"


def test_no_template_pluralises_by_hand() -> None:
    from permedhub.web.pages.rendering import TEMPLATES_DIR

    for path in TEMPLATES_DIR.rglob("*.html"):  # type: ignore[attr-defined]
        assert "'s' if" not in path.read_text(encoding="utf-8"), path


def _projects_by_call(client: TestClient) -> Counter[str]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        calls = set(session.execute(select(Call.id)).scalars())
        rows = session.execute(
            select(Initiative.call_topic).where(
                Initiative.kind == "project", Initiative.start_date.is_not(None)
            )
        ).scalars()
        return Counter(c for c in rows if c in calls)


def test_the_timeline_draws_one_bar_per_call_with_its_project_count(
    read_client: TestClient,
) -> None:
    expected = _projects_by_call(read_client)
    assert expected, "the seed has dated projects funded under its calls"
    page = read_client.get("/").text
    bars = dict(
        re.findall(
            r'<a class="tl-label" href="/calls/([^"]+)">[^<]*</a>\s*<svg[^>]*>.*?'
            r'class="tl-count">(\d+) projects?</text>',
            page,
            re.S,
        )
    )
    assert {k: int(v) for k, v in bars.items()} == dict(expected)
    with Session(read_client.app.state.engine) as session:  # type: ignore[attr-defined]
        grouped = list(
            session.execute(
                select(Initiative.id).where(Initiative.call_topic.in_(list(expected)))
            ).scalars()
        )
    for project in grouped:
        assert f'class="tl-label" href="/initiatives/{project}"' not in page
    # The timeline's CSV keeps every project.
    in_csv = read_client.get("/timeline.csv").text
    assert all(f"\n{project}," in in_csv for project in grouped)


def test_the_map_legend_data_name_the_singular(read_client: TestClient) -> None:
    assert read_client.get("/map.json").json()["measure_one"] == "participation"
    assert read_client.get("/initiatives/erapermed/map.json").json()["measure_one"] == "partner"


def test_the_sub_national_list_is_bounded_and_links_to_them_all(read_client: TestClient) -> None:
    with Session(read_client.app.state.engine) as session:  # type: ignore[attr-defined]
        total = len(
            session.execute(
                select(Organisation.id).where(Organisation.subdivision_code.is_not(None))
            ).all()
        )
    assert total > SUBNATIONAL_LISTED, "the seed has more sub-national organisations than shown"
    home = read_client.get("/").text
    section = home[home.index("Sub-national organisations") :]
    section = section[: section.index("</div>")]
    assert section.count("<li>") == SUBNATIONAL_LISTED
    assert f'<a href="/subnational">All {total} sub-national organisations</a>' in section
    full = read_client.get("/subnational").text
    assert f"Sub-national organisations ({total})" in full
    assert full.count('<a href="/organisations/') == total


def test_the_page_of_sub_national_organisations_pages(
    read_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = read_client.get("/subnational").text.count('<a href="/organisations/')
    monkeypatch.setattr(public, "SUBNATIONAL_PAGE", 5)
    pages = [read_client.get("/subnational", params={"page": n}).text for n in (1, 2, 3, 4)]
    counts = [p.count('<a href="/organisations/') for p in pages]
    assert sum(counts) == everyone and counts[0] == 5
    assert "Page 1 of" in pages[0] and 'rel="next"' in pages[0]
