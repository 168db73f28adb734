"""The portal's pages at the family's real size, in a headless Chromium: search with partial
matches and country names, the home page's legends, timeline and lists, region pages and
project pages. Screenshots go to test-artifacts/ for a human to look at."""

from __future__ import annotations

import re

import pytest

from browser_support import Tab

pytestmark = pytest.mark.browser


def test_search_shows_partial_matches_and_reads_a_country(tab: Tab) -> None:
    tab.go("/search")
    tab.page.focus("#q")
    tab.page.keyboard.type("cancer alemania wibblefrotz", delay=20)
    partial = tab.page.locator("#results .search-partial")
    partial.wait_for(timeout=10_000)
    assert "No record has all of your words" in partial.text_content()
    assert tab.page.locator("#results .word-missing").text_content() == "wibblefrotz"
    assert "is read as Germany" in tab.page.locator("#results .search-country").text_content()
    assert tab.page.locator("#results .result").count() >= 1
    tab.shot("search-partial")


def test_an_empty_search_suggests_what_to_try(tab: Tab) -> None:
    tab.go("/search?q=wibblefrotz")
    empty = tab.page.locator("#results .search-empty")
    assert "Check the spelling" in empty.text_content()
    tab.shot("search-empty")


def test_home_legends_timeline_and_lists_read_well(tab: Tab) -> None:
    tab.go("/")
    tab.page.wait_for_selector('#map[data-ready="1"]', timeout=15_000)
    legend = tab.page.locator("#map-legend li").all_text_contents()
    assert legend and not [t for t in legend if t.startswith("1 ") and t.endswith("s")], legend
    assert tab.page.locator(".tl-call .tl-count").count() >= 1
    assert tab.page.locator('.subnational a[href="/subnational"]').count() == 1
    tab.shot("home")


def test_region_page_ranks_members_and_filters_declared_only(tab: Tab) -> None:
    tab.go("/regions/celac")
    first = tab.page.locator("#members-table tbody tr").first
    assert first.locator("td").nth(0).text_content() == "1"
    tab.page.select_option("#m-part", "declared")
    visible = tab.page.locator("#members-table tbody tr:visible")
    assert visible.count() >= 1
    assert all(t == "declared only" for t in visible.locator(".status").all_text_contents())
    assert tab.page.locator(".declared-note").is_visible()
    tab.page.select_option("#m-part", "")
    tab.shot("region-celac")


def test_project_page_shows_call_funders_and_consortium_map(tab: Tab) -> None:
    tab.go("/initiatives/erapermed")
    first = tab.page.locator(".project-list a").first
    project = first.get_attribute("href")
    assert project and project.startswith("/initiatives/")
    tab.shot("initiative-projects")
    first.click()
    tab.page.wait_for_url("**" + project)
    assert tab.page.locator("#call-title").is_visible()
    assert tab.page.locator("dt", has_text=re.compile("^Call$")).count() == 1
    if tab.page.locator("#map").count():
        tab.page.wait_for_selector('#map[data-ready="1"]', timeout=15_000)
        legend = tab.page.locator("#map-legend li").all_text_contents()
        assert "1 partners" not in legend
    tab.shot("project")
