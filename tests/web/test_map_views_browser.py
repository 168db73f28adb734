"""The maps in a real headless Chromium, with every request outside the test server blocked
(the outlines ship with the package): the home map opens on Europe and its buttons reach Latin
America, Africa and China; a region page draws a map fitted to its members."""

from __future__ import annotations

from typing import Any

import pytest

from browser_support import Tab

pytestmark = pytest.mark.browser


def _map_ready(tab: Tab) -> None:
    tab.page.wait_for_selector('#map[data-ready="1"]', timeout=15_000)


def _overlap(inner: dict[str, Any] | None, outer: dict[str, Any]) -> float:
    """Which share of a shape's box the map shows (0: none of it)."""
    if inner is None or not inner["width"] or not inner["height"]:
        return 0.0
    width = min(inner["x"] + inner["width"], outer["x"] + outer["width"]) - max(
        inner["x"], outer["x"]
    )
    height = min(inner["y"] + inner["height"], outer["y"] + outer["height"]) - max(
        inner["y"], outer["y"]
    )
    return max(0.0, width) * max(0.0, height) / (inner["width"] * inner["height"])


# ISO 3166 numeric codes, which every outline carries (only countries with data carry a code).
NUMERIC = {
    "BR": "076",
    "CN": "156",
    "DE": "276",
    "FR": "250",
    "KE": "404",
    "MX": "484",
    "PL": "616",
}


def _shown(tab: Tab, code: str) -> float:
    frame = tab.page.locator("#map").bounding_box()
    assert frame is not None
    shape = tab.page.locator(f'#map path[data-numeric="{NUMERIC[code]}"]')
    return _overlap(shape.bounding_box(), frame)


def test_the_home_map_opens_on_europe_and_zooms_to_latin_america_africa_and_china(
    tab: Tab,
) -> None:
    tab.go("/")
    _map_ready(tab)
    tab.page.locator("#map").scroll_into_view_if_needed()
    assert tab.page.get_attribute("#map", "data-view") == "europe"
    assert tab.page.get_attribute('button[data-map-view="europe"]', "aria-pressed") == "true"
    assert _shown(tab, "DE") == 1.0 and _shown(tab, "PL") == 1.0
    assert _shown(tab, "BR") == 0.0 and _shown(tab, "CN") == 0.0
    tab.shot("home-map-europe")
    for button, code in (("latin-america", "BR"), ("africa", "KE"), ("asia", "CN")):
        tab.page.click(f'button[data-map-view="{button}"]')
        tab.page.wait_for_selector(f'#map[data-view="{button}"]')
        assert _shown(tab, code) == 1.0, button
        assert _shown(tab, "DE") < 0.5, button
        assert tab.page.get_attribute(f'button[data-map-view="{button}"]', "aria-pressed") == "true"
    tab.shot("home-map-asia")
    tab.page.click('button[data-map-view="latin-america"]')
    tab.page.wait_for_selector('#map[data-view="latin-america"]')
    tab.shot("home-map-latin-america")
    # Clicking a country there still opens its page.
    tab.page.locator('#map path[data-code="BR"]').click()
    tab.page.wait_for_url("**/countries/BR")


def test_a_region_page_draws_a_map_of_its_members(tab: Tab) -> None:
    tab.go("/regions/celac")
    _map_ready(tab)
    assert tab.page.get_attribute("#map", "data-view") == "focus"
    # Every member country is drawn: those with participations shaded, the others marked
    # as members with nothing recorded yet; the legend says which is which.
    assert int(tab.page.get_attribute("#map", "data-countries") or 0) >= 25
    assert _shown(tab, "BR") == 1.0 and _shown(tab, "MX") == 1.0
    assert _shown(tab, "DE") == 0.0
    assert "no participation recorded yet" in tab.page.text_content("#map-legend")
    tab.page.locator("#map").scroll_into_view_if_needed()
    tab.shot("region-celac-map")
    tab.page.click('button[data-map-view="world"]')
    tab.page.wait_for_selector('#map[data-view="world"]')
    assert _shown(tab, "DE") == 1.0
    tab.go("/regions/eu27")
    _map_ready(tab)
    # Fitted to the members' mainland: French Guiana does not pull the map to South America.
    assert _shown(tab, "FR") < 1.0 and _shown(tab, "BR") == 0.0 and _shown(tab, "PL") == 1.0
    tab.page.locator("#map").scroll_into_view_if_needed()
    tab.shot("region-eu27-map")
