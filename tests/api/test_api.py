"""The JSON API through the ASGI app: every route, its errors and its pagination."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from permedhub.graph.models import RegionMembership
from permedhub.web.app import create_app


@pytest.fixture
def client(engine):
    with TestClient(create_app(engine)) as test_client:
        yield test_client


def test_initiatives_list_every_family_member_with_facts_and_sources(client):
    body = client.get("/api/initiatives", params={"per_page": 500}).json()
    assert body["total"] == len(body["items"])
    # The family is 14 initiatives; the rest of the seed are projects funded by its calls.
    assert sum(i["kind"] != "project" for i in body["items"]) == 14
    era = next(i for i in body["items"] if i["id"] == "erapermed")
    assert era["grant_id"] == "779282" and era["source"]
    assert era["uncertain"]["end"].startswith("CORDIS")


def test_initiatives_filter_and_paginate(client):
    body = client.get("/api/initiatives", params={"kind": "csa", "per_page": 3, "page": 2}).json()
    assert body["total"] == 10 and len(body["items"]) == 3 and body["page"] == 2
    assert all(i["kind"] == "csa" for i in body["items"])


def test_initiative_detail_has_partners_countries_links_and_calls(client):
    body = client.get("/api/initiatives/eu-africa-permed").json()
    assert [c["id"] for c in body["coordinators"]] == ["innovatec"]
    assert {p["organisation"]["id"] for p in body["partners"]} >= {"aphrc", "ecsa-hc", "anr"}
    assert {c["code"] for c in body["countries"]} >= {"ES", "KE", "TZ", "FR", "IT"}
    assert body["links"] == [
        {
            **body["links"][0],
            "direction": "outgoing",
            "kind": "member-of",
            "initiative_id": "icpermed",
        }
    ]


def test_organisations_filter_by_country_kind_and_text(client):
    spanish = client.get("/api/organisations", params={"country": "es"}).json()
    assert {o["id"] for o in spanish["items"]} >= {"isciii", "aecc", "innovatec", "navarre"}
    catalan_or_navarrese = client.get("/api/organisations", params={"country": "ES-NC"}).json()
    assert [o["id"] for o in catalan_or_navarrese["items"]] == ["navarre"]
    funders = client.get("/api/organisations", params={"kind": "funder", "q": "research"}).json()
    assert funders["items"] and all(o["kind"] == "funder" for o in funders["items"])


def test_organisation_detail_lists_participations(client):
    body = client.get("/api/organisations/dlr-pt").json()
    roles = {(p["initiative"]["id"], p["role"]) for p in body["participations"]}
    assert ("sino-eu-permed", "coordinator") in roles and ("erapermed", "funder") in roles


def test_country_profile_and_subdivision(client):
    spain = client.get("/api/countries/ES").json()
    assert {r["id"] for r in spain["regions"]} >= {"eu27", "eea", "europe"}
    assert {s["code"] for s in spain["subdivisions"]} >= {"ES-NC", "ES-GA"}
    assert any(
        ci["initiative"]["id"] == "erapermed" and "coordinator" in ci["roles"]
        for ci in spain["initiatives"]
    )
    assert spain["initiatives_total"] == len(spain["initiatives"])
    quebec = client.get("/api/countries/ca-qc").json()
    assert quebec["parent"] == {"code": "CA", "name": "Canada"}


def test_region_profile_says_who_takes_part_and_who_does_not_yet(client):
    celac = client.get("/api/regions/celac").json()
    assert len(celac["members"]) == 33
    uruguay = next(m for m in celac["members"] if m["code"] == "UY")
    assert uruguay["initiatives_total"] >= 1  # the list is on Uruguay's own page
    uruguay_page = client.get("/api/countries/UY").json()
    assert "eulac-permed" in {ci["initiative"]["id"] for ci in uruguay_page["initiatives"]}
    assert uruguay_page["initiatives_total"] == uruguay["initiatives_total"]
    assert "eulac-permed" in {i["id"] for i in celac["initiatives"]}
    assert celac["initiatives_total"] == len(celac["initiatives"])
    assert celac["taking_part"] + celac["not_yet"] == 33 and celac["not_yet"] > 0


def test_network_filters_by_kind_region_and_years(client, engine):
    everything = client.get("/api/network").json()
    types = {n["type"] for n in everything["nodes"]}
    assert types == {"initiative", "organisation", "country"}
    csas = client.get("/api/network", params={"kind": "csa"}).json()
    assert all(n["kind"] == "csa" for n in csas["nodes"] if n["type"] == "initiative")
    africa = client.get("/api/network", params={"region": "african-union"}).json()
    shown = {n["id"] for n in africa["nodes"] if n["type"] == "initiative"}
    assert "initiative:eu-africa-permed" in shown and "initiative:saphire" not in shown
    with Session(engine) as session:
        members = set(
            session.scalars(
                select(RegionMembership.country_code).where(
                    RegionMembership.region_id == "african-union"
                )
            )
        )
    africans = {n["country"] for n in africa["nodes"] if n["type"] == "organisation"}
    assert africans and africans <= members
    early = client.get("/api/network", params={"year_from": 2016, "year_to": 2017}).json()
    assert "initiative:ep-permed" not in {n["id"] for n in early["nodes"]}
    aggregated = client.get("/api/network", params={"max_nodes": 10}).json()
    assert aggregated["aggregated"] and any(n["type"] == "aggregate" for n in aggregated["nodes"])


def test_timeline_marks_status_and_uncertain_dates(client):
    items = {i["id"]: i for i in client.get("/api/timeline").json()["items"]}
    assert items["saphire"]["status"] == "ended"
    assert items["ep-permed"]["status"] == "ongoing"
    assert "end" in items["regions4permed"]["uncertain"]


@pytest.mark.parametrize("query", ["eulac permed", "EULAC-PerMed", "eu-lac", "Eulac"])
def test_search_is_tolerant_of_case_hyphens_and_spacing(client, query):
    hits = client.get("/api/search", params={"q": query}).json()["hits"]
    assert hits[0]["id"] == "eulac-permed"


def test_search_ranks_the_initiative_first_and_escapes_snippets(client):
    body = client.get("/api/search", params={"q": "era permed"}).json()
    assert body["hits"][0]["id"] == "erapermed"
    assert "<mark>" in body["hits"][0]["snippet_html"]
    only_orgs = client.get("/api/search", params={"q": "agency", "type": "organisation"}).json()
    assert only_orgs["hits"] and {h["entity_type"] for h in only_orgs["hits"]} == {"organisation"}


def test_errors_are_json_and_name_the_field(client):
    missing = client.get("/api/initiatives/no-such-thing")
    assert missing.status_code == 404 and missing.json()["id"] == "no-such-thing"
    assert client.get("/api/countries/XX").status_code == 404
    assert client.get("/api/regions/atlantis").status_code == 404
    bad_page = client.get("/api/organisations", params={"page": 0})
    assert bad_page.status_code == 422 and bad_page.json()["detail"][0]["loc"] == ["query", "page"]
    bad_kind = client.get("/api/initiatives", params={"kind": "club"})
    assert bad_kind.status_code == 422 and bad_kind.json()["detail"][0]["loc"] == ["query", "kind"]
    bad_region = client.get("/api/network", params={"region": "atlantis"})
    assert bad_region.status_code == 422 and bad_region.json()["detail"][0]["loc"][-1] == "region"
    backwards = client.get("/api/network", params={"year_from": 2022, "year_to": 2019})
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"][-1] == "year_to"
    empty = client.get("/api/search", params={"q": "---"})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["query", "q"]
    assert client.get("/api/search").status_code == 422


def test_openapi_documents_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for route in [
        "/api/initiatives",
        "/api/initiatives/{initiative_id}",
        "/api/organisations",
        "/api/organisations/{organisation_id}",
        "/api/countries/{code}",
        "/api/regions/{region_id}",
        "/api/network",
        "/api/timeline",
        "/api/search",
    ]:
        assert route in paths
    assert client.get("/docs").status_code == 200


def test_counts_by_country_and_region(client, seed_declared):
    body = client.get("/api/counts").json()
    organisations = seed_declared["organisations"]
    assert body["initiatives"] == len(seed_declared["initiatives"])
    assert body["organisations"] == len(organisations)
    italy = next(c for c in body["by_country"] if c["code"] == "IT")
    assert italy["organisations"] == sum(o.get("country") == "IT" for o in organisations)
    eu = next(r for r in body["by_region"] if r["id"] == "eu27")
    assert eu["countries_total"] == 27 and 0 < eu["countries_taking_part"] <= 27


def test_country_organisations_come_a_page_at_a_time_by_name(client):
    whole = client.get("/api/countries/ES", params={"per_page": 500}).json()
    names = [o["name"] for o in whole["organisations"]]
    assert len(names) == whole["organisations_total"] > 3 and names == sorted(names)
    first = client.get("/api/countries/ES", params={"per_page": 2}).json()
    second = client.get("/api/countries/ES", params={"per_page": 2, "page": 2}).json()
    assert (first["organisations_page"], first["organisations_per_page"]) == (1, 2)
    assert first["organisations_total"] == second["organisations_total"] == len(names)
    assert [o["name"] for o in first["organisations"] + second["organisations"]] == names[:4]
    beyond = client.get("/api/countries/ES", params={"per_page": 500, "page": 2}).json()
    assert beyond["organisations"] == [] and beyond["organisations_total"] == len(names)
    assert client.get("/api/countries/ES", params={"per_page": 501}).status_code == 422


def test_country_and_region_totals_agree_with_the_participations(client):
    spain = client.get("/api/countries/ES").json()
    initiatives = client.get("/api/initiatives", params={"per_page": 500}).json()["items"]
    partners = [
        p
        for i in initiatives
        for p in client.get(f"/api/initiatives/{i['id']}").json()["partners"]
        if p["organisation"]["country"] and p["organisation"]["country"]["code"] == "ES"
    ]
    assert spain["participations_total"] == len(partners)
    counts = client.get("/api/counts").json()
    es = next(c for c in counts["by_country"] if c["code"] == "ES")
    assert (es["participations"], es["initiatives"]) == (
        len(partners),
        spain["initiatives_total"],
    )
    assert counts["participations"] == sum(
        client.get(f"/api/initiatives/{i['id']}").json()["partners_total"] for i in initiatives
    )


def test_a_large_network_is_drawn_from_the_aggregates(client):
    full = client.get("/api/network").json()
    located = {n["id"] for n in full["nodes"] if n["type"] == "organisation" and n["country"]}
    # Few nodes allowed: one node per country, the most active initiatives, the rest as one.
    located_countries = {n["country"] for n in full["nodes"] if n["type"] == "organisation"}
    max_nodes = len(located_countries - {None}) + 4
    small = client.get("/api/network", params={"max_nodes": max_nodes}).json()
    assert small["aggregated"] and "one node per country" in small["aggregated"]
    countries = {
        n["country"]: n for n in small["nodes"] if n["type"] == "aggregate" and n["country"]
    }
    shown = [n for n in small["nodes"] if n["type"] == "initiative"]
    other = next(n for n in small["nodes"] if n["id"] == "aggregate:other-initiatives")
    total_initiatives = client.get("/api/counts").json()["initiatives"]
    assert other["label"] == f"{total_initiatives - len(shown)} other initiatives"
    assert shown and len(shown) <= max_nodes - len(countries) - 1
    # Every participation of an organisation with a country is on exactly one edge.
    participation_edges = [e for e in small["edges"] if e["type"] == "participation"]
    by_country: dict[str, int] = {}
    for edge in participation_edges:
        code = edge["source"].removeprefix("aggregate:")
        by_country[code] = by_country.get(code, 0) + edge["weight"]
    assert by_country == {code: n["weight"] for code, n in countries.items()}
    # ... as many as the detailed network draws from organisations with a country.
    drawn = [e for e in full["edges"] if e["type"] == "participation" and e["source"] in located]
    assert sum(by_country.values()) == len(drawn)
    celac = client.get("/api/network", params={"max_nodes": 10, "region": "celac"}).json()
    assert {n["country"] for n in celac["nodes"] if n["type"] == "aggregate" and n["country"]} <= {
        m["code"] for m in client.get("/api/regions/celac").json()["members"]
    }
    assert "initiative:eulac-permed" in {n["id"] for n in celac["nodes"]}


def test_broad_searches_rank_within_a_window_and_say_the_total_is_a_lower_bound(engine):
    from sqlalchemy.orm import Session

    from permedhub.search.query import search

    with Session(engine) as session:
        exact = search(session, "research", limit=5)
        assert exact.total_exact and exact.ranked_within is None and exact.total > 6
        broad = search(session, "research", limit=5, candidates=3, count_limit=4)
        assert not broad.total_exact and broad.ranked_within == 5 and broad.total == 4
        assert len(broad.hits) == 5
        # The window grows with the page asked for, so paging still reaches later hits.
        later = search(session, "research", limit=2, offset=4, candidates=3, count_limit=4)
        assert later.ranked_within == 6 and len(later.hits) == 2
        # Fewer whole-word matches than the window: ranked and counted exactly, prefixes too.
        typed = search(session, "resea", limit=5, candidates=1000)
        assert typed.total_exact and typed.total == exact.total


def test_search_api_reports_whether_the_total_is_exact(client):
    body = client.get("/api/search", params={"q": "era permed"}).json()
    assert body["total_exact"] is True and body["ranked_within"] is None


def test_organisations_sort_by_name_whatever_the_case(client):
    body = client.get("/api/organisations", params={"per_page": 200}).json()
    names = [o["name"] for o in body["items"]]
    assert names == sorted(names, key=lambda n: (n.lower(), n))
    # the case that read wrong: "AECC ..." sorted before "Academy ..."
    assert names.index("Academy of Scientific Research and Technology") < names.index(
        "AECC Scientific Foundation"
    )


def test_head_of_the_home_page_answers_like_get(client):
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/html")


def test_search_snippets_never_show_the_spelling_keys(client):
    for query in ("era permed", "erapermed", "personalised medicine", "sino eu"):
        for hit in client.get("/api/search", params={"q": query}).json()["hits"]:
            text = hit["snippet_html"].replace("<mark>", "").replace("</mark>", "")
            # keys are names with spaces and hyphens removed, e.g. "eranetcofundin..."
            assert "eranetcofund" not in text and "personalisedmedicine" not in text, hit
