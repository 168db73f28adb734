"""The workflow's notices: written to an outbox with the step they report, sent after it.

A step queues its notices in its own transaction (`queue`), so a step that fails sends none
and a step that commits cannot lose its notices; `deliver` then hands the outbox to the SMTP
server named by the environment (`config.smtp_settings`), one message per connection
attempt's result: sent (its time) or refused (the server's answer, kept for a retry).
"""

from __future__ import annotations

import datetime as dt
import smtplib

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from permedhub.calls.store import Mail
from permedhub.config import SmtpSettings, smtp_settings
from permedhub.db import writing
from permedhub.mailing import connected, plain_message

MAX_PER_DELIVERY = 500


def queue(
    session: Session,
    call_id: str,
    recipients: list[str],
    subject: str,
    body: str,
    now: dt.datetime,
) -> None:
    """One message per distinct recipient, in the caller's transaction."""
    for recipient in sorted(set(recipients)):
        session.add(
            Mail(
                call_id=call_id,
                recipient=recipient,
                subject=subject[:300],
                body=body,
                created_at=now,
            )
        )


def deliver(engine: Engine, settings: SmtpSettings | None = None) -> int:
    """Send every queued message not sent or refused yet; how many the server took. Without
    a configured host nothing is sent (the outbox keeps them)."""
    settings = settings or smtp_settings()
    if settings is None:
        return 0
    with Session(engine) as session:
        pending = session.execute(
            select(Mail.id, Mail.recipient, Mail.subject, Mail.body)
            .where(Mail.sent_at.is_(None), Mail.error.is_(None))
            .order_by(Mail.id)
            .limit(MAX_PER_DELIVERY)
        ).all()
    if not pending:
        return 0
    sent: list[int] = []
    refused: dict[int, str] = {}
    try:
        with connected(settings) as smtp:
            for mail_id, recipient, subject, body in pending:
                message = plain_message(settings, recipient, subject, body)
                try:
                    smtp.send_message(message)
                    sent.append(mail_id)
                except smtplib.SMTPRecipientsRefused as error:
                    refused[mail_id] = str(error.recipients)[:1000]
    except (OSError, smtplib.SMTPException):
        # The server is unreachable or ended the session: what it took is marked, the rest
        # stays queued for the next delivery.
        pass
    now = dt.datetime.now(dt.UTC)
    with writing(engine) as session:
        if sent:
            session.execute(update(Mail).where(Mail.id.in_(sent)).values(sent_at=now))
        for mail_id, answer in refused.items():
            session.execute(update(Mail).where(Mail.id == mail_id).values(error=answer))
    return len(sent)


def pending(engine: Engine) -> list[dict[str, str | None]]:
    """The notices not sent yet: call, recipient, subject, and the server's refusal if any."""
    with Session(engine) as session:
        rows = session.execute(
            select(Mail.call_id, Mail.recipient, Mail.subject, Mail.error)
            .where(Mail.sent_at.is_(None))
            .order_by(Mail.id)
        ).all()
    return [{"call": c, "to": r, "subject": s, "error": e} for c, r, s, e in rows]
