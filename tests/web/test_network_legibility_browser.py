"""The home network at several hundred nodes, in a real headless Chromium: it draws each node
at the size the server's layout kept it clear of the others at (no two nodes overlap), labels
only the names that fit on one of four sides (no two labels overlap, none covers a node or
leaves the view), finds and highlights a name typed into it, and starts from a filter that
leaves out the funded projects. Requests outside the test server are blocked, so all of it
runs offline."""

from __future__ import annotations

import json
import math
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import LiveServer, Tab, chromium_or_skip, guarded_tab, served_copy
from permedhub.db import make_engine
from permedhub.graph.layout import BORDER, SQUARE
from permedhub.graph.loading import load
from permedhub.web.pages.public import HOME_NETWORK_QUERY

pytestmark = pytest.mark.browser

INITIATIVES = 40
ORGANISATIONS = 600
COUNTRIES = ("DE", "FR", "ES", "IT", "NL", "BE", "PT", "PL", "SE", "BR", "AR", "ZA", "CN", "CA")

# Drawn label boxes (Cytoscape's own, on screen) that overlap another label (`overlaps`), cover
# a node other than their own (`covered`: its drawn box, outline included) where no label may
# (only an initiative's may cover organisations, and a search match's the nodes faded around
# it), or reach past the view's edge (`outside`); and how many labels went on each side.
OVERLAPS = """() => {
  const cy = window.permedhubNetwork;
  const zoom = cy.zoom(), pan = cy.pan(), width = cy.width(), height = cy.height();
  const onScreen = b => ({x1: b.x1 * zoom + pan.x, x2: b.x2 * zoom + pan.x,
                          y1: b.y1 * zoom + pan.y, y2: b.y2 * zoom + pan.y});
  const meet = (a, b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
  const labels = cy.nodes('.labelled').map(n => ({id: n.id(),
    initiative: n.data('type') === 'initiative', match: n.hasClass('match'),
    box: onScreen(n.boundingBox(
      {includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false}))}));
  const bodies = cy.nodes().map(n => ({id: n.id(),
    organisation: n.data('type') === 'organisation', faded: n.hasClass('unmatched'),
    box: onScreen(n.boundingBox(
      {includeNodes: true, includeEdges: false, includeLabels: false, includeOverlays: false}))}));
  const mayCover = (label, body) => body.id === label.id ||
    (label.initiative && body.organisation && !body.faded) || (label.match && body.faded);
  let overlaps = 0, covered = 0, outside = 0;
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i].box;
    for (let j = i + 1; j < labels.length; j++) if (meet(a, labels[j].box)) overlaps++;
    for (const body of bodies) if (!mayCover(labels[i], body) && meet(a, body.box)) covered++;
    if (a.x1 < 0 || a.y1 < 0 || a.x2 > width || a.y2 > height) outside++;
  }
  const sides = {};
  for (const side of ['right', 'left', 'above', 'below'])
    sides[side] = cy.nodes('.labelled.label-' + side).length;
  return {labelled: labels.length, overlaps: overlaps, covered: covered, outside: outside,
          sides: sides, drawn: cy.nodes().filter(n => n.style('label') !== '').length};
}"""
# Every node as the browser draws it: model position and drawn width (outline excluded).
DRAWN_NODES = """() => window.permedhubNetwork.nodes().map(n => ({id: n.id(), type: n.data('type'),
  x: n.position('x'), y: n.position('y'), width: n.width(), height: n.height()}))"""


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


def _labels_settled(tab: Tab) -> dict[str, Any]:
    # Labels are placed a moment after the view changes (later on a busy machine): the page
    # marks the network while they are pending.
    tab.page.wait_for_timeout(100)
    tab.page.wait_for_selector("#network:not([data-labels-pending])", state="attached")
    return dict(tab.page.evaluate(OVERLAPS))


def _legible(labels: dict[str, Any]) -> None:
    assert labels["overlaps"] == labels["covered"] == labels["outside"] == 0, labels


def test_the_browser_draws_the_sizes_the_layout_kept_apart(
    grown_tab: Tab, grown_server: LiveServer
) -> None:
    grown_tab.go("/")
    _ready(grown_tab)
    with urllib.request.urlopen(f"{grown_server.url}/network.json?{HOME_NETWORK_QUERY}") as r:
        served = {n["id"]: n for n in json.load(r)["nodes"]}
    drawn = grown_tab.page.evaluate(DRAWN_NODES)
    assert {n["id"] for n in drawn} == set(served)
    for node in drawn:
        assert node["width"] == node["height"] == served[node["id"]]["size"], node
    # No two drawn nodes overlap: the circle around each (through a square's corners, outline
    # included) keeps clear of every other's.
    circles = [
        (n["x"], n["y"], n["width"] / 2 * (math.sqrt(2) if n["type"] in SQUARE else 1) + BORDER)
        for n in drawn
    ]
    touching = [
        (a, b)
        for i, a in enumerate(circles)
        for b in circles[i + 1 :]
        if math.hypot(a[0] - b[0], a[1] - b[1]) < a[2] + b[2]
    ]
    assert touching == []


def test_several_hundred_nodes_label_only_what_fits(grown_tab: Tab) -> None:
    grown_tab.go("/")
    nodes = _ready(grown_tab)
    assert nodes >= ORGANISATIONS + INITIATIVES
    first = _labels_settled(grown_tab)
    assert first["overlaps"] == 0, first
    _legible(first)
    # Labels go where there is room: more than one side is used.
    assert sum(1 for n in first["sides"].values() if n) >= 2, first
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
    _legible(zoomed)
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
    # The match's label may cover the nodes faded around it, nothing else.
    _legible(_labels_settled(grown_tab))
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
