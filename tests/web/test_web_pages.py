"""Every public page renders from the library queries, with its CSV twin, safely escaped."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from permedhub.graph.curation import update_record
from permedhub.graph.export import export
from permedhub.graph.models import Organisation, Participation

PAGES = [
    "/",
    "/initiatives",
    "/initiatives/erapermed",
    "/organisations",
    "/organisations/isciii",
    "/countries/ES",
    "/countries/ES-NC",
    "/regions",
    "/regions/celac",
    "/search",
    "/search?q=era+permed",
    "/topics/action-plan-2017",
    "/atlas",
    "/atlas?region=celac&topic=v2030-health-data",
    "/login",
]
CSVS = [
    ("/initiatives.csv", "acronym"),
    ("/initiatives/erapermed/partners.csv", "organisation"),
    ("/initiatives/erapermed/calls.csv", "title"),
    ("/organisations.csv", "name"),
    ("/organisations/isciii/participations.csv", "initiative"),
    ("/countries/ES/organisations.csv", "name"),
    ("/countries/ES/initiatives.csv", "initiative"),
    ("/regions/celac/members.csv", "country"),
    ("/countries.csv", "participations"),
    ("/regions.csv", "region"),
    ("/timeline.csv", "start"),
    ("/subnational.csv", "subdivision"),
    ("/network.csv", "relation"),
    ("/search.csv?q=era+permed", "title"),
]
SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_csp_and_no_inline_script(
    read_client: TestClient, path: str
) -> None:
    response = read_client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    # Only external scripts and the JSON-LD data block: no inline JavaScript, no handlers.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S):
        assert 'src="/static/' in attributes or 'type="application/ld+json"' in attributes
        assert "src=" in attributes or body.strip().startswith("{")
    assert not re.search(r"\son[a-z]+=", response.text), "inline event handler found"
    # Links and the JSON-LD data (its citations are text) load nothing; anything else would.
    loaded = re.sub(
        r'<script type="application/ld\+json">.*?</script>', "", response.text, flags=re.S
    )
    assert "http://" not in re.sub(r'href="[^"]*"', "", loaded).replace("http://www.w3.org", ""), (
        "a resource would load from another host"
    )


@pytest.mark.parametrize(("path", "column"), CSVS)
def test_every_table_downloads_as_csv(read_client: TestClient, path: str, column: str) -> None:
    response = read_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows and column in rows[0]


def test_home_shows_headline_counts_timeline_and_twins(read_client: TestClient) -> None:
    counts = read_client.get("/api/counts").json()
    page = read_client.get("/").text
    assert f'<span class="count-value">{counts["initiatives"]}</span>' in page
    assert 'class="tl-today"' in page and "tl-uncertain" in page and "tl-ongoing" in page
    assert "The network as a table" in page and "The map as a table" in page
    assert "ERA PerMed" in page


def test_network_json_has_a_position_for_every_node_and_is_reproducible(
    read_client: TestClient,
) -> None:
    first = read_client.get("/network.json").json()
    assert first["nodes"] and all("x" in n and "y" in n for n in first["nodes"])
    assert read_client.get("/network.json").json() == first
    filtered = read_client.get("/network.json", params={"kind": "csa"}).json()
    kinds = {n["kind"] for n in filtered["nodes"] if n["type"] == "initiative"}
    assert kinds == {"csa"}


def test_network_filters_reach_the_table_twin(read_client: TestClient) -> None:
    everything = read_client.get("/partials/network-table").text
    csa_only = read_client.get("/partials/network-table", params={"kind": "csa"}).text
    assert "/initiatives/erapermed" in everything
    assert "/initiatives/erapermed" not in csa_only


def test_bad_filter_is_an_html_error_page(read_client: TestClient) -> None:
    response = read_client.get("/", params={"region": "atlantis"})
    assert response.status_code == 422
    assert "region" in response.text and "<html" in response.text


def test_map_json_keys_countries_by_iso_numeric_code(read_client: TestClient) -> None:
    countries = {c["code"]: c for c in read_client.get("/map.json").json()["countries"]}
    assert countries["ES"]["numeric"] == "724"  # ISO 3166-1 numeric code of Spain
    assert countries["ES"]["participations"] > 0


def test_map_json_marks_the_regions_that_take_part_through_their_own_organisations(
    read_client: TestClient,
) -> None:
    places = {p["code"]: p for p in read_client.get("/map.json").json()["places"]}
    # Navarre funds ERA PerMed and EP PerMed; Tuscany, Lombardy (FRRB), Flanders, Saxony, ... too.
    assert {"ES-NC", "IT-52", "IT-25", "BE-VLG", "DE-SN"} <= set(places)
    navarre = places["ES-NC"]
    assert navarre["country_code"] == "ES" and navarre["participations"] == 2
    assert 41 < navarre["latitude"] < 44 and -3 < navarre["longitude"] < 0
    assert navarre["url"] == "/countries/ES-NC"
    # Tuscany counts the participations of its own organisations (Regione Toscana, TLS, ...).
    with Session(read_client.app.state.engine) as session:
        tuscan = session.execute(
            select(Participation.initiative_id)
            .join(Organisation, Organisation.id == Participation.organisation_id)
            .where(Organisation.subdivision_code == "IT-52")
        ).scalars()
        initiatives = list(tuscan)
    assert {"erapermed", "sino-eu-permed", "regions4permed"} <= set(initiatives)
    assert (places["IT-52"]["participations"], places["IT-52"]["initiatives"]) == (
        len(initiatives),
        len(set(initiatives)),
    )


def _exported_graph(client: TestClient) -> list[dict[str, Any]]:
    buffer = io.StringIO()
    export(client.app.state.engine, "jsonld", buffer)  # type: ignore[attr-defined]
    return list(json.loads(buffer.getvalue())["@graph"])


def test_initiative_page_marks_uncertain_values_and_embeds_json_ld(read_client: TestClient) -> None:
    page = read_client.get("/initiatives/erapermed").text
    # The seed marks ERA PerMed's end date uncertain (CORDIS reports run to 2023-11).
    assert 'class="mark mark-uncertain"' in page and "CORDIS period-2 report" in page
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert match
    data = json.loads(match.group(1))
    project, *organisations = data["@graph"]
    assert project["@type"] == "ResearchProject" and project["alternateName"] == "ERA PerMed"
    # The page's JSON-LD is the graph export's own nodes for this initiative: same ids, roles.
    exported = [n for n in _exported_graph(read_client) if n["@id"] == project["@id"]]
    described = next(n for n in exported if "@type" in n)
    roles = next(n for n in exported if "member" in n and "@type" not in n)
    assert {key: project[key] for key in described} == described
    assert project["member"] == roles["member"]
    names = {o["@id"]: o["name"] for o in organisations}
    members = [m["member"]["@id"] for m in project["member"]]
    assert "Instituto de Salud Carlos III" in {names[m] for m in members}
    assert {o["@id"] for o in organisations} >= set(members)
    assert 'id="partners-table"' in page and 'data-filter="role"' in page


def test_every_search_hit_links_to_a_page(read_client: TestClient) -> None:
    for query in ("era permed", "personalised medicine", "research area"):
        hits = read_client.get("/api/search", params={"q": query, "per_page": 50}).json()["hits"]
        for hit in hits:
            response = read_client.get(hit["url"])
            assert response.status_code == 200, hit["url"]


def test_unknown_pages_are_html_404_while_the_api_stays_json(read_client: TestClient) -> None:
    page = read_client.get("/initiatives/no-such-thing")
    assert page.status_code == 404 and "<html" in page.text
    api = read_client.get("/api/initiatives/no-such-thing")
    assert api.status_code == 404 and api.json()["id"] == "no-such-thing"


def test_search_page_highlights_matches_and_partial_updates(read_client: TestClient) -> None:
    page = read_client.get("/search", params={"q": "era permed"}).text
    assert '<a class="result-title" href="/initiatives/erapermed">' in page
    assert "<mark>" in page
    partial = read_client.get("/search/results", params={"q": "era permed", "type": "initiative"})
    assert "<html" not in partial.text and "/initiatives/erapermed" in partial.text
    assert partial.headers["hx-replace-url"] == "/search?q=era+permed&type=initiative"


def test_names_with_markup_display_as_text_everywhere(
    client: TestClient, web_engine: Engine
) -> None:
    update_record(web_engine, "organisation", "isciii", {"name": SCRIPT}, actor="test")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in [
        "/organisations/isciii",
        "/initiatives/erapermed",
        "/countries/ES",
        "/organisations",
        "/search?q=alert",
        "/partials/network-table",
    ]:
        text = client.get(path).text
        assert SCRIPT not in text, path
    assert escaped in client.get("/organisations/isciii").text
    ld = re.search(
        r'<script type="application/ld\+json">(.*?)</script>',
        client.get("/initiatives/erapermed").text,
        re.S,
    )
    assert (
        ld
        and "</script>" not in ld.group(1)
        and SCRIPT in {node.get("name") for node in json.loads(ld.group(1))["@graph"]}
    )
    rows = client.get("/initiatives/erapermed/partners.csv").content.decode("utf-8-sig")
    assert SCRIPT in rows  # CSV is data, not HTML


def test_a_field_read_on_another_page_shows_that_page(read_client: TestClient) -> None:
    with Session(read_client.app.state.engine) as session:  # type: ignore[attr-defined]
        organisations = session.scalars(select(Organisation).order_by(Organisation.id))
        organisation = next((o for o in organisations if o.sources), None)
    assert organisation is not None, "the seed holds per-field sources"
    page = read_client.get(f"/organisations/{organisation.id}").text
    for field, citation in organisation.sources.items():
        assert f"{field.replace('_', ' ')} from:" in page
        if citation.startswith(("http://", "https://")):
            assert f'href="{citation}"' in page
        else:  # a citation that is not an address (e.g. the gazetteer) is shown as text
            assert html.escape(citation) in page
