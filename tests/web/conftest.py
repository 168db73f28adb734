"""Portal fixtures: a seeded SQLite database per test, the app, users, logged-in clients, and a
live server with a headless Chromium for the browser tests."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from browser_support import (
    LiveServer,
    Tab,
    chromium_or_skip,
    guarded_tab,
    launched_chromium,
    served_copy,
)
from permedhub.db import make_engine
from permedhub.graph.curation import create_user
from permedhub.web.app import create_app

PASSWORDS = {
    "vera": ("viewer", "viewer-password-1"),
    "carol": ("curator", "curator-password-1"),
    "ada": ("admin", "admin-password-12"),
}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def portal_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded family plus a viewer, a curator and an admin (argon2 hashing is slow: once)."""
    path = tmp_path_factory.mktemp("portal") / "portal.sqlite"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    for name, (role, password) in PASSWORDS.items():
        create_user(engine, name, password, role)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _engine_copy(template: Path, folder: Path) -> Engine:
    path = folder / "portal.sqlite"
    shutil.copyfile(template, path)
    return make_engine(f"sqlite:///{path}")


def _app(engine: Engine, folder: Path) -> FastAPI:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PERMEDHUB_SECRET_KEY", "test-secret-key")
        patch.setenv("PERMEDHUB_DATA_DIR", str(folder / "data"))
        return create_app(engine, prepare_database=False)


@contextmanager
def _client_of(app: FastAPI) -> Iterator[TestClient]:
    # https: the session cookie is Secure, so a plain-http client would never send it back.
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def client_on(tmp_path: Path) -> Callable[[Engine], AbstractContextManager[TestClient]]:
    """`with client_on(engine) as client:` a client of the portal on any engine (either
    backend), e.g. one a test has grown beyond the seed."""
    return lambda engine: _client_of(_app(engine, tmp_path))


@pytest.fixture
def web_engine(portal_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A database of this test's own: the family, and users vera, carol and ada."""
    engine = _engine_copy(portal_template, tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def app(web_engine: Engine, tmp_path: Path) -> FastAPI:
    return _app(web_engine, tmp_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with _client_of(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def read_client(
    portal_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One client for a module of read-only tests (they must not write)."""
    folder = tmp_path_factory.mktemp("read")
    engine = _engine_copy(portal_template, folder)
    with _client_of(_app(engine, folder)) as test_client:
        yield test_client
    engine.dispose()


def _csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token a page's forms carry for this client's session."""
    match = CSRF_INPUT.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _log_in(client: TestClient, name: str) -> str:
    response = client.post(
        "/login",
        data={"name": name, "password": PASSWORDS[name][1], "csrf_token": _csrf_of(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return _csrf_of(client, "/curate")


@pytest.fixture
def csrf_of() -> Callable[..., str]:
    """`csrf_of(client, path="/login")`: the CSRF token a page's forms carry for that session."""
    return _csrf_of


@pytest.fixture
def log_in() -> Callable[[TestClient, str], str]:
    """`log_in(client, name)`: log a test user in; returns the session's new CSRF token."""
    return _log_in


@pytest.fixture(scope="module")
def live_server(
    portal_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """uvicorn in a background thread on 127.0.0.1 (a free port), on a fresh SQLite copy."""
    chromium_or_skip()
    folder = tmp_path_factory.mktemp("browser")
    with served_copy(portal_template, folder, "browser-test-secret") as (url, engine, app):
        yield LiveServer(url, engine, app)


@dataclass
class Browser:
    chromium: Any


@pytest.fixture(scope="module")
def browser(live_server: LiveServer) -> Iterator[Browser]:
    with launched_chromium() as chromium:
        yield Browser(chromium)


@pytest.fixture
def tab(browser: Browser, live_server: LiveServer) -> Iterator[Tab]:
    with guarded_tab(browser.chromium, live_server.url, timeout_ms=15_000) as guarded:
        yield guarded


@pytest.fixture(scope="session")
def helpdesk_template(portal_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal's database (family and users) with the helpdesk seed loaded."""
    from permedhub.helpdesk.seed import seed

    path = tmp_path_factory.mktemp("helpdesk") / "portal.sqlite"
    shutil.copyfile(portal_template, path)
    engine = make_engine(f"sqlite:///{path}")
    seed(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def helpdesk_client(helpdesk_template: Path, tmp_path: Path) -> Iterator[TestClient]:
    """A client of an app of this test's own on the helpdesk-seeded database."""
    engine = _engine_copy(helpdesk_template, tmp_path)
    with TestClient(_app(engine, tmp_path), base_url="https://testserver") as test_client:
        yield test_client
    engine.dispose()
