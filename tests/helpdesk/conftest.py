"""Helpdesk fixtures: a database with the family and the helpdesk seed, and a real SMTP server
(aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from permedhub.helpdesk.seed import seed
from smtp_support import Mailbox, smtp_server


@pytest.fixture
def helpdesk_engine(engine: Engine) -> Engine:
    """The seeded family (SQLite and PostgreSQL) with the helpdesk seed loaded."""
    seed(engine)
    return engine


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 at a free port, for this test."""
    with smtp_server() as box:
        yield box
