"""Sending the helpdesk's e-mail (an expert's answer to the person who asked) over SMTP.

The server comes from the environment (config.smtp_settings); the connection and the message
are `permedhub.mailing`'s.
"""

from __future__ import annotations

import smtplib

from permedhub.config import SmtpSettings
from permedhub.mailing import connected, plain_message


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server; the text says why."""


def send(settings: SmtpSettings, to: str, to_name: str | None, subject: str, body: str) -> str:
    """Send one plain-text message; its Message-ID. Raises MailError."""
    message = plain_message(settings, to, subject, body, to_name=to_name or "")
    try:
        with connected(settings) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(
            f"could not send through {settings.host}:{settings.port}: {type(exc).__name__}: {exc}"
        ) from exc
    return str(message["Message-ID"])
