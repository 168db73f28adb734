"""The home network at several hundred nodes, in a real headless Chromium: it labels only the
names that fit (no two labels overlap), finds and highlights a name typed into it, and starts
from a filter that leaves out the funded projects. Requests outside the test server are
blocked, so all of it runs offline."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import LiveServer, Tab, chromium_or_skip, guarded_tab, served_copy
from permedhub.db import make_engine
from permedhub.graph.loading import load

pytestmark = pytest.mark.browser

INITIATIVES = 40
ORGANISATIONS = 600
COUNTRIES = ("DE", "FR", "ES", "IT", "NL", "BE", "PT", "PL", "SE", "BR", "AR", "ZA", "CN", "CA")

# Labelled nodes whose drawn label boxes (Cytoscape's own, in model coordinates) overlap.
OVERLAPS = """() => {
  const cy = window.permedhubNetwork;
  const boxes = cy.nodes('.labelled').map(n => n.boundingBox(
    {includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false}));
  let overlaps = 0;
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) overlaps++;
    }
  return {labelled: boxes.length, overlaps: overlaps,
          drawn: cy.nodes().filter(n => n.style('label') !== '').length};
}"""


def _grown_database(template: Path, folder: Path) -> Path:
    """The family plus INITIATIVES consortia and ORGANISATIONS partners, two each."""
    path = folder / "grown.sqlite"
    shutil.copyfile(template, path)
    (folder / "initiatives.csv").write_text(
        "id,name,acronym,kind,start\n"
        + "".join(
            f"grown-{k:02d},Grown Consortium {k:02d},GROWN-{k:02d},consortium,2020-01-01\n"
            for k in range(INITIATIVES)
        ),
        encoding="utf-8",
    )
    (folder / "organisations.csv").write_text(
        "id,name,country\n"
        + "".join(
            f"grown-org-{k:03d},Grown Partner {k:03d},{COUNTRIES[k % len(COUNTRIES)]}\n"
            for k in range(ORGANISATIONS)
        ),
        encoding="utf-8",
    )
    (folder / "participations.csv").write_text(
        "organisation,initiative,role\n"
        + "".join(
            f"grown-org-{k:03d},grown-{i:02d},partner\n"
            for k in range(ORGANISATIONS)
            for i in sorted({k % INITIATIVES, (k * 7 + 3) % INITIATIVES})
        ),
        encoding="utf-8",
    )
    engine = make_engine(f"sqlite:///{path}")
    load(engine, [folder / f"{n}.csv" for n in ("initiatives", "organisations", "participations")])
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def grown_server(
    portal_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    chromium_or_skip()
    folder = tmp_path_factory.mktemp("grown")
    grown = _grown_database(portal_template, folder)
    with served_copy(grown, folder, "grown-test-secret") as (url, engine, app):
        yield LiveServer(url, engine, app)


@pytest.fixture
def grown_tab(browser: Any, grown_server: LiveServer) -> Iterator[Tab]:
    with guarded_tab(browser.chromium, grown_server.url, timeout_ms=20_000) as guarded:
        yield guarded


def _ready(tab: Tab) -> int:
    tab.page.wait_for_selector('#network[data-ready="1"]', timeout=30_000)
    tab.page.locator("#network").scroll_into_view_if_needed()
    return int(tab.page.evaluate("window.permedhubNetwork.nodes().length"))


def _labels_settled(tab: Tab) -> dict[str, int]:
    # Labels are placed a moment after the view changes.
    tab.page.wait_for_timeout(250)
    return dict(tab.page.evaluate(OVERLAPS))


def test_several_hundred_nodes_label_only_what_fits(grown_tab: Tab) -> None:
    grown_tab.go("/")
    nodes = _ready(grown_tab)
    assert nodes >= ORGANISATIONS + INITIATIVES
    first = _labels_settled(grown_tab)
    assert first["overlaps"] == 0, first
    assert 20 <= first["labelled"] < nodes // 2
    assert (
        first["drawn"]
        == first["labelled"]
        == int(grown_tab.page.get_attribute("#network", "data-labels") or 0)
    )
    # Initiatives are named first (where the layout leaves them room).
    named = grown_tab.page.evaluate(
        "window.permedhubNetwork.nodes('[type = \"initiative\"].labelled').length"
    )
    assert named >= 5
    grown_tab.page.locator("#network").screenshot(path=str(_artifact("network-grown")))
    # Zoomed in, other names fit; still none overlaps another.
    grown_tab.page.evaluate(
        "window.permedhubNetwork.zoom({level: window.permedhubNetwork.zoom() * 3,"
        " renderedPosition: {x: 500, y: 280}})"
    )
    zoomed = _labels_settled(grown_tab)
    assert zoomed["overlaps"] == 0 and zoomed["labelled"] >= 5, zoomed
    grown_tab.page.locator("#network").screenshot(path=str(_artifact("network-grown-zoomed")))


def test_find_in_the_network_highlights_the_match_and_zooms_to_it(grown_tab: Tab) -> None:
    grown_tab.go("/")
    _ready(grown_tab)
    before = grown_tab.page.evaluate("window.permedhubNetwork.zoom()")
    grown_tab.page.fill("#network-find", "grown partner 123")
    grown_tab.page.wait_for_selector('#network[data-matches="1"]')
    node = "window.permedhubNetwork.getElementById('organisation:grown-org-123')"
    assert grown_tab.page.evaluate(f"{node}.hasClass('match') && {node}.hasClass('labelled')")
    assert "1 node named “grown partner 123”: Grown Partner 123" in grown_tab.page.text_content(
        "#network-status"
    )
    faded = grown_tab.page.evaluate("window.permedhubNetwork.nodes('.unmatched').length")
    assert faded == grown_tab.page.evaluate("window.permedhubNetwork.nodes().length") - 1
    grown_tab.page.press("#network-find", "Enter")
    grown_tab.page.wait_for_function(f"() => window.permedhubNetwork.zoom() > {before}")
    # The match is on screen, at the middle, with its label.
    position = grown_tab.page.evaluate(f"{node}.renderedPosition()")
    box = grown_tab.page.locator("#network").bounding_box()
    assert box is not None
    assert (
        abs(position["x"] - box["width"] / 2) < 40 and abs(position["y"] - box["height"] / 2) < 40
    )
    assert _labels_settled(grown_tab)["overlaps"] == 0
    grown_tab.page.locator("#network").screenshot(path=str(_artifact("network-grown-found")))
    # Several matches; then none, which says so; then cleared.
    grown_tab.page.fill("#network-find", "GROWN-0")
    grown_tab.page.wait_for_selector('#network[data-matches="10"]')
    grown_tab.page.fill("#network-find", "wibblefrotz")
    grown_tab.page.wait_for_selector('#network[data-matches="0"]')
    assert "No node of the network is named" in grown_tab.page.text_content("#network-status")
    grown_tab.page.fill("#network-find", "")
    grown_tab.page.wait_for_function(
        "() => window.permedhubNetwork.nodes('.unmatched, .match').length === 0"
    )


def test_the_network_starts_without_funded_projects_and_adds_them_when_ticked(
    grown_tab: Tab,
) -> None:
    grown_tab.go("/")
    _ready(grown_tab)
    kinds = (
        "[...new Set(window.permedhubNetwork.nodes('[type = \"initiative\"]')"
        ".map(n => n.data('kind')))]"
    )
    assert "project" not in grown_tab.page.evaluate(kinds)
    assert not grown_tab.page.is_checked('input[name="kind"][value="project"]')
    assert grown_tab.page.is_checked('input[name="kind"][value="consortium"]')
    assert "Tick “project” to add them" in grown_tab.page.text_content("#kinds-hint")
    shown = grown_tab.page.evaluate("window.permedhubNetwork.nodes().length")
    grown_tab.page.check('input[name="kind"][value="project"]')
    grown_tab.page.wait_for_function(
        f"() => window.permedhubNetwork.nodes().length > {shown}", timeout=20_000
    )
    grown_tab.page.wait_for_selector('#network[data-ready="1"]')
    assert "project" in grown_tab.page.evaluate(kinds)
    # The table twin follows the same filters.
    grown_tab.page.click("summary:has-text('The network as a table')")
    grown_tab.page.wait_for_selector("#network-table table")


def _artifact(name: str) -> Path:
    from browser_support import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
