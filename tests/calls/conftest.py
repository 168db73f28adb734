"""What the calls tests share: a real SMTP server on 127.0.0.1 that the workflow mails."""

from collections.abc import Iterator
from typing import Any

import pytest

from smtp_support import Mailbox as Inbox
from smtp_support import smtp_inbox


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, Any]]:
    with smtp_inbox() as server:
        yield server
