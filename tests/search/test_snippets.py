"""Search shows people only what a person wrote: a record's codes (ids, kinds, topic ids,
procedures) still find it, but never appear in its snippet."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from permedhub.graph.models import Call, Initiative, Organisation, Topic
from permedhub.web.app import create_app

# A code of each kind, and a record it alone (not the record's wording) finds.
FOUND_BY_CODE = [
    ("era-net-cofund", "initiative", "erapermed"),  # initiative kind
    ("erapermed-research-areas", "initiative", "erapermed"),  # topic id of an initiative
    ("regional-government", "organisation", "navarre"),  # organisation kind
    ("two-stage", "call", "erapermed-jtc2019"),  # call procedure
    ("erapermed", "call", "erapermed-jtc2018"),  # a call's initiative id
    ("document", "topic", "erapermed-research-areas"),  # topic kind
]
QUERIES = [code for code, _, _ in FOUND_BY_CODE] + ["era permed", "personalised medicine"]


@pytest.fixture
def client(engine: Engine):
    with TestClient(create_app(engine)) as test_client:
        yield test_client


def _codes(session: Session, entity_type: str, entity_id: str) -> set[str]:
    """The record's codes, read from its table (not from the indexing code under test)."""
    if entity_type == "initiative":
        i = session.get_one(Initiative, entity_id)
        return {i.id, i.kind, i.grant_id or "", *(i.topics or [])} - {""}
    if entity_type == "organisation":
        o = session.get_one(Organisation, entity_id)
        return {o.id, o.kind or "", *(o.expertise or [])} - {""}
    if entity_type == "topic":
        t = session.get_one(Topic, entity_id)
        return {t.id, t.kind}
    c = session.get_one(Call, entity_id)
    return {c.id, c.initiative_id, c.procedure or "", str(c.year or "")} - {""}


def _shown_parts(snippet_html: str) -> set[str]:
    """The snippet's text, part by part as the index joins a record's text (" · ")."""
    text = html.unescape(snippet_html.replace("<mark>", "").replace("</mark>", ""))
    return {part.strip(" …") for part in text.split(" · ")}


@pytest.mark.parametrize("query", QUERIES)
def test_snippets_show_no_codes(client: TestClient, engine: Engine, query: str) -> None:
    hits = client.get("/api/search", params={"q": query, "per_page": 50}).json()["hits"]
    assert hits
    with Session(engine) as session:
        shown = {
            (h["entity_type"], h["id"]): _shown_parts(h["snippet_html"])
            & _codes(session, h["entity_type"], h["id"])
            for h in hits
        }
    assert {hit: codes for hit, codes in shown.items() if codes} == {}


@pytest.mark.parametrize(("code", "entity_type", "entity_id"), FOUND_BY_CODE)
def test_codes_still_find_their_records(
    client: TestClient, code: str, entity_type: str, entity_id: str
) -> None:
    hits = client.get("/api/search", params={"q": code, "per_page": 50}).json()["hits"]
    assert (entity_type, entity_id) in {(h["entity_type"], h["id"]) for h in hits}
