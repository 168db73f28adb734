"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 at a free port, keeping what it
receives, and settings that point PerMed Hub's mail at it.

A module of its own (not conftest), imported by the helpdesk and call-workflow tests.
"""

from __future__ import annotations

import socket
import threading
import time
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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self, **changes: Any) -> SmtpSettings:
        return SmtpSettings(
            **{"host": self.host, "port": self.port, "sender": "helpdesk@permedhub.test", **changes}
        )

    @property
    def messages(self) -> list[Message]:
        with self.lock:
            return [message for _, message in self.received]

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def subjects(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in self.to(address)]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()


class _Keeper:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.box.lock:
            self.box.received.append((list(envelope.rcpt_tos), parsed))
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


@contextmanager
def smtp_inbox() -> Iterator[tuple[Mailbox, SmtpSettings]]:
    """The server and the settings of a call secretariat sending through it."""
    with smtp_server() as box:
        yield box, box.settings(sender="secretariat@permedhub.test")


def wait_for(box: Mailbox, address: str, count: int, timeout_s: float = 5.0) -> list[Message]:
    """The messages to `address` once there are `count` of them (delivery is synchronous,
    the server's thread may still be filing the last one)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = box.to(address)
        if len(found) >= count:
            return found
        time.sleep(0.02)
    return box.to(address)
