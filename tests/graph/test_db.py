"""The database layer: SQLite tuned for concurrent use, migrations that match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from permedhub.atlas import models as _atlas_models  # noqa: F401  (its tables, too)
from permedhub.calls import store as _calls_store  # noqa: F401  (the call workflow's tables)
from permedhub.db import is_empty, make_engine, upgrade
from permedhub.graph.models import Base
from permedhub.helpdesk import models as _helpdesk_models  # noqa: F401  (its tables, too)


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


def test_the_embedded_database_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    import stat

    from permedhub import config

    folder = tmp_path / "data" / "permedhub"
    monkeypatch.setenv(config.DATA_DIR_ENV, str(folder))
    monkeypatch.delenv(config.DATABASE_URL_ENV, raising=False)
    engine = make_engine()
    upgrade(engine)
    with engine.begin() as connection:  # a write, so the WAL file exists too
        connection.execute(text("CREATE TABLE probe (x INTEGER)"))
    mode = lambda path: stat.S_IMODE(path.stat().st_mode)  # noqa: E731
    assert mode(folder) == 0o700
    files = sorted(folder.glob("permedhub.sqlite*"))
    assert files and all(mode(path) == 0o600 for path in files), [
        (p.name, oct(mode(p))) for p in files
    ]
    engine.dispose()
