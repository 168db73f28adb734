"""Plain-text e-mail over the SMTP server of the environment (`config.smtp_settings`): one
connection helper and one message builder for every service that mails (the helpdesk's
answers, the call workflow's notices).

Messages are built by the standard library, which refuses line breaks in headers, so nothing a
person typed can add a header or a recipient.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from permedhub.config import SmtpSettings


@contextmanager
def connected(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """An SMTP session with the configured server (STARTTLS and login when configured).
    Raises OSError or smtplib.SMTPException as the server fails."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        yield smtp


def plain_message(
    settings: SmtpSettings, to: str, subject: str, body: str, to_name: str | None = None
) -> EmailMessage:
    """A plain-text message from the configured sender, with its own Message-ID."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr((to_name or "", to)) if to_name else to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(body)
    return message
