"""Engines, sessions and migrations: SQLite by default, PostgreSQL for multi-user deployments."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from typing import Any, ClassVar, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    any_,
    create_engine,
    event,
    func,
    inspect,
    literal,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session

from permedhub import config

SQLITE_BUSY_TIMEOUT_MS = 30_000

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every table (the graph's, the search index's), so that one
    metadata with one naming convention describes the database the migrations build."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        list[str]: JSON,
    }


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, typed as such for bulk statements."""
    return cast(Table, model.__table__)


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default: the configured one), with SQLite tuned for concurrent use."""
    url = url or config.database_url()
    if url.startswith("sqlite"):
        _create_private_file(make_url(url).database)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate_when_writing)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _create_private_file(database: str | None) -> None:
    """Create a new SQLite file readable by its owner only (SQLite's journal and WAL files
    copy its permissions); an existing file keeps the permissions it has."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with suppress(FileExistsError):
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling issues BEGIN lazily and hides it; we emit BEGIN ourselves
    # (see _begin_immediate_when_writing) so that a transaction spans every statement of a load.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate_when_writing(connection: Any) -> None:
    # A deferred BEGIN that later upgrades to a write lock can fail with "database is locked"
    # without waiting; BEGIN IMMEDIATE takes the write lock up front and honours busy_timeout.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """One write transaction: committed when the block ends, rolled back on any error."""
    connection = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
    try:
        with Session(bind=connection, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        connection.close()


@contextmanager
def loading_transaction(engine: Engine, *, dry_run: bool) -> Iterator[Connection]:
    """One importer's transaction on a connection: committed when the block ends, rolled back
    on any error, and rolled back anyway for a dry run (which checks and counts only)."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection:
        transaction = connection.begin()
        try:
            yield connection
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("permedhub") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Run every pending migration on `engine`'s database."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def is_empty(engine: Engine) -> bool:
    """True when the database has no initiatives yet (or no tables at all)."""
    if not inspect(engine).has_table("initiative"):
        return True
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT 1 FROM initiative LIMIT 1").first() is None


def ensure_ready(engine: Engine) -> bool:
    """Migrate, and seed the family into an empty database; True when it seeded."""
    from permedhub.graph.seed import seed

    upgrade(engine)
    if is_empty(engine):
        seed(engine)
        return True
    return False


def among(dialect: str, column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """SQL: `column` is one of `values`, as one parameter whatever their number.

    An IN list is a new statement for every length (PostgreSQL parses and plans each anew,
    and psycopg never prepares it); one array (PostgreSQL) or JSON list (SQLite) is not.
    """
    listed = sorted(set(values))
    if dialect == "postgresql":
        return column == any_(literal(listed, ARRAY(String)))
    each = func.json_each(literal(json.dumps(listed))).table_valued("value")
    return column.in_(select(each.c.value))
