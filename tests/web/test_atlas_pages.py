"""The atlas pages: the heatmap and the gaps as HTML (TestClient), and the choropleth drawn on
the shipped outlines in a real headless Chromium with every request outside the test server
refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from browser_support import Tab, chromium_or_skip, guarded_tab, launched_chromium, served_copy
from permedhub.atlas.seed import seed
from permedhub.db import make_engine


@pytest.fixture(scope="module")
def atlas_template(portal_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal's database with the atlas seed loaded."""
    path = tmp_path_factory.mktemp("atlas") / "atlas.sqlite"
    shutil.copyfile(portal_template, path)
    engine = make_engine(f"sqlite:///{path}")
    seed(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def atlas_client(atlas_template: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("atlas-client")
    with (
        served_copy(atlas_template, folder, "atlas-secret") as (_url, _engine, app),
        TestClient(app, base_url="https://testserver") as client,
    ):
        yield client


def test_the_heatmap_lists_the_records_of_a_region_by_country_and_topic(atlas_client):
    page = atlas_client.get("/atlas?region=eu27")
    assert page.status_code == 200
    html = page.text
    assert 'id="heatmap"' in html and 'data-code="ES"' in html and 'data-code="FR"' in html
    assert 'data-code="BR"' not in html  # Brazil is not in the EU
    assert 'id="gaps-absent"' in html
    assert 'href="/atlas" aria-current="page"' in html


def test_the_map_data_count_one_topic(atlas_client):
    body = atlas_client.get("/atlas/map.json?topic=v2030-implementation").json()
    counted = {c["code"]: c["participations"] for c in body["countries"]}
    # PFMG2025 and the SeqOIA and AURAGEN platforms (FR); IMPaCT and the PMP call (ES); the
    # 100,000 Genomes Project, the NHS Genomic Medicine Service and Genome UK (GB); the Estonian
    # Biobank, the 2016-2020 programme, the 100,000 genotyping project and the implementation
    # programme (EE); Genomic Medicine Sweden (SE); genomDE, its platform project and the model
    # project (DE); the 2017-2020 strategy, the National Genome Center and the 2025-2027
    # strategy (DK); the omics plan (IT);
    # the 2017-2021 and 2023-2030 strategies (NO); the Austrian Human Genome Project (AT); the
    # CIHR Personalized Medicine Signature Initiative (CA); the Qatar Genome Programme (QA); the
    # planned National Genome Centre (FI); the Hungarian Genome Programme (HU); the national
    # genetics and genomics strategy (IE); the national strategy and the Centro pilot (PT); the
    # Slovenian Genome Project (SI).
    assert counted == {
        "FR": 3,
        "ES": 2,
        "GB": 3,
        "EE": 4,
        "SE": 1,
        "DE": 3,
        "DK": 3,
        "IT": 1,
        "NO": 2,
        "AT": 1,
        "CA": 1,
        "QA": 1,
        "FI": 1,
        "HU": 1,
        "IE": 1,
        "PT": 2,
        "SI": 1,
    }
    assert body["measure"] == "mapping records"
    assert {c["numeric"] for c in body["countries"]} >= {"250", "724"}


def test_unknown_regions_and_topics_are_404(atlas_client):
    assert atlas_client.get("/atlas?region=atlantis").status_code == 404
    assert atlas_client.get("/atlas/map.json?topic=nope").status_code == 404


def test_the_region_report_is_one_click_away_and_names_bad_regions(atlas_client):
    page = atlas_client.get("/atlas?region=eu27").text
    assert 'action="/atlas/report.html"' in page
    report = atlas_client.get("/atlas/report.html?region=eu27&other=celac")
    assert report.status_code == 200
    assert "<h2>Mutual interest with celac</h2>" in report.text
    assert "default-src 'none'" in report.headers["content-security-policy"]
    assert report.headers["content-disposition"].startswith("inline")
    saved = atlas_client.get("/atlas/report.html?region=eu27&download=1")
    assert saved.headers["content-disposition"].startswith("attachment")
    unknown = atlas_client.get("/atlas/report.html?region=eu27&other=atlantis")
    assert unknown.status_code == 404
    assert "other = &#39;atlantis&#39;: not a region of the graph" in unknown.text
    assert atlas_client.get("/atlas/report.html").status_code == 422


@pytest.fixture(scope="module")
def atlas_server(atlas_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    chromium_or_skip()
    folder = tmp_path_factory.mktemp("atlas-browser")
    with served_copy(atlas_template, folder, "atlas-browser-secret") as (url, _engine, _app):
        yield url


@pytest.fixture
def atlas_tab(atlas_server: str) -> Iterator[Tab]:
    with launched_chromium() as chromium, guarded_tab(chromium, atlas_server, 15_000) as tab:
        yield tab


@pytest.mark.browser
def test_the_choropleth_and_heatmap_render_with_the_network_off(atlas_tab: Tab) -> None:
    atlas_tab.go("/atlas?topic=v2030-health-data")
    atlas_tab.page.wait_for_selector('#map[data-ready="1"]', timeout=15_000)
    assert atlas_tab.page.locator("#map svg path").count() > 200  # the 50m outlines
    # Health data: GB, FR, EE, ES, FI, SE, CN (five records: two national programmes, the
    # IC2PerMed Roadmap and Scoping Paper, the China Kadoorie Biobank), ZA, BR, MX, DE, DK, CH,
    # NO, NL, BE, LU, PL, CZ, AT, IL, CA, TR, QA, NG, AR, CL, UY (Urugenomes), CO, EG, HU, PT,
    # SN, SI, HR.
    assert int(atlas_tab.page.get_attribute("#map", "data-countries")) == 35
    china = atlas_tab.page.locator('#map path[data-code="CN"] title')
    assert china.text_content() == "China: 5 mapping records"
    # Every country with a record: the thirty-five above, Italy (the omics plan), Ireland (its
    # strategy), Botswana and Uganda (the CAfGEN training programme).
    assert atlas_tab.page.locator("#heatmap tbody tr").count() == 39
    atlas_tab.page.locator("#map").scroll_into_view_if_needed()
    atlas_tab.shot("atlas-map")
    atlas_tab.page.locator("#heatmap").scroll_into_view_if_needed()
    atlas_tab.shot("atlas-heatmap")


@pytest.mark.browser
def test_the_region_report_opens_from_the_atlas_with_its_figures(atlas_tab: Tab) -> None:
    atlas_tab.go("/atlas?region=eu27")
    atlas_tab.page.click("#atlas-report button[type=submit]")
    # Plotly's inline script runs under the report's own policy: the heatmaps are drawn.
    atlas_tab.page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
    assert atlas_tab.page.locator("figure.map path[data-code]").count() >= 5
    atlas_tab.shot("atlas-region-report")
