"""Tickets: a question the knowledge base cannot answer, asked of a human.

- `submit` stores a ticket (name, e-mail, question, countries) after validation and a rate limit
  per e-mail address and per client address, checked and written in one transaction.
- Helpdesk experts (the curator role) read the queue (`queue`, `get_ticket`) and `answer`: the
  answer is stored and, when published, becomes an FAQ entry (validated by the same schema as a
  seed file) that is indexed for search in the same transaction, so it is found at once. The
  submitter is then e-mailed the answer (after the commit: a mail server that is down does not
  undo an answer; the ticket records whether the mail went out).
- `anonymise` deletes a submitter's personal data on request (name, e-mail, client address and
  the question as they wrote it); the answer and the FAQ entry, whose question the expert
  worded, stay.

Every change gets an audit entry like the curator area's, without personal data in it.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from permedhub.config import SmtpSettings
from permedhub.db import writing
from permedhub.graph.curation import audit_service_record
from permedhub.graph.records import snapshot
from permedhub.helpdesk import mailing
from permedhub.helpdesk.indexing import reindex
from permedhub.helpdesk.loading import to_row
from permedhub.helpdesk.models import ENTITY_TYPE, Faq, Ticket
from permedhub.helpdesk.schemas import FaqIn, Jurisdiction, Language, Statement, Topic
from permedhub.validation import expected

TICKET_ENTITY = "helpdesk-ticket"
FAQ_ENTITY = ENTITY_TYPE["faq"]
MAX_QUESTION = 2000
# A flood of tickets is refused: at most this many per e-mail address, and per client address
# (several people may share one, behind a university's gateway), in the window.
PER_EMAIL, PER_CLIENT, WINDOW_S = 3, 10, 3600.0
# One @, something on each side, a dot in the domain, no spaces or controls: the shape of an
# address; whether it exists is for the mail server to say.
EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+$")


@dataclass(frozen=True)
class Problem:
    field: str
    value: Any
    expected: str


class TicketError(ValueError):
    """Refused input; `problems` name each field, its value and what was expected."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(f"{p.field} = {_shown(p.value)}: {p.expected}" for p in problems)
        )


class RateLimited(TicketError):
    """Too many tickets from one address; `retry_after` seconds until the next is accepted."""

    def __init__(self, field: str, value: str, retry_after: int, allowed: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            [
                Problem(
                    field,
                    value,
                    f"at most {allowed} questions an hour from one {field.replace('_', ' ')}: "
                    f"try again in {retry_after} seconds",
                )
            ]
        )


