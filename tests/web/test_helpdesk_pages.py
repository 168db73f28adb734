"""The helpdesk's pages: ask, compare (with exports), ask an expert, the experts' queue.

Access to tickets per role (anonymous, viewer, curator, admin), malformed input on every
endpoint, script in tickets and answers shown as text, personal data only on the experts'
pages, the answer e-mailed through a real SMTP server, and the pages in EN/ES/PT."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from permedhub.helpdesk.models import Faq, Rule, Ticket
from smtp_support import Mailbox, smtp_server

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
SCRIPT = "<script>alert('x')</script>"
TICKET = {
    "name": "Ana Pérez",
    "email": "ana.perez@example.org",
    "question": "Who insures participants in a paediatric trial in Uruguay?",
    "countries": ["UY"],
}


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


def csrf(client: TestClient, path: str) -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def engine_of(client: TestClient):
    return client.app.state.engine  # type: ignore[attr-defined]


def tickets_stored(client: TestClient) -> int:
    with Session(engine_of(client)) as session:
        return session.execute(select(func.count()).select_from(Ticket)).scalar_one()


def submit(client: TestClient, **changes: object):
    data = {**TICKET, **changes, "csrf_token": csrf(client, "/helpdesk/ask-an-expert")}
    return client.post("/helpdesk/ask-an-expert", data=data, follow_redirects=False)


# ---------------------------------------------------------------- asking


def test_the_ask_page_quotes_sourced_facts(helpdesk_client):
    page = helpdesk_client.get(
        "/helpdesk",
        params={"q": "¿Qué agencia aprueba ensayos clínicos en Argentina?", "lang": "es"},
    )
    assert page.status_code == 200
    first = page.text.split('class="answer"')[1]
    assert "Administración Nacional de Medicamentos" in first and "Fuente" in first
    assert 'href="https://' in first and "verificado el 20" in first
    assert "¿Sin respuesta? Pregunte a un experto" in page.text


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"q": ""}, "question"),
        ({"q": "   "}, "question"),
        ({"q": "x" * 2001}, "2000"),
        ({"q": "who\x00\x01approves"}, "control"),
        ({"q": "who approves", "country": "QQ"}, "QQ"),
    ],
)
def test_bad_questions_get_a_clear_error(helpdesk_client, params, says):
    page = helpdesk_client.get("/helpdesk", params=params)
    assert page.status_code == 422
    assert 'id="q-error"' in page.text and says in page.text


def test_a_question_beyond_what_the_form_accepts_is_refused(helpdesk_client):
    assert helpdesk_client.get("/helpdesk", params={"q": "x" * 5000}).status_code == 422


# ---------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("lang", "heading"),
    [
        ("en", "Clinical-trials helpdesk"),
        ("es", "Servicio de ayuda sobre ensayos clínicos"),
        ("pt", "Serviço de apoio sobre ensaios clínicos"),
    ],
)
def test_pages_are_offered_in_three_languages_and_the_choice_is_kept(
    helpdesk_client, lang, heading
):
    page = helpdesk_client.get("/helpdesk", params={"lang": lang})
    assert f'<html lang="{lang}">' in page.text and heading in page.text
    again = helpdesk_client.get("/helpdesk/compare")  # the cookie keeps the choice
    assert f'<html lang="{lang}">' in again.text
    for code in ("en", "es", "pt"):
        assert f'hreflang="{code}"' in page.text


def test_the_browser_s_language_is_used_without_a_choice(helpdesk_client):
    page = helpdesk_client.get("/helpdesk", headers={"Accept-Language": "fr;q=1, pt-BR;q=0.8"})
    assert '<html lang="pt">' in page.text
    page = helpdesk_client.get("/helpdesk", headers={"Accept-Language": "de, en;q=0.5"})
    assert '<html lang="en">' in page.text
    assert helpdesk_client.get("/helpdesk", params={"lang": "xx"}).status_code == 200


# ---------------------------------------------------------------- comparing


def test_compare_page_shows_countries_side_by_side_with_gaps_and_stale_marks(
    helpdesk_client, monkeypatch
):
    with Session(engine_of(helpdesk_client)) as session:
        session.execute(
            update(Rule).where(Rule.id == "br-deec-link").values(verified_on=dt.date(2020, 1, 1))
        )
        session.commit()
    monkeypatch.setenv("PERMEDHUB_HELPDESK_STALE_DAYS", "365")
    page = helpdesk_client.get("/helpdesk/compare?country=AR&country=BR&country=CL&lang=en")
    assert page.status_code == 200
    assert "Argentina (AR)" in page.text and "Chile (CL)" in page.text
    assert page.text.count("Gap: no sourced fact") > 10
    assert "15 working days" in page.text
    assert page.text.count('class="badge badge-stale"') == 1
    assert 'href="/helpdesk/compare.csv?country=AR&amp;country=BR&amp;country=CL' in page.text


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("country=AR", "at least 2"),
        ("country=AR&country=QQ", "unknown jurisdiction"),
        ("country=AR&country=AR", "named twice"),
        ("country=AR&country=BR&country=CL&country=UY&country=PA&country=MX", "at most 5"),
        ("country=%3Cscript%3E&country=AR", "unknown jurisdiction"),
    ],
)
def test_bad_comparisons_are_refused_on_the_page_and_the_exports(helpdesk_client, query, says):
    page = helpdesk_client.get(f"/helpdesk/compare?{query}")
    assert page.status_code == 422 and says in page.text
    assert "<script>" not in page.text.split("<main")[1]
    for export in ("csv", "html"):
        assert helpdesk_client.get(f"/helpdesk/compare.{export}?{query}").status_code == 422


def test_exports_download_csv_and_a_self_contained_html_file(helpdesk_client):
    csv = helpdesk_client.get("/helpdesk/compare.csv?country=AR&country=BR")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "helpdesk-compare-AR-BR.csv" in csv.headers["content-disposition"]
    assert csv.text.lstrip("\ufeff").startswith("section,topic,country")
    html = helpdesk_client.get("/helpdesk/compare.html?country=AR&country=BR")
    assert html.status_code == 200 and "attachment" in html.headers["content-disposition"]
    assert html.headers["content-security-policy"].startswith("default-src 'none'")
    assert "<script" not in html.text and "<link" not in html.text and "<style>" in html.text


# ---------------------------------------------------------------- tickets: submitting


def test_a_ticket_needs_the_form_s_token(helpdesk_client):
    response = helpdesk_client.post("/helpdesk/ask-an-expert", data=TICKET)
    assert response.status_code == 403 and tickets_stored(helpdesk_client) == 0


def test_a_ticket_is_submitted_and_the_page_is_not_cached(helpdesk_client):
    form = helpdesk_client.get("/helpdesk/ask-an-expert?q=Who%20funds%20trials%3F")
    assert form.headers["cache-control"] == "no-store"
    assert "Who funds trials?</textarea>" in form.text
    response = submit(helpdesk_client)
    assert response.status_code == 303
    assert response.headers["location"] == "/helpdesk/ask-an-expert/sent"
    assert tickets_stored(helpdesk_client) == 1


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"question": ""}, "question", "required"),
        ({"question": "x" * 2001}, "question", "at most 2000"),
        ({"question": "\x00\x01binary"}, "question", "control character"),
        ({"email": "nobody"}, "email", "e-mail address"),
        ({"email": "a@b.org\nBcc: c@d.org"}, "email", "e-mail address"),
        ({"name": ""}, "name", "at least 1"),
        ({"countries": ["QQ"]}, "countries", "unknown jurisdiction"),
        ({"countries": ["AR", "BR", "CL", "UY", "PA", "MX"]}, "countries", "at most 5"),
    ],
)
def test_bad_tickets_are_refused_field_by_field_and_nothing_is_stored(
    helpdesk_client, changes, field, says
):
    response = submit(helpdesk_client, **changes)
    assert response.status_code == 422
    assert f"<strong>{field}</strong>" in response.text and says in response.text
    assert tickets_stored(helpdesk_client) == 0


def test_binary_sent_to_the_ticket_form_is_refused(helpdesk_client):
    token = csrf(helpdesk_client, "/helpdesk/ask-an-expert")
    raw = helpdesk_client.post(
        "/helpdesk/ask-an-expert",
        content=f"csrf_token={token}&name=Ana&email=a%40b.org&question=%ff%fe".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert raw.status_code == 422 and "undecodable bytes" in raw.text
    upload = helpdesk_client.post(
        "/helpdesk/ask-an-expert",
        data={"csrf_token": token, "name": "Ana", "email": "a@b.org"},
        files={"question": ("q.bin", b"\x00\x01" * 10, "application/octet-stream")},
    )
    assert upload.status_code == 422 and "valid string" in upload.text
    assert "UploadFile" not in upload.text and tickets_stored(helpdesk_client) == 0


def test_faq_pages_of_unknown_or_malformed_ids_are_not_found(helpdesk_client):
    for faq_id in ("nope", "%3Cscript%3E", "x" * 500):
        page = helpdesk_client.get(f"/helpdesk/faq/{faq_id}")
        assert page.status_code == 404 and "<script>" not in page.text.split("<main")[1]


def test_a_flood_of_tickets_from_one_address_is_refused_with_retry_after(helpdesk_client):
    for _ in range(3):
        assert submit(helpdesk_client).status_code == 303
    response = submit(helpdesk_client)
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 3000
    assert "at most 3 questions an hour" in response.text
    assert tickets_stored(helpdesk_client) == 3


# ---------------------------------------------------------------- tickets: who sees what


def _logged_in(client: TestClient, log_in, name: str | None) -> None:
    if name:
        log_in(client, name)


@pytest.mark.parametrize(
    ("who", "status"), [(None, 401), ("vera", 403), ("carol", 200), ("ada", 200)]
)
def test_the_queue_and_tickets_are_for_helpdesk_experts_only(helpdesk_client, log_in, who, status):
    submit(helpdesk_client)
    _logged_in(helpdesk_client, log_in, who)
    queue = helpdesk_client.get("/curate/helpdesk")
    ticket = helpdesk_client.get("/curate/helpdesk/1")
    assert (queue.status_code, ticket.status_code) == (status, status)
    shown = "ana.perez@example.org" in queue.text and "Ana Pérez" in ticket.text
    assert shown == (status == 200)
    token = csrf(helpdesk_client, "/helpdesk/ask-an-expert")
    answer = helpdesk_client.post(
        "/curate/helpdesk/1/answer",
        data={"answer": "An answer.", "publish": "1", "csrf_token": token},
        follow_redirects=False,
    )
    anonymise = helpdesk_client.post(
        "/curate/helpdesk/1/anonymise", data={"csrf_token": token}, follow_redirects=False
    )
    expected = 303 if status == 200 else status
    assert (answer.status_code, anonymise.status_code) == (expected, expected)


def test_expert_actions_need_the_form_s_token(helpdesk_client, log_in):
    submit(helpdesk_client)
    log_in(helpdesk_client, "carol")
    for path in ("/curate/helpdesk/1/answer", "/curate/helpdesk/1/anonymise"):
        assert helpdesk_client.post(path, data={"answer": "x"}).status_code == 403
    with Session(engine_of(helpdesk_client)) as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None and ticket.status == "open" and ticket.email


def test_malformed_ticket_addresses_and_answers(helpdesk_client, log_in):
    submit(helpdesk_client)
    token = log_in(helpdesk_client, "carol")
    assert helpdesk_client.get("/curate/helpdesk/abc").status_code == 422
    assert helpdesk_client.get("/curate/helpdesk/999").status_code == 404
    missing = helpdesk_client.post(
        "/curate/helpdesk/999/answer", data={"answer": "x", "csrf_token": token}
    )
    assert missing.status_code == 404
    for bad, says in (
        ({"answer": ""}, "required: the answer"),
        ({"answer": "x" * 2001}, "at most 2000"),
        ({"answer": "ok", "topics": "gossip"}, "gossip"),
        ({"answer": "\x00"}, "control character"),
    ):
        page = helpdesk_client.post(
            "/curate/helpdesk/1/answer", data={**bad, "publish": "1", "csrf_token": token}
        )
        assert page.status_code == 422 and says in page.text, page.text[-2000:]
    with Session(engine_of(helpdesk_client)) as session:
        assert session.get(Ticket, 1).status == "open"  # type: ignore[union-attr]
        assert session.get(Faq, "ticket-1") is None


def test_answer_is_mailed_published_and_found_and_scripts_stay_text(
    helpdesk_client, log_in, mailbox, monkeypatch
):
    monkeypatch.setenv("PERMEDHUB_SMTP_HOST", mailbox.host)
    monkeypatch.setenv("PERMEDHUB_SMTP_PORT", str(mailbox.port))
    monkeypatch.setenv("PERMEDHUB_SMTP_FROM", "helpdesk@permedhub.test")
    submit(helpdesk_client, question=f"Uruguay insurance? {SCRIPT}", name=f"Ana {SCRIPT}")
    token = log_in(helpdesk_client, "carol")
    queue = helpdesk_client.get("/curate/helpdesk").text
    assert SCRIPT not in queue and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in queue
    response = helpdesk_client.post(
        "/curate/helpdesk/1/answer",
        data={
            "answer": f"Decree 158/019 requires cover for research subjects. {SCRIPT}",
            "faq_question": "Who insures trial participants in Uruguay?",
            "topics": "insurance",
            "publish": "1",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/curate/helpdesk/1?done=mailed"
    [(recipients, message)] = mailbox.received
    assert recipients == ["ana.perez@example.org"]
    assert "Decree 158/019" in message.get_content()
    faq = helpdesk_client.get("/helpdesk/faq/ticket-1")
    assert faq.status_code == 200 and "Who insures trial participants in Uruguay?" in faq.text
    assert SCRIPT not in faq.text and "&lt;script&gt;" in faq.text
    assert "ana.perez" not in faq.text and "Ana" not in faq.text
    found = helpdesk_client.get("/helpdesk", params={"q": "Who insures trial participants?"})
    assert 'id="answer-ticket-1"' in found.text and SCRIPT not in found.text
    audit = helpdesk_client.get("/curate/audit").text
    assert "helpdesk-ticket" in audit and "ana.perez" not in audit


def test_deletion_on_request_removes_personal_data_from_the_experts_pages(helpdesk_client, log_in):
    submit(helpdesk_client)
    token = log_in(helpdesk_client, "carol")
    helpdesk_client.post(
        "/curate/helpdesk/1/answer",
        data={"answer": "An answer.", "publish": "1", "csrf_token": token},
    )
    done = helpdesk_client.post("/curate/helpdesk/1/anonymise", data={"csrf_token": token})
    assert done.status_code == 200 and "personal data was deleted" in done.text
    for page in (done.text, helpdesk_client.get("/curate/helpdesk").text):
        assert "Ana" not in page and "ana.perez" not in page
    # the submitter's wording is gone from the ticket (the published FAQ keeps the expert's)
    assert '<dd id="ticket-question"><em>deleted on request</em></dd>' in done.text
    assert helpdesk_client.get("/helpdesk/faq/ticket-1").status_code == 200  # the FAQ stays


# ---------------------------------------------------------------- the experts' stale age


def test_an_expert_sets_the_stale_age_and_the_pages_follow_it(helpdesk_client, log_in, monkeypatch):
    monkeypatch.setenv("PERMEDHUB_HELPDESK_STALE_DAYS", "365")
    with Session(engine_of(helpdesk_client)) as session:
        session.execute(
            update(Rule).where(Rule.id == "br-deec-link").values(verified_on=dt.date(2020, 1, 1))
        )
        session.commit()
    compare_page = "/helpdesk/compare?country=AR&country=BR&lang=en"
    stale = 'class="badge badge-stale"'
    assert helpdesk_client.get(compare_page).text.count(stale) == 1
    token = log_in(helpdesk_client, "carol")
    queue = helpdesk_client.get("/curate/helpdesk")
    assert 'name="stale_days"' in queue.text and 'value="365"' in queue.text
    saved = helpdesk_client.post("/curate/helpdesk/settings",
                                 data={"csrf_token": token, "stale_days": "36500"},
                                 follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == "/curate/helpdesk?saved=1"
    assert helpdesk_client.get(compare_page).text.count(stale) == 0
    with Session(engine_of(helpdesk_client)) as session:
        from permedhub.graph.models import AuditEntry

        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "helpdesk-setting")
        ).one()
        assert (entry.actor, entry.old, entry.new) == ("carol", None, {"value": 36500})


@pytest.mark.parametrize("value", ["0", "36501", "a year", "", "1.5"])
def test_a_bad_stale_age_is_named_and_nothing_changes(helpdesk_client, log_in, value):
    token = log_in(helpdesk_client, "carol")
    refused = helpdesk_client.post("/curate/helpdesk/settings",
                                   data={"csrf_token": token, "stale_days": value})  # fmt: skip
    assert refused.status_code == 422 and "stale_days = " in refused.text
    assert "a whole number of days from 1 to 36,500" in refused.text
    with Session(engine_of(helpdesk_client)) as session:
        from permedhub.helpdesk.models import Setting

        assert session.get(Setting, "stale_days") is None


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("vera", 403)])
def test_only_experts_set_the_stale_age(helpdesk_client, log_in, csrf_of, who, status):
    _logged_in(helpdesk_client, log_in, who)
    token = csrf_of(helpdesk_client)
    refused = helpdesk_client.post("/curate/helpdesk/settings",
                                   data={"csrf_token": token, "stale_days": "10"})  # fmt: skip
    assert refused.status_code == status


def test_country_lists_follow_the_page_s_language(helpdesk_client):
    def order(lang: str) -> list[str]:
        page = helpdesk_client.get(f"/helpdesk/compare?lang={lang}")
        select_box = page.text.split("<select", 1)[1].split("</select>", 1)[0]
        return re.findall(r'<option value="([A-Z]{2})"', select_box)

    english, spanish = order("en"), order("es")
    # Germany is after Argentina in English, Alemania before it in Spanish.
    assert english.index("AR") < english.index("DE") and spanish.index("DE") < spanish.index("AR")


def test_the_header_is_translated_on_the_helpdesk_and_english_elsewhere(helpdesk_client):
    spanish = helpdesk_client.get("/helpdesk?lang=es").text
    portuguese = helpdesk_client.get("/helpdesk?lang=pt").text
    english_page = helpdesk_client.get("/initiatives").text
    assert ">Iniciativas</a>" in spanish and ">Organizaciones</a>" in spanish
    assert (
        ">Organizações</a>" in portuguese and ">Saltar para o conteúdo principal</a>" in portuguese
    )
    assert ">Initiatives</a>" in english_page and "Iniciativas" not in english_page


def test_search_results_link_every_helpdesk_fact_to_a_page(helpdesk_client):
    found = helpdesk_client.get("/api/search", params={"q": "ANMAT", "limit": 20}).json()
    helpdesk = [h for h in found["hits"] if h["entity_type"].startswith("helpdesk-")]
    assert helpdesk, found
    for hit in helpdesk:
        page = helpdesk_client.get(hit["url"])
        assert page.status_code == 200, hit["url"]
        assert "verified" in page.text
    body = next(h for h in helpdesk if h["entity_type"] == "helpdesk-body")
    assert body["url"].startswith("/helpdesk/facts/body/")
    assert helpdesk_client.get("/helpdesk/facts/rule/no-such-fact").status_code == 404
    assert helpdesk_client.get("/helpdesk/facts/faq/" + body["id"]).status_code == 404
