"""Where PerMed Hub keeps its data: one place that reads the environment."""

from __future__ import annotations

import os
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
