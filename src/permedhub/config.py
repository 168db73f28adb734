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


FEDERATION_NODES_ENV = "PERMEDHUB_FEDERATION_NODES"


def federation_nodes_file() -> str | None:
    """The nodes file the portal's feasibility page asks (`PERMEDHUB_FEDERATION_NODES`), or
    None when the portal is registered with no node."""
    return os.environ.get(FEDERATION_NODES_ENV) or None


HELPDESK_STALE_DAYS_ENV = "PERMEDHUB_HELPDESK_STALE_DAYS"
HELPDESK_STALE_DAYS_DEFAULT = 365


def helpdesk_stale_days() -> int:
    """After how many days since `verified_on` a helpdesk fact is shown as possibly stale
    (`PERMEDHUB_HELPDESK_STALE_DAYS`, set by whoever curates the helpdesk; default a year)."""
    configured = os.environ.get(HELPDESK_STALE_DAYS_ENV, "").strip()
    if not configured:
        return HELPDESK_STALE_DAYS_DEFAULT
    if not configured.isdigit() or not 1 <= int(configured) <= 36500:
        raise ValueError(
            f"{HELPDESK_STALE_DAYS_ENV}={configured!r}: expected a whole number of days "
            "from 1 to 36500"
        )
    return int(configured)


SMTP_ENV_PREFIX = "PERMEDHUB_SMTP_"


@dataclass(frozen=True)
class SmtpSettings:
    """Where PerMed Hub's e-mail goes out: the helpdesk's answers, the call workflow's notices
    (`PERMEDHUB_SMTP_HOST`, `_PORT`, `_FROM`, and
    optionally `_USER`, `_PASSWORD`, `_STARTTLS=1`, `_TIMEOUT` in seconds)."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0


def smtp_settings() -> SmtpSettings | None:
    """The SMTP server to send through, or None when `PERMEDHUB_SMTP_HOST` is unset (the
    helpdesk then records that no mail was sent, call notices stay in the outbox). A bad value
    raises ValueError naming it."""
    env = {
        name: os.environ.get(SMTP_ENV_PREFIX + name, "").strip()
        for name in ("HOST", "PORT", "FROM", "USER", "PASSWORD", "STARTTLS", "TIMEOUT")
    }
    if not env["HOST"]:
        return None
    port = env["PORT"] or "25"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{SMTP_ENV_PREFIX}PORT={port!r}: expected a port number 1-65535")
    if "@" not in env["FROM"]:
        raise ValueError(
            f"{SMTP_ENV_PREFIX}FROM={env['FROM']!r}: expected the sender's e-mail address "
            f"(required when {SMTP_ENV_PREFIX}HOST is set)"
        )
    try:
        timeout = float(env["TIMEOUT"] or 10)
    except ValueError:
        timeout = -1.0
    if not 0 < timeout <= 300:
        raise ValueError(
            f"{SMTP_ENV_PREFIX}TIMEOUT={env['TIMEOUT']!r}: expected seconds, more than 0 and "
            "at most 300"
        )
    if env["STARTTLS"] not in ("", "0", "1"):
        raise ValueError(f"{SMTP_ENV_PREFIX}STARTTLS={env['STARTTLS']!r}: expected 0 or 1")
    return SmtpSettings(
        host=env["HOST"],
        port=int(port),
        sender=env["FROM"],
        username=env["USER"] or None,
        password=env["PASSWORD"] or None,
        starttls=env["STARTTLS"] == "1",
        timeout_s=timeout,
    )
