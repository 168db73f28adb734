"""The tool pages in a real headless Chromium: a form is submitted and Plotly draws the charts
under the portal's Content-Security-Policy (no inline scripts), with every request to a host
other than the test server blocked. Screenshots go to test-artifacts/ for a human to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from browser_support import chromium_or_skip, launched_chromium, screenshot, serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server_url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """uvicorn in a background thread on 127.0.0.1 (a free port)."""
    chromium_or_skip()
    from permedhub.db import make_engine
    from permedhub.web.app import create_app

    folder = tmp_path_factory.mktemp("tools-browser")
    shutil.copyfile(sqlite_template, folder / "x.sqlite")
    engine = make_engine(f"sqlite:///{folder / 'x.sqlite'}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PERMEDHUB_SECRET_KEY", "tools-browser-secret")
        patch.setenv("PERMEDHUB_DATA_DIR", str(folder / "data"))
        app = create_app(engine, prepare_database=False)
    with serve(app) as url:
        yield url
    engine.dispose()


@dataclass
class Tab:
    page: Any
    base: str
    outside_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        screenshot(self.page, name)


@pytest.fixture(scope="module")
def chromium(server_url: str) -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def tab(chromium: Any, server_url: str) -> Iterator[Tab]:
    """A fresh context whose requests may reach only the test server; console errors
    (including Content-Security-Policy violations) fail the test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    result = Tab(page, server_url)

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(server_url) or url.startswith("data:"):
            request_route.continue_()
        else:
            result.outside_requests.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and result.errors.append(m.text))
    page.on("pageerror", lambda e: result.errors.append(str(e)))
    yield result
    context.close()
    assert not result.outside_requests, f"requests left the test server: {result.outside_requests}"
    assert not result.errors, f"browser console errors: {result.errors}"


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
