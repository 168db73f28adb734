"""Shared fixtures: every test gets its own database, on SQLite and (when configured) PostgreSQL.

A seeded template is built once per test worker and per backend; each test then gets a copy
(a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL), so tests stay isolated
without re-seeding the family each time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from permedhub.db import ensure_ready, make_engine

POSTGRES_URL_ENV = "PERMEDHUB_TEST_POSTGRES_URL"
# Nothing a test does (session secrets, default databases) may land in the user's own data dir.
os.environ.setdefault("PERMEDHUB_DATA_DIR", tempfile.mkdtemp(prefix="permedhub-tests-"))
BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_URL_ENV)


def _postgres_engine_or_fail() -> Engine:
    url = _postgres_admin_url()
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set: PostgreSQL variant not run")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        message = f"PostgreSQL at {url} cannot be reached: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return engine


@pytest.fixture(scope="session")
def seed_declared() -> dict[str, list[dict[str, Any]]]:
    """The records the seed files declare, per section: what a freshly seeded database holds.

    Tests compare with these instead of fixed numbers, so adding sourced records to the seed
    does not break them while a record lost on the way still does.
    """
    from permedhub.graph.seed import seed_files

    declared: dict[str, list[dict[str, Any]]] = {}
    for path in seed_files():
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for section, records in document.items():
            if isinstance(records, list):
                declared.setdefault(section, []).extend(records)
    return declared


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "seeded.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    ensure_ready(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(worker_id: str) -> Iterator[str]:
    admin = _postgres_engine_or_fail()
    name = f"permedhub_tpl_{worker_id}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_postgres_admin_url() or "").set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    ensure_ready(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _fresh_database(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, seeded: bool
) -> Iterator[Engine]:
    if backend == "sqlite":
        path = tmp_path / "permedhub.sqlite"
        if seeded:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        if not seeded:
            from permedhub.db import upgrade

            upgrade(engine)
        yield engine
        engine.dispose()
        return
    admin = _postgres_engine_or_fail()
    name = f"permedhub_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        if seeded:
            template = request.getfixturevalue("postgres_template")
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        else:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_postgres_admin_url() or "").set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False))
    if not seeded:
        from permedhub.db import upgrade

        upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, migrated and seeded with the ICPerMed family."""
    yield from _fresh_database(request, request.param, tmp_path, seeded=True)


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, migrated but empty."""
    yield from _fresh_database(request, request.param, tmp_path, seeded=False)
