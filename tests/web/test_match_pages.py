"""The partner-search page: a shareable GET form, ranked partners with their score parts and
reasons, a consortium completed for a seeded call, bad input named; and in Chromium."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from browser_support import Tab, screenshot

IDEA = "health economic models and payment strategies for personalised medicine"


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-organisation="([^"]+)">', html)


def test_an_empty_form_shows_no_ranking(read_client: TestClient) -> None:
    page = read_client.get("/match")
    assert page.status_code == 200 and 'id="match-form"' in page.text
    assert 'id="partner-table"' not in page.text


def test_an_idea_ranks_partners_with_their_reasons(read_client: TestClient) -> None:
    page = read_client.get("/match", params={"idea": IDEA})
    assert page.status_code == 200
    found = rows(page.text)
    assert {"erasmus-university-rotterdam", "syreon-research-institute"} <= set(found[:5])
    assert "matches the idea (rank" in page.text


def test_a_region_and_partners_narrow_and_explain(read_client: TestClient) -> None:
    page = read_client.get(
        "/match", params={"idea": IDEA, "region": "celac", "with": "isciii\nfiocruz"}
    )
    assert page.status_code == 200
    found = rows(page.text)
    assert found and "isciii" not in found and "fiocruz" not in found
    assert "adds a country to the consortium" in page.text


def test_the_consortium_is_completed_for_a_call(read_client: TestClient) -> None:
    page = read_client.get("/match", params={"idea": IDEA, "call": "erapermed-jtc2022",
                                             "with": "isciii", "complete": "1"})  # fmt: skip
    assert page.status_code == 200, page.text
    assert "The completed consortium meets the call's consortium rules" in page.text
    table = page.text.split('id="completion-table"')[1].split("</table>")[0]
    assert len(re.findall(r"<tr><td>", table)) == 2  # JTC2022: 3 partners from 3 countries


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"idea": IDEA, "call": "jtc-1999"}, "call = &#39;jtc-1999&#39; is invalid"),
        ({"idea": IDEA, "topic": "astrology"}, "topic ids of the ICPerMed taxonomy"),
        ({"idea": IDEA, "region": "atlantis"}, "the id of a graph region"),
        ({"idea": IDEA, "with": "nobody"}, "ids of organisations in the graph"),
        ({"idea": "x" * 2001}, "at most 2000"),
    ],
)
def test_bad_input_is_named(read_client: TestClient, params: dict, message: str) -> None:
    page = read_client.get("/match", params=params)
    assert page.status_code == 422 and message in page.text


@pytest.mark.browser
def test_partner_search_in_a_browser(tab: Tab) -> None:
    page = tab.page
    page.goto(f"{tab.base}/match")
    page.fill("#idea", IDEA)
    page.select_option("#call", "erapermed-jtc2022")
    page.fill("#with", "isciii")
    page.click("button[name=complete]")
    page.wait_for_selector("#partner-table")
    assert page.locator("#partner-table tbody tr").count() > 3
    assert "meets the call" in page.inner_text("#completion-verdict")
    screenshot(page, "match-partners")
