"""The portal in a real headless Chromium: network, filters, map, timeline, search, curation.

Every request to a host other than the test server is blocked and recorded, so these tests also
prove that nothing (scripts, map outlines, fonts) loads from a CDN. Screenshots of every page go
to test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import shutil

import pytest

from browser_support import LiveServer, Tab, chromium_or_skip

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"


def _network_ready(tab: Tab) -> int:
    tab.page.wait_for_selector('#network[data-ready="1"]', timeout=15_000)
    return int(tab.page.evaluate("window.permedhubNetwork.nodes().length"))


def _node_on_screen(tab: Tab, node_id: str) -> tuple[float, float]:
    """Viewport coordinates of a network node (the network scrolled into view first)."""
    tab.page.locator("#network").scroll_into_view_if_needed()
    # Cytoscape caches where its canvas is and updates that cache on the scroll event, which
    # fires a frame later: a pointer moved before then hits the wrong spot.
    tab.page.evaluate(
        "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    box = tab.page.locator("#network").bounding_box()
    position = tab.page.evaluate(
        f"window.permedhubNetwork.getElementById('{node_id}').renderedPosition()"
    )
    return box["x"] + position["x"], box["y"] + position["y"]


def test_network_renders_its_nodes_and_a_click_opens_the_page(tab: Tab) -> None:
    tab.go("/")
    nodes = _network_ready(tab)
    assert nodes == int(tab.page.get_attribute("#network", "data-nodes")) > 20
    tab.shot("home")
    x, y = _node_on_screen(tab, "initiative:erapermed")
    tab.page.mouse.move(x, y)
    # Hover highlights the initiative's partners and shows its name in the tooltip.
    tab.page.wait_for_selector("#network-tooltip:not([hidden])")
    assert "ERA PerMed" in tab.page.text_content("#network-tooltip")
    highlighted = tab.page.evaluate("window.permedhubNetwork.$('node.highlight').length")
    assert highlighted > 5
    tab.page.mouse.click(x, y)
    tab.page.wait_for_url("**/initiatives/erapermed", timeout=10_000)
    assert "ERA PerMed" in tab.page.text_content("h1")


def test_filters_change_what_the_network_and_its_table_show(tab: Tab) -> None:
    tab.go("/")
    everything = _network_ready(tab)
    # Keyboard users highlight an initiative's partners from a list instead of hovering.
    tab.page.focus("#network-focus")
    tab.page.select_option("#network-focus", "initiative:erapermed")
    assert tab.page.evaluate("window.permedhubNetwork.$('node.highlight').length") > 5
    assert tab.page.get_attribute("#network-open", "href") == "/initiatives/erapermed"
    # The network starts from every kind but "project": keep csa alone.
    for kind in tab.page.eval_on_selector_all(
        'input[name="kind"]:checked', "boxes => boxes.map(b => b.value)"
    ):
        if kind != "csa":
            tab.page.uncheck(f'input[name="kind"][value="{kind}"]')
    tab.page.check('input[name="kind"][value="csa"]')
    tab.page.wait_for_function(
        f"() => window.permedhubNetwork.nodes().length !== {everything}", timeout=15_000
    )
    tab.page.wait_for_selector('#network[data-ready="1"]')
    kinds = tab.page.evaluate(
        "[...new Set(window.permedhubNetwork.nodes('[type = \"initiative\"]')"
        ".map(n => n.data('kind')))]"
    )
    assert kinds == ["csa"]
    tab.page.click("summary:has-text('The network as a table')")
    tab.page.wait_for_function(
        "() => !document.querySelector('#network-table a[href=\"/initiatives/erapermed\"]')"
    )
    tab.shot("home-filtered-csa")


def test_map_and_timeline_render_with_the_network_off(tab: Tab) -> None:
    tab.go("/")
    tab.page.wait_for_selector('#map[data-ready="1"]', timeout=15_000)
    assert int(tab.page.get_attribute("#map", "data-countries")) >= 10
    assert tab.page.locator("#map svg path").count() > 200  # world-atlas 50m outlines
    # Sub-national funders and partners (Navarre, Tuscany, Flanders, ...) as dots.
    assert int(tab.page.get_attribute("#map", "data-places")) >= 5
    navarre = tab.page.locator('#map circle.place[data-code="ES-NC"]')
    assert "Navarr" in navarre.locator("title").text_content()
    spain = tab.page.locator('#map path[data-code="ES"]')
    assert spain.count() == 1
    bars = tab.page.locator("#timeline rect.tl-bar").count()
    assert bars >= 10
    assert tab.page.locator("#timeline .tl-today").count() == bars
    assert tab.page.locator("#timeline rect.tl-uncertain").count() >= 1
    tab.page.locator("#map").scroll_into_view_if_needed()
    tab.shot("home-map-timeline")
    # outside_requests is checked empty when the tab closes


def test_names_with_markup_stay_text_in_network_tooltips(tab: Tab, live_server: LiveServer) -> None:
    live_server.edit("organisation", "isciii", {"name": SCRIPT, "acronym": None})
    try:
        tab.go("/")
        _network_ready(tab)
        x, y = _node_on_screen(tab, "organisation:isciii")
        tab.page.mouse.move(x, y)
        tab.page.wait_for_selector("#network-tooltip:not([hidden])")
        assert SCRIPT in tab.page.text_content("#network-tooltip")
        assert tab.page.locator("#network-tooltip script").count() == 0
        tab.go("/organisations/isciii")
        assert tab.page.text_content("h1").strip() == SCRIPT
    finally:
        live_server.edit(
            "organisation", "isciii", {"name": "Instituto de Salud Carlos III", "acronym": "ISCIII"}
        )


def test_search_finds_era_permed_as_you_type(tab: Tab) -> None:
    tab.go("/search")
    tab.page.focus("#q")
    tab.page.keyboard.type("era permed", delay=40)
    first = tab.page.locator("#results .result-title").first
    first.wait_for(timeout=10_000)
    assert first.get_attribute("href") == "/initiatives/erapermed"
    assert tab.page.locator("#results mark").count() >= 1
    tab.page.wait_for_function("() => location.search.includes('q=era%20permed')")
    # Keyboard: the facets follow the search box in tab order and update the results.
    tab.page.keyboard.press("Tab")
    focused = tab.page.evaluate("document.activeElement.name")
    assert focused == "type"
    tab.shot("search")


def test_curator_logs_in_edits_sees_the_audit_and_undoes(tab: Tab) -> None:
    tab.go("/login")
    tab.page.fill("#name", "carol")
    tab.page.fill("#password", "curator-password-1")
    tab.shot("login")
    tab.page.click("button:has-text('Log in')")
    tab.page.wait_for_url("**/curate")
    tab.go("/curate/organisations/anr")
    tab.page.fill("#f-name", "Agence Nationale de la Recherche (edited in browser)")
    tab.shot("curate-edit")
    tab.page.click("button:has-text('Save')")
    tab.page.wait_for_url("**/organisations/anr?saved=1")
    assert "(edited in browser)" in tab.page.text_content("h1")
    tab.shot("organisation-after-edit")
    tab.go("/curate/audit")
    row = tab.page.locator("#audit-table tbody tr").first
    assert "(edited in browser)" in row.text_content()
    assert "carol" in row.text_content()
    tab.shot("audit")
    row.locator("button:has-text('Undo')").click()
    tab.page.wait_for_selector("text=was undone")
    tab.go("/organisations/anr")
    assert tab.page.text_content("h1").strip() == "Agence Nationale de la Recherche (ANR)"


def test_an_anonymous_user_is_refused(tab: Tab) -> None:
    response = tab.go("/curate/organisations/anr")
    assert response.status == 401
    assert tab.page.locator("a:has-text('Log in')").count() >= 1
    tab.shot("refused")
    response = tab.go("/curate/audit")
    assert response.status == 401
    # Chromium logs every refused page load as a console error: those two are the point here.
    assert all("401" in e for e in tab.errors)
    tab.errors.clear()


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("initiative", "/initiatives/erapermed"),
        ("organisation", "/organisations/isciii"),
        ("country", "/countries/ES"),
        ("region", "/regions/celac"),
        ("initiatives", "/initiatives"),
    ],
)
def test_pages_render_and_fit_a_375px_phone(tab: Tab, name: str, path: str) -> None:
    tab.go(path)
    if name == "initiative":
        tab.page.wait_for_selector('#map[data-ready="1"]', timeout=15_000)
        tab.page.fill("#p-text", "ministry")
        assert tab.page.locator("#partners-table tbody tr:not([hidden])").count() >= 1
        tab.page.fill("#p-text", "")
        tab.page.click("#partners-table th >> text=Country")
        assert tab.page.get_attribute("#partners-table th:nth-child(3)", "aria-sort") == "ascending"
    tab.shot(name)
    tab.page.set_viewport_size({"width": 375, "height": 800})
    tab.page.wait_for_timeout(200)
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{path} is {width}px wide on a 375px screen"
    tab.shot(f"{name}-375")


def test_home_fits_a_375px_phone(tab: Tab) -> None:
    tab.page.set_viewport_size({"width": 375, "height": 800})
    tab.go("/")
    _network_ready(tab)
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the home page is {width}px wide on a 375px screen"
    tab.shot("home-375")


def test_the_header_keeps_the_login_beside_the_brand_and_the_menu_on_one_row(tab: Tab) -> None:
    tab.page.set_viewport_size({"width": 1280, "height": 800})
    tab.go("/")
    brand = tab.page.locator(".site-header .brand").bounding_box()
    login = tab.page.get_by_role("navigation", name="Account").get_by_role("link").bounding_box()
    assert brand is not None and login is not None
    assert abs(login["y"] - brand["y"]) < brand["height"], "the login link left the brand's row"
    assert login["x"] > brand["x"] + brand["width"]
    tops = tab.page.eval_on_selector_all(
        ".main-nav a", "links => links.map(link => link.getBoundingClientRect().top)"
    )
    assert len(tops) >= 12
    assert max(tops) - min(tops) < 1, f"the main menu wraps at 1280 px: rows start at {tops}"
    tab.shot("header-1280")


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_a_missing_browser_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="Chromium is not installed"):
        chromium_or_skip("/nonexistent/chromium")


def test_api_documentation_renders_from_the_package_under_a_policy(tab: Tab) -> None:
    answer = tab.go("/docs")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy.split(";")[1]
    tab.page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "PerMed Hub" in tab.page.locator(".swagger-ui .info .title").text_content()
    assert tab.page.locator(".opblock").count() > 5  # the API's operations are listed
    tab.shot("api-docs")
    # outside_requests (a CDN) and console errors (CSP violations) are checked when the tab closes
