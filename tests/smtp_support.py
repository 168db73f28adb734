"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port) that keeps what it
receives, and the settings that point the call workflow at it."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from permedhub.config import SmtpSettings


@dataclass
class Inbox:
    """Every message the server received, parsed; `to(address)` those for one recipient."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def subjects(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in self.to(address)]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            inbox,
            SmtpSettings(
                host="127.0.0.1",
                port=port,
                sender="secretariat@permedhub.test",
                user=None,
                password=None,
                starttls=False,
            ),
        )
    finally:
        controller.stop()


def wait_for(inbox: Inbox, address: str, count: int, timeout_s: float = 5.0) -> list[Message]:
    """The messages to `address` once there are `count` of them (delivery is synchronous,
    the server's thread may still be filing the last one)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = inbox.to(address)
        if len(found) >= count:
            return found
        time.sleep(0.02)
    return inbox.to(address)
