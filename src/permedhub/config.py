"""Where PerMed Hub keeps its data: one place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

DATABASE_URL_ENV = "PERMEDHUB_DATABASE_URL"
DATA_DIR_ENV = "PERMEDHUB_DATA_DIR"
TRUSTED_PROXIES_ENV = "PERMEDHUB_TRUSTED_PROXIES"


def data_dir() -> Path:
    """The folder for the embedded database (`PERMEDHUB_DATA_DIR`, else the user data dir)."""
    configured = os.environ.get(DATA_DIR_ENV)
    path = Path(configured) if configured else Path(user_data_dir("permedhub", appauthor=False))
    # The database holds password hashes and the audit log: other local users may not read it.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """`PERMEDHUB_DATABASE_URL`, or an SQLite file in the data dir."""
    configured = os.environ.get(DATABASE_URL_ENV)
    if configured:
        return configured
    return f"sqlite:///{data_dir() / 'permedhub.sqlite'}"


def trusted_proxies() -> list[str]:
    """Addresses (or networks) of the reverse proxies whose X-Forwarded-For is believed
    (`PERMEDHUB_TRUSTED_PROXIES`, comma-separated); none by default, so a client cannot pick
    the address the login limiter counts against by sending the header itself."""
    configured = os.environ.get(TRUSTED_PROXIES_ENV, "")
    return [part.strip() for part in configured.split(",") if part.strip()]


SMTP_HOST_ENV = "PERMEDHUB_SMTP_HOST"
SMTP_PORT_ENV = "PERMEDHUB_SMTP_PORT"
SMTP_FROM_ENV = "PERMEDHUB_SMTP_FROM"
SMTP_USER_ENV = "PERMEDHUB_SMTP_USER"
SMTP_PASSWORD_ENV = "PERMEDHUB_SMTP_PASSWORD"
SMTP_STARTTLS_ENV = "PERMEDHUB_SMTP_STARTTLS"


@dataclass(frozen=True)
class SmtpSettings:
    """Where the call workflow's notices go. `host` None: none are sent (they stay in the
    outbox, `permedhub calls mail` lists them)."""

    host: str | None
    port: int
    sender: str
    user: str | None
    password: str | None
    starttls: bool


def smtp_settings() -> SmtpSettings:
    """`PERMEDHUB_SMTP_HOST`, `_PORT` (default 25), `_FROM`, `_USER`, `_PASSWORD` and
    `_STARTTLS` (1 to upgrade the connection before logging in)."""
    port_text = os.environ.get(SMTP_PORT_ENV, "25").strip()
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{SMTP_PORT_ENV} = {port_text!r} is invalid: expected a port 1-65535")
    return SmtpSettings(
        host=os.environ.get(SMTP_HOST_ENV) or None,
        port=int(port_text),
        sender=os.environ.get(SMTP_FROM_ENV) or "permedhub@localhost",
        user=os.environ.get(SMTP_USER_ENV) or None,
        password=os.environ.get(SMTP_PASSWORD_ENV) or None,
        starttls=os.environ.get(SMTP_STARTTLS_ENV) == "1",
    )
