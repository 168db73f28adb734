"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 at a free port, keeping what it receives.

A module of its own (not conftest), imported by tests/helpdesk and tests/web.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from permedhub.config import SmtpSettings


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


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", free_port())
    controller = Controller(_Keeper(box), hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
