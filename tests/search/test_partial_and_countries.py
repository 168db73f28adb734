"""Search finds the best partial matches when no record has every word, says which words
matched, reads country names and demonyms in four languages, and suggests what to try when
nothing is found. Records are loaded by the test (invented names, so seed growth cannot
change the answers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from permedhub.graph.loading import load
from permedhub.search.countries import country_mentions, country_words
from permedhub.search.query import SearchFilters, search
from permedhub.search.text import words
from permedhub.web.app import create_app

ORGANISATIONS = """id,name,country,city,kind,source
qzx-lyon,Qzxova Oncology Clinic,FR,Lyon,hospital,test record
qzx-porto,Qzxova Genomics Institute,PT,Porto,research-institute,test record
qzx-bonn,Qzxova Cardiology Clinic,DE,Bonn,hospital,test record
qzx-cork,Vexlora Data Centre,IE,Cork,company,test record
"""


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> Engine:
    path = tmp_path / "organisations.csv"
    path.write_text(ORGANISATIONS, encoding="utf-8")
    load(engine, [path], actor="test")
    return engine


def _ids(engine: Engine, query: str, **filters: object) -> list[str]:
    with Session(engine) as session:
        found = search(session, query, SearchFilters(**filters), limit=100)  # type: ignore[arg-type]
    return [h.id for h in found.hits]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Germany", "DE"),
        ("Alemania", "DE"),
        ("alemão", "DE"),
        ("allemand", "DE"),
        ("German", "DE"),
        ("allemande", "DE"),
        ("alemanes", "DE"),
        ("Royaume-Uni", "GB"),
        ("Reino Unido", "GB"),
        ("Estados Unidos", "US"),
        ("francés", "FR"),
        ("française", "FR"),
        ("Irlanda", "IE"),
        ("portuguesa", "PT"),
        ("África do Sul", "ZA"),
        ("sudafricano", "ZA"),
    ],
)
def test_country_names_and_demonyms_name_their_country(query: str, code: str) -> None:
    assert [m.code for m in country_mentions(words(query))] == [code]


def test_ordinary_words_and_shared_names_name_no_country() -> None:
    for query in ["de", "south", "the", "research", "cancer", "medicine", "republic"]:
        assert country_mentions(words(query)) == [], query
    assert ("south",) not in country_words()


def test_a_country_in_any_language_finds_its_organisations(loaded: Engine) -> None:
    for query in ["Alemania", "alemão", "allemand", "German", "Germany"]:
        ids = _ids(loaded, query)
        assert "qzx-bonn" in ids, query
        assert not {"qzx-lyon", "qzx-porto", "qzx-cork"} & set(ids), query


def test_a_country_word_combines_with_other_words(loaded: Engine) -> None:
    assert _ids(loaded, "qzxova francesa") == ["qzx-lyon"]
    assert _ids(loaded, "clinic allemande qzxova") == ["qzx-bonn"]
    with Session(loaded) as session:  # no Qzxova in Ireland: each word alone
        found = search(session, "qzxova Irlanda", limit=100)
    assert found.partial and found.matched_count == 1
    assert {"qzx-lyon", "qzx-porto", "qzx-bonn", "qzx-cork"} <= {h.id for h in found.hits}
    assert {h.id: h.matched_words for h in found.hits}["qzx-cork"] == ["irlanda"]


def test_a_query_with_a_word_no_record_has_finds_the_rest(loaded: Engine) -> None:
    with Session(loaded) as session:
        found = search(session, "qzxova wibblefrotz", limit=100)
    assert found.partial
    assert found.matched == ["qzxova"] and found.unmatched == ["wibblefrotz"]
    assert {h.id for h in found.hits} == {"qzx-lyon", "qzx-porto", "qzx-bonn"}
    assert all(h.matched_words == ["qzxova"] for h in found.hits)


def test_partial_matches_with_most_words_come_alone_and_say_which(loaded: Engine) -> None:
    # No record has all three; only the clinics have two of them ("qzxova clinic").
    with Session(loaded) as session:
        found = search(session, "qzxova clinic cork", limit=100)
    assert found.partial and found.matched_count == 2
    assert {h.id for h in found.hits} == {"qzx-lyon", "qzx-bonn"}
    assert all(h.matched_words == ["qzxova", "clinic"] for h in found.hits)
    assert found.unmatched == []  # "cork" is found, just not with the other two


def test_a_full_match_is_not_partial(loaded: Engine) -> None:
    with Session(loaded) as session:
        found = search(session, "qzxova clinic", limit=100)
    assert not found.partial and found.matched == ["qzxova", "clinic"] and found.unmatched == []
    assert {h.id for h in found.hits} == {"qzx-lyon", "qzx-bonn"}


def test_an_empty_result_under_filters_counts_the_unfiltered(loaded: Engine) -> None:
    with Session(loaded) as session:
        found = search(session, "vexlora", SearchFilters(country="FR"))
        unfiltered = search(session, "vexlora")
        nothing = search(session, "wibblefrotz")
    assert found.total == 0 and found.unfiltered_total == 1 and unfiltered.total == 1
    assert nothing.total == 0 and nothing.unfiltered_total is None
    assert nothing.unmatched == ["wibblefrotz"]


@pytest.fixture
def client(loaded: Engine):
    with TestClient(create_app(loaded)) as test_client:
        yield test_client


def test_the_page_says_which_words_matched(client: TestClient) -> None:
    page = client.get("/search", params={"q": "qzxova clinic wibblefrotz"}).text
    assert "No record has all of your words" in page
    assert '<mark class="word">qzxova</mark>' in page
    assert '<span class="word word-missing">wibblefrotz</span>' in page
    assert "Has: qzxova, clinic" in page


def test_the_page_says_how_it_read_a_country(client: TestClient) -> None:
    page = client.get("/search/results", params={"q": "allemand"}).text
    assert "“allemand” is read as Germany" in page
    assert 'href="/countries/DE"' in page
    assert "Qzxova Cardiology Clinic" in page


def test_an_empty_result_suggests_what_to_try(client: TestClient) -> None:
    page = client.get("/search/results", params={"q": "vexlora", "country": "FR"}).text
    assert "No results for “vexlora”" in page
    assert "Without the type, country, region and kind filters it finds 1 record" in page
    assert 'href="/search?q=vexlora"' in page
    bare = client.get("/search/results", params={"q": "wibblefrotz"}).text
    assert "Check the spelling" in bare and "Without the" not in bare


def test_the_api_reports_partial_matches(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "qzxova wibblefrotz alemania"}).json()
    assert body["partial"] and body["unmatched"] == ["wibblefrotz"]
    assert body["matched"] == ["qzxova", "alemania"] and body["countries"] == ["DE"]
    assert [h["id"] for h in body["hits"]] == ["qzx-bonn"]
    assert body["hits"][0]["matched_words"] == ["qzxova", "alemania"]
