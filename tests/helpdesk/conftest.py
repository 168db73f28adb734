"""Helpdesk fixtures: a database with the family and the helpdesk seed, and a real SMTP server
(aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import pytest
from sqlalchemy import Engine

from permedhub.config import SmtpSettings
from permedhub.helpdesk.seed import seed


@pytest.fixture
def helpdesk_engine(engine: Engine) -> Engine:
    """The seeded family (SQLite and PostgreSQL) with the helpdesk seed loaded."""
    seed(engine)
    return engine


@dataclass
class Mailbox:
    """What the test SMTP server received: (envelope recipients, parsed message) per mail."""

    host: str
    port: int
    received: list[tuple[list[str], Message]] = field(default_factory=list)

    def settings(self, **changes: Any) -> SmtpSettings:
        return SmtpSettings(
            **{"host": self.host, "port": self.port, "sender": "helpdesk@permedhub.test", **changes}
        )


class _Keeper:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.box.received.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 at a free port, for this test."""
    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", free_port())
    controller = Controller(_Keeper(box), hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
