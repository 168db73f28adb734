"""Region pages state facts, rank member countries by activity and explain declared-only
participation where they show it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

VERDICTS = ["do not yet", "not yet</span>", "None yet.", "does not take part"]


def test_members_come_most_active_first(read_client: TestClient) -> None:
    for region in ("celac", "eu27", "africa"):
        members = read_client.get(f"/api/regions/{region}").json()["members"]
        keys = [
            (-m["participations"], -m["initiatives_total"], -m["organisations"], m["name"])
            for m in members
        ]
        assert keys == sorted(keys), region
        assert members[0]["participations"] > 0, region


def test_the_page_ranks_members_and_states_facts(read_client: TestClient) -> None:
    page = read_client.get("/regions/celac").text
    api = read_client.get("/api/regions/celac").json()
    shown = re.findall(r'<td class="num">(\d+)</td>\s*<td><a href="/countries/([A-Z]{2})">', page)
    assert [code for _, code in shown] == [m["code"] for m in api["members"]]
    assert [int(rank) for rank, _ in shown] == list(range(1, len(shown) + 1))
    assert "with no participation recorded yet" in page
    for verdict in VERDICTS:
        assert verdict not in page, verdict


def test_declared_only_is_marked_and_explained(read_client: TestClient) -> None:
    members = read_client.get("/api/regions/celac").json()["members"]
    declared = [m for m in members if m["declared_only"] and m["participations"] == 0]
    assert declared, "the seed declares CELAC countries without partners (EULAC-PerMed's)"
    page = read_client.get("/regions/celac").text
    assert page.count("declared only</span>") == len(declared)
    assert "<strong>Declared</strong>: the initiative’s own sources name the country" in page
    # A region with no declared-only member says nothing about it.
    oceania = read_client.get("/api/regions/oceania").json()["members"]
    if not any(m["declared_only"] for m in oceania):
        assert "<strong>Declared</strong>" not in read_client.get("/regions/oceania").text


def test_the_members_csv_counts_declared_only_initiatives(read_client: TestClient) -> None:
    text = read_client.get("/regions/celac/members.csv").content.decode("utf-8-sig")
    assert text.splitlines()[0].endswith(",initiatives_declared_only")
