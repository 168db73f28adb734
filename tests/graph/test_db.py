"""The database layer: SQLite tuned for concurrent use, migrations that match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from permedhub.db import is_empty, make_engine, upgrade
from permedhub.graph.models import Base


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_migrations_create_exactly_the_tables_the_models_describe(empty_engine):
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = [
            d
            for d in compare_metadata(context, Base.metadata)
            # the search index's own objects (FTS5 table, tsvector column) are not models
            if "search_fts" not in str(d) and "tsv" not in str(d)
        ]
    assert differences == []


def test_a_migrated_database_is_empty_until_seeded(empty_engine):
    assert is_empty(empty_engine)
    upgrade(empty_engine)  # running again is harmless
    assert is_empty(empty_engine)
