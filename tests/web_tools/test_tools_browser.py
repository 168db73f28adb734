"""The tool pages in a real headless Chromium: a form is submitted and Plotly draws the charts
under the portal's Content-Security-Policy (no inline scripts), with every request to a host
other than the test server blocked. Screenshots go to test-artifacts/ for a human to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tools_pages import tool_pages

from browser_support import Tab, chromium_or_skip, guarded_tab, launched_chromium, served_copy

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server_url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """uvicorn in a background thread on 127.0.0.1 (a free port)."""
    chromium_or_skip()
    folder = tmp_path_factory.mktemp("tools-browser")
    with served_copy(sqlite_template, folder, "tools-browser-secret") as (url, _engine, _app):
        yield url


@pytest.fixture(scope="module")
def chromium(server_url: str) -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def tab(chromium: Any, server_url: str) -> Iterator[Tab]:
    with guarded_tab(chromium, server_url, timeout_ms=30_000) as guarded:
        yield guarded


def test_running_a_shipped_model_draws_the_cost_effectiveness_plots(tab: Tab) -> None:
    tab.go("/tools/hecon/model")
    tab.page.select_option("#example", "personalised_medicine")
    tab.page.fill("#psa_draws", "300")
    tab.page.fill("#seed", "3")
    tab.page.click('button[name="output"][value="page"]')
    tab.page.wait_for_selector("#figure-ce-plane.js-plotly-plot .main-svg")
    tab.page.wait_for_selector("#figure-ceac.js-plotly-plot .main-svg")
    assert tab.page.locator(".js-plotly-plot").count() == 5
    # The CE plane's points are drawn (SVG, not WebGL: the CSP forbids compiled shaders).
    assert tab.page.locator("#figure-ce-plane .scatterlayer .point").count() >= 300
    tab.shot("tools-hecon-model")


def test_a_group_sequential_design_draws_its_boundaries(tab: Tab) -> None:
    tab.go("/tools/trials/gsd")
    tab.page.fill("#looks", "4")
    tab.page.select_option("#boundary", "ld-obf")
    tab.page.select_option("#futility", "nonbinding")
    tab.page.click('button[name="output"][value="page"]')
    tab.page.wait_for_selector("#figure-boundaries.js-plotly-plot .main-svg")
    assert tab.page.locator("#figure-boundaries .scatterlayer .trace").count() == 2
    assert "futility bound" in tab.page.text_content("#figure-boundaries")
    tab.shot("tools-trials-gsd")


@pytest.mark.parametrize("path", tool_pages())
def test_pressing_run_on_the_page_as_it_opens_gives_a_result(tab: Tab, path: str) -> None:
    """A first-time user changes nothing and presses the page's run button (issue 16)."""
    tab.go(path)
    with tab.page.expect_navigation():
        tab.page.locator('form[action^="/tools/"] button[type="submit"]').first.click()
    assert tab.page.locator("#problem").count() == 0, tab.page.text_content("#problem")
    assert tab.page.locator("#results table.data").count() >= 1
    if tab.page.locator(".js-tool-figure").count():
        tab.page.wait_for_selector(".js-tool-figure.js-plotly-plot .main-svg")


def test_a_wide_table_opens_on_its_key_columns_and_shows_the_rest_on_request(tab: Tab) -> None:
    tab.go("/tools/trials/gsd")
    # The click loads a new page: wait until its stylesheet applies (under load the table can
    # be read before the CSS that hides the detail columns).
    with tab.page.expect_navigation(wait_until="load"):
        tab.page.click('button[name="output"][value="page"]')
    detail = tab.page.locator('#result-table-1 th:has-text("P(stop for futility | H0)")')
    key = tab.page.locator('#result-table-1 th:has-text("Efficacy bound (z)")')
    assert key.is_visible() and not detail.is_visible()
    assert key.get_attribute("title") == "efficacy_z"
    tab.shot("tools-trials-gsd-key-columns")
    tab.page.click('label[for="result-table-1-all-columns"]')
    assert detail.is_visible()
    tab.shot("tools-trials-gsd-all-columns")
