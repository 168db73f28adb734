"""Re-indexing writes the documents a load writes, and the migration that moved codes out of
the shown text re-indexes a database indexed the old way."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text

from permedhub.db import alembic_config, upgrade
from permedhub.graph.indexing import reindex
from permedhub.search.index import SEARCH_TABLE

REINDEXING_REVISION = "0007"
CODE_IN_TEXT = "era-net-cofund · erapermed-research-areas"


def _documents(engine: Engine) -> list[tuple[object, ...]]:
    columns = [c for c in SEARCH_TABLE.c if c.name != "rowid"]
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(*columns).order_by(SEARCH_TABLE.c.entity_type, SEARCH_TABLE.c.entity_id)
            )
        ]


def test_a_reindex_writes_what_the_load_wrote(engine: Engine) -> None:
    loaded = _documents(engine)
    with engine.begin() as connection:
        reindex(connection)
    assert _documents(engine) == loaded and len(loaded) > 50


def test_the_migration_rewrites_documents_written_with_codes(engine: Engine) -> None:
    expected = _documents(engine)
    with engine.begin() as connection:  # as documents were before: codes in the body
        connection.execute(
            text("UPDATE search_document SET body = :codes || ' · ' || body, keys = ''"),
            {"codes": CODE_IN_TEXT},
        )
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    before = ScriptDirectory.from_config(config).get_revision(REINDEXING_REVISION).down_revision
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, str(before))
    upgrade(engine)
    assert _documents(engine) == expected
