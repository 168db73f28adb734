"""Tickets: validated submissions, a rate limit per address, an answer published as an FAQ entry
that search finds at once, the answer e-mailed through a real SMTP server, deletion of the
submitter's personal data on request, and audit entries that never hold that data."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.graph.models import AuditEntry
from permedhub.helpdesk import tickets
from permedhub.helpdesk.asking import ask
from permedhub.helpdesk.models import Faq, Ticket
from permedhub.search.query import SearchFilters, search

GOOD = {
    "name": "Ana Pérez",
    "email": "Ana.Perez@example.org",
    "question": "Who insures participants in a paediatric trial in Uruguay?",
    "countries": ["UY"],
    "language": "en",
}


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_submit_then_answer_publishes_a_searchable_faq_and_mails_the_submitter(
    helpdesk_engine, mailbox
):
    ticket = tickets.submit(helpdesk_engine, GOOD, client_address="127.0.0.9")
    assert (ticket.status, ticket.email, ticket.countries) == (
        "open",
        "ana.perez@example.org",
        ["UY"],
    )
    with Session(helpdesk_engine) as session:
        assert [t.id for t in tickets.queue(session)] == [ticket.id]
        assert not search(session, "paediatric insures", SearchFilters(("helpdesk-faq",))).hits
    result = tickets.answer(
        helpdesk_engine,
        ticket.id,
        {
            "answer": "Decree 158/019 requires cover against the risks to research subjects.",
            "faq_question": "Who insures trial participants in Uruguay?",
            "topics": ["insurance"],
        },
        actor="carol",
        smtp=mailbox.settings(),
    )
    assert result.mailed and result.mail_problem is None and result.faq_id == "ticket-1"
    assert result.ticket.status == "answered" and result.ticket.mailed_at is not None
    with Session(helpdesk_engine) as session:
        faq = session.get(Faq, "ticket-1")
        assert faq is not None and faq.jurisdictions == ["UY"] and faq.topics == ["insurance"]
        assert "ticket 1" in faq.source and "carol" in faq.source
        hits = search(session, "insures Uruguay", SearchFilters(("helpdesk-faq",))).hits
        asked = ask(session, "¿Quién asegura a los participantes de un ensayo en Uruguay?")
    assert [(h.id, h.url) for h in hits] == [("ticket-1", "/helpdesk/faq/ticket-1")]
    assert "ticket-1" in [a.id for a in asked.answers]  # the helpdesk's own answers find it
    [(recipients, message)] = mailbox.received
    assert recipients == ["ana.perez@example.org"]
    assert message["From"] == "helpdesk@permedhub.test"
    assert "Ana" in message["To"] and "helpdesk" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert "Decree 158/019" in body and "paediatric trial in Uruguay" in body


def test_the_answer_is_mailed_in_the_submitter_s_language(helpdesk_engine, mailbox):
    ticket = tickets.submit(helpdesk_engine, {**GOOD, "language": "pt"})
    tickets.answer(
        helpdesk_engine, ticket.id, {"answer": "Resposta."}, actor="carol", smtp=mailbox.settings()
    )
    [(_, message)] = mailbox.received
    assert "serviço de apoio" in str(message["Subject"])


def test_a_mail_server_that_is_down_does_not_undo_the_answer(helpdesk_engine, mailbox):
    ticket = tickets.submit(helpdesk_engine, GOOD)
    with socket.socket() as unused:  # bound, never listening: the connection is refused
        unused.bind(("127.0.0.1", 0))
        down = mailbox.settings(port=unused.getsockname()[1], timeout_s=2.0)
        result = tickets.answer(
            helpdesk_engine, ticket.id, {"answer": "An answer."}, actor="carol", smtp=down
        )
    assert not result.mailed and "could not send through 127.0.0.1" in (result.mail_problem or "")
    assert result.ticket.status == "answered" and result.ticket.mail_problem == result.mail_problem
    with Session(helpdesk_engine) as session:
        assert session.get(Faq, "ticket-1") is not None


def test_no_smtp_configured_is_recorded_on_the_ticket(helpdesk_engine):
    ticket = tickets.submit(helpdesk_engine, GOOD)
    result = tickets.answer(
        helpdesk_engine,
        ticket.id,
        {"answer": "An answer.", "publish": False},
        actor="carol",
        smtp=None,
    )
    assert not result.mailed and "PERMEDHUB_SMTP_HOST" in (result.mail_problem or "")
    assert result.faq_id is None
    with Session(helpdesk_engine) as session:
        assert session.get(Faq, "ticket-1") is None


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"question": "  "}, "question", "required: the question"),
        ({"question": "x" * 2001}, "question", "at most 2000"),
        ({"question": "binary \x00\x01\x02"}, "question", "control character"),
        ({"email": "not-an-address"}, "email", "e-mail address"),
        ({"email": "a@b.org\r\nBcc: victim@example.org"}, "email", "e-mail address"),
        ({"name": ""}, "name", "at least 1"),
        ({"name": "Ana\r\nBcc: x@y.org"}, "name", "one line"),
        ({"countries": ["QQ"]}, "countries.0", "unknown jurisdiction 'QQ'"),
        ({"countries": ["AR", "BR", "CL", "UY", "PA", "MX"]}, "countries", "at most 5"),
        ({"language": "fr"}, "language", "'en', 'es' or 'pt'"),
        ({"extra": "x"}, "extra", "Extra inputs"),
        ({"question": "bytes \ufffd\ufffd"}, "question", "undecodable bytes"),
        ({"question": b"\x00\x01"}, "question", "control character"),
    ],
)
def test_bad_submissions_are_refused_and_nothing_is_stored(helpdesk_engine, change, field, says):
    audit_before = count(helpdesk_engine, AuditEntry)
    with pytest.raises(tickets.TicketError) as caught:
        tickets.submit(helpdesk_engine, {**GOOD, **change})
    problems = {p.field: p.expected for p in caught.value.problems}
    assert field in problems and says in problems[field], problems
    assert count(helpdesk_engine, Ticket) == 0
    assert count(helpdesk_engine, AuditEntry) == audit_before


def test_a_flood_from_one_address_is_refused_with_the_wait(helpdesk_engine):
    for minute in range(tickets.PER_EMAIL):
        tickets.submit(helpdesk_engine, GOOD, now=1_000_000.0 + 60 * minute)
    with pytest.raises(tickets.RateLimited) as caught:
        tickets.submit(helpdesk_engine, {**GOOD, "email": "ANA.perez@example.org"}, now=1_000_300.0)
    assert caught.value.problems[0].field == "email"
    assert caught.value.retry_after == 3600 - 300 + 1
    assert count(helpdesk_engine, Ticket) == tickets.PER_EMAIL
    # an hour after the first, one more is accepted
    tickets.submit(helpdesk_engine, GOOD, now=1_000_000.0 + 3601)
    # and many addresses from one client address are limited too
    for n in range(tickets.PER_CLIENT):
        tickets.submit(
            helpdesk_engine,
            {**GOOD, "email": f"p{n}@example.org"},
            client_address="10.9.9.9",
            now=2e6,
        )
    with pytest.raises(tickets.RateLimited) as caught:
        tickets.submit(
            helpdesk_engine,
            {**GOOD, "email": "new@example.org"},
            client_address="10.9.9.9",
            now=2e6,
        )
    assert caught.value.problems[0].field == "client_address"


def test_deletion_on_request_empties_personal_data_and_keeps_the_faq(helpdesk_engine):
    ticket = tickets.submit(helpdesk_engine, GOOD, client_address="127.0.0.9")
    tickets.answer(helpdesk_engine, ticket.id, {"answer": "An answer."}, actor="carol", smtp=None)
    view = tickets.anonymise(helpdesk_engine, ticket.id, actor="carol")
    assert (view.name, view.email, view.question) == (None, None, None)
    assert view.anonymised_at is not None and view.answer == "An answer."
    with Session(helpdesk_engine) as session:
        row = session.get(Ticket, ticket.id)
        assert row is not None and row.client_address is None
        faq = session.get(Faq, "ticket-1")
        assert faq is not None and faq.question == GOOD["question"]
        entries = (
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.entity_type.in_(("helpdesk-ticket", "helpdesk-faq")))
                .where(AuditEntry.entity_id.in_((str(ticket.id), "ticket-1")))
                .order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
    assert [(e.action, e.entity_type) for e in entries] == [
        ("create", "helpdesk-ticket"),
        ("create", "helpdesk-faq"),
        ("update", "helpdesk-ticket"),
        ("anonymise", "helpdesk-ticket"),
    ]
    ticket_entries = " ".join(
        str(e.old) + str(e.new) for e in entries if e.entity_type.endswith("ticket")
    )
    for personal in ("Ana", "example.org", "127.0.0.9", "paediatric"):
        assert personal not in ticket_entries
    # an answer after deletion must word the FAQ's question itself
    with pytest.raises(tickets.TicketError, match="faq_question"):
        tickets.answer(helpdesk_engine, ticket.id, {"answer": "Again."}, actor="carol", smtp=None)


def test_a_bad_answer_stores_nothing(helpdesk_engine):
    ticket = tickets.submit(helpdesk_engine, GOOD)
    for bad in ({"answer": ""}, {"answer": "ok", "topics": ["gossip"]}, {"answer": "\x00"}):
        with pytest.raises(tickets.TicketError):
            tickets.answer(helpdesk_engine, ticket.id, bad, actor="carol", smtp=None)
    with Session(helpdesk_engine) as session:
        assert tickets.get_ticket(session, ticket.id).status == "open"
    with pytest.raises(tickets.TicketNotFound):
        tickets.answer(helpdesk_engine, 999, {"answer": "x"}, actor="carol", smtp=None)


def test_script_in_a_ticket_is_stored_as_text(helpdesk_engine):
    script = "<script>alert('x')</script>"
    ticket = tickets.submit(helpdesk_engine, {**GOOD, "question": script})
    tickets.answer(helpdesk_engine, ticket.id, {"answer": script}, actor="carol", smtp=None)
    with Session(helpdesk_engine) as session:
        faq = session.get(Faq, "ticket-1")
        assert faq is not None and faq.answer == script  # escaping is the page's job