class TicketNotFound(LookupError):
    pass


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _given(value: Any, what: str) -> Any:
    """Blank text is named as missing (rather than as "not a string" after stripping)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"required: {what}")
    return value


def _decoded(value: Any) -> Any:
    """Bytes that were not UTF-8 arrive as U+FFFD: binary is refused, not stored mangled."""
    if isinstance(value, str) and "\ufffd" in value:
        raise ValueError(
            f"undecodable bytes at position {value.index(chr(0xFFFD))}: expected UTF-8 text"
        )
    return value


def _email(value: str) -> str:
    if not EMAIL.fullmatch(value):
        raise ValueError("expected an e-mail address such as name@example.org")
    return value


class TicketIn(BaseModel):
    """What a submitter sends."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(min_length=3, max_length=320), AfterValidator(_email)]
    question: Statement
    countries: Annotated[list[Jurisdiction], Field(max_length=5)] = Field(default_factory=list)
    language: Language = "en"

    @field_validator("question", mode="before")
    @classmethod
    def _question_given(cls, value: Any) -> Any:
        return _decoded(_given(value, "the question, up to 2000 characters"))

    @field_validator("name", "email", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _decoded(value)

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        if re.search(r"[\x00-\x1f\x7f]", value):
            raise ValueError("expected a name on one line, without control characters")
        return value

    @field_validator("countries")
    @classmethod
    def _distinct(cls, codes: list[str]) -> list[str]:
        return list(dict.fromkeys(codes))


class AnswerIn(BaseModel):
    """What an expert sends: the answer, and for the FAQ entry its wording of the question."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answer: Statement
    publish: bool = True
    faq_question: Statement | None = None  # default: the ticket's question
    topics: list[Topic] = Field(default_factory=list)
    language: Language | None = None  # default: the ticket's

    @field_validator("answer", mode="before")
    @classmethod
    def _answer_given(cls, value: Any) -> Any:
        return _decoded(_given(value, "the answer, up to 2000 characters"))

    @field_validator("faq_question", mode="before")
    @classmethod
    def _question_text(cls, value: Any) -> Any:
        return _decoded(value)


@dataclass(frozen=True)
class TicketView:
    """A ticket as experts see it (the only view with the personal data)."""

    id: int
    submitted_at: dt.datetime
    name: str | None
    email: str | None
    question: str | None
    countries: list[str]
    language: str
    status: str
    answer: str | None
    answered_by: str | None
    answered_at: dt.datetime | None
    faq_id: str | None
    mailed_at: dt.datetime | None
    mail_problem: str | None
    anonymised_at: dt.datetime | None


@dataclass(frozen=True)
class AnswerResult:
    ticket: TicketView
    faq_id: str | None
    mailed: bool
    mail_problem: str | None


def _problems(exc: ValidationError, prefix: str = "") -> list[Problem]:
    return [
        Problem(
            prefix + ".".join(str(part) for part in error["loc"]) or "input",
            error.get("input"),
            expected(error),
        )
        for error in exc.errors()
    ]


def _view(ticket: Ticket) -> TicketView:
    return TicketView(
        id=ticket.id,
        submitted_at=dt.datetime.fromtimestamp(ticket.submitted_at, dt.UTC),
        name=ticket.name,
        email=ticket.email,
        question=ticket.question,
        countries=list(ticket.countries or []),
        language=ticket.language,
        status=ticket.status,
        answer=ticket.answer,
        answered_by=ticket.answered_by,
        answered_at=ticket.answered_at,
        faq_id=ticket.faq_id,
        mailed_at=ticket.mailed_at,
        mail_problem=ticket.mail_problem,
        anonymised_at=ticket.anonymised_at,
    )


def _audit_state(ticket: Ticket) -> dict[str, Any]:
    """What the audit log keeps of a ticket: never the submitter's personal data."""
    return {
        "status": ticket.status,
        "countries": list(ticket.countries or []),
        "language": ticket.language,
        "faq_id": ticket.faq_id,
        "answered_by": ticket.answered_by,
        "anonymised": ticket.anonymised_at is not None,
    }


def _audit(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> None:
    audit_service_record(session, actor, action, entity_type, entity_id, old=old, new=new)


# ---------------------------------------------------------------- submitting


def submit(
    engine: Engine,
    data: dict[str, Any],
    *,
    client_address: str | None = None,
    now: float | None = None,
) -> TicketView:
    """Store a new ticket, or raise TicketError (bad input) / RateLimited (a flood)."""
    try:
        ticket_in = TicketIn.model_validate(data)
    except ValidationError as exc:
        raise TicketError(_problems(exc)) from None
    now = time.time() if now is None else now
    email = ticket_in.email.lower()
    client = (client_address or "")[:64] or None
    with writing(engine) as session:  # IMMEDIATE on SQLite: the count and the insert are one
        _check_rate(session, Ticket.email, email, "email", PER_EMAIL, now)
        if client:
            _check_rate(session, Ticket.client_address, client, "client_address", PER_CLIENT, now)
        ticket = Ticket(
            submitted_at=now,
            name=ticket_in.name,
            email=email,
            client_address=client,
            question=ticket_in.question,
            countries=ticket_in.countries,
            language=ticket_in.language,
            status="open",
        )
        session.add(ticket)
        session.flush()
        _audit(
            session, "public", "create", TICKET_ENTITY, str(ticket.id), None, _audit_state(ticket)
        )
        return _view(ticket)


def _check_rate(
    session: Session, column: Any, value: str, field: str, allowed: int, now: float
) -> None:
    times = (
        session.execute(
            select(Ticket.submitted_at)
            .where(column == value, Ticket.submitted_at > now - WINDOW_S)
            .order_by(Ticket.submitted_at.desc())
            .limit(allowed)
        )
        .scalars()
        .all()
    )
    if len(times) >= allowed:
        retry_after = max(1, int(times[-1] + WINDOW_S - now) + 1)
        raise RateLimited(field, value, retry_after, allowed)


# ---------------------------------------------------------------- the experts' queue


def queue(session: Session, *, status: str | None = None, limit: int = 200) -> list[TicketView]:
    """Tickets, open ones first, oldest first among them; newest answered after."""
    query = select(Ticket)
    if status is not None:
        query = query.where(Ticket.status == status)
    query = query.order_by((Ticket.status == "open").desc(), Ticket.submitted_at).limit(limit)
    return [_view(t) for t in session.execute(query).scalars()]


def open_count(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(Ticket).where(Ticket.status == "open")
    ).scalar_one()


def get_ticket(session: Session, ticket_id: int) -> TicketView:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise TicketNotFound(f"no ticket {ticket_id}")
    return _view(ticket)


def faq_id_of(ticket_id: int) -> str:
    return f"ticket-{ticket_id}"


def answer(
    engine: Engine,
    ticket_id: int,
    data: dict[str, Any],
    *,
    actor: str,
    smtp: SmtpSettings | None,
    today: dt.date | None = None,
) -> AnswerResult:
    """Answer a ticket (and publish it as an FAQ entry, indexed at once), then e-mail the
    submitter. Raises TicketError for bad input, TicketNotFound for an unknown ticket."""
    try:
        answer_in = AnswerIn.model_validate(data)
    except ValidationError as exc:
        raise TicketError(_problems(exc)) from None
    today = today or dt.date.today()
    with writing(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        question = answer_in.faq_question or ticket.question
        if answer_in.publish and not question:
            raise TicketError(
                [
                    Problem(
                        "faq_question",
                        None,
                        "the question as the FAQ should show it (the submitter's wording was "
                        "deleted on request)",
                    )
                ]
            )
        old = _audit_state(ticket)
        ticket.answer = answer_in.answer
        ticket.answered_by = actor
        ticket.answered_at = dt.datetime.now(dt.UTC)
        ticket.status = "answered"
        faq_id = None
        if answer_in.publish:
            faq_id = _publish(
                session,
                ticket,
                question or "",
                answer_in,
                actor=actor,
                today=today,
            )
            ticket.faq_id = faq_id
        _audit(session, actor, "update", TICKET_ENTITY, str(ticket.id), old, _audit_state(ticket))
        recipient, name = ticket.email, ticket.name
        language = ticket.language
        asked = ticket.question
    mailed, problem = _mail_answer(
        engine, ticket_id, smtp, recipient, name, language, asked, answer_in.answer
    )
    with Session(engine) as session:
        view = get_ticket(session, ticket_id)
    return AnswerResult(ticket=view, faq_id=faq_id, mailed=mailed, mail_problem=problem)


def _publish(
    session: Session,
    ticket: Ticket,
    question: str,
    answer_in: AnswerIn,
    *,
    actor: str,
    today: dt.date,
) -> str:
    """The ticket's answer as an FAQ entry, created or updated, and indexed for search."""
    faq_id = faq_id_of(ticket.id)
    try:
        record = FaqIn.model_validate(
            {
                "id": faq_id,
                "question": question,
                "answer": answer_in.answer,
                "language": answer_in.language or ticket.language,
                "jurisdictions": list(ticket.countries or []),
                "topics": answer_in.topics,
                "source": f"PerMed Hub helpdesk: answer to ticket {ticket.id} by {actor}",
                "verified_on": today.isoformat(),
            }
        )
    except ValidationError as exc:
        raise TicketError(_problems(exc, "faq.")) from None
    row = to_row(record)
    existing = session.get(Faq, faq_id)
    if existing is None:
        old = None
        session.add(Faq(**row))
    else:
        old = snapshot({c.key: getattr(existing, c.key) for c in Faq.__table__.columns})
        for key, value in row.items():
            setattr(existing, key, value)
    session.flush()
    # In this transaction: the entry is found by search (and by `ask`) as soon as it commits.
    reindex(session.connection())
    _audit(
        session,
        actor,
        "create" if existing is None else "update",
        FAQ_ENTITY,
        faq_id,
        old,
        snapshot(row),
    )
    return faq_id


SUBJECTS = {
    "en": "Your question to the PerMed Hub clinical-trials helpdesk",
    "es": "Su pregunta al servicio de ayuda sobre ensayos clínicos de PerMed Hub",
    "pt": "A sua pergunta ao serviço de apoio sobre ensaios clínicos do PerMed Hub",
}
BODIES = {
    "en": "You asked:\n\n{question}\n\nThe helpdesk's answer:\n\n{answer}\n",
    "es": "Su pregunta:\n\n{question}\n\nLa respuesta del servicio de ayuda:\n\n{answer}\n",
    "pt": "A sua pergunta:\n\n{question}\n\nA resposta do serviço de apoio:\n\n{answer}\n",
}


def _mail_answer(
    engine: Engine,
    ticket_id: int,
    smtp: SmtpSettings | None,
    recipient: str | None,
    name: str | None,
    language: str,
    question: str | None,
    answer_text: str,
) -> tuple[bool, str | None]:
    """E-mail the answer and record on the ticket whether it went out."""
    problem: str | None = None
    if recipient is None:
        problem = "not sent: the submitter's address was deleted on request"
    elif smtp is None:
        problem = "not sent: no SMTP server is configured (PERMEDHUB_SMTP_HOST)"
    else:
        body = BODIES.get(language, BODIES["en"]).format(
            question=question or "", answer=answer_text
        )
        try:
            mailing.send(smtp, recipient, name, SUBJECTS.get(language, SUBJECTS["en"]), body)
        except mailing.MailError as exc:
            problem = str(exc)
    with writing(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            ticket.mail_problem = problem
            ticket.mailed_at = None if problem else dt.datetime.now(dt.UTC)
    return problem is None, problem


# ---------------------------------------------------------------- deletion on request


def anonymise(engine: Engine, ticket_id: int, *, actor: str) -> TicketView:
    """Delete the submitter's personal data; the ticket's answer and its FAQ entry stay."""
    with writing(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        old = _audit_state(ticket)
        ticket.name = ticket.email = ticket.client_address = ticket.question = None
        ticket.anonymised_at = ticket.anonymised_at or dt.datetime.now(dt.UTC)
        _audit(
            session, actor, "anonymise", TICKET_ENTITY, str(ticket.id), old, _audit_state(ticket)
        )
        session.flush()
        return _view(ticket)


# ---------------------------------------------------------------- FAQ entries as anyone sees them


@dataclass(frozen=True)
class FaqView:
    """An FAQ entry (from the seed or a ticket): what anyone may read, no personal data."""

    id: str
    question: str
    answer: str
    language: str
    jurisdictions: list[str]
    topics: list[str]
    source: str
    verified_on: dt.date


def get_faq(session: Session, faq_id: str) -> FaqView | None:
    entry = session.get(Faq, faq_id)
    if entry is None:
        return None
    return FaqView(
        id=entry.id,
        question=entry.question,
        answer=entry.answer,
        language=entry.language,
        jurisdictions=list(entry.jurisdictions or []),
        topics=list(entry.topics or []),
        source=entry.source,
        verified_on=entry.verified_on,
    )
