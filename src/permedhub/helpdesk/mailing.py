"""Sending the helpdesk's e-mail (an expert's answer to the person who asked) over SMTP.

The server comes from the environment (config.smtp_settings). A message is plain text built by
the standard library, which refuses line breaks in headers, so nothing a submitter typed can add
a header or a recipient.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from permedhub.config import SmtpSettings


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server; the text says why."""


def send(settings: SmtpSettings, to: str, to_name: str | None, subject: str, body: str) -> str:
    """Send one plain-text message; its Message-ID. Raises MailError."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr((to_name or "", to))
    message["Subject"] = subject
    message_id = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message["Message-ID"] = message_id
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(
            f"could not send through {settings.host}:{settings.port}: {type(exc).__name__}: {exc}"
        ) from exc
    return message_id
