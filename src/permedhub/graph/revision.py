"""The graph's revision: a number that every write to the graph raises, in the writing
transaction, so that whatever is built from the graph (a prepared download) can be kept and
served until the number moves.

Every write path calls `bump`: the importer (`loading.load`, behind the command line, the
curator's upload and the seed), the curator's edits and undos (`curation._audit`) and the
geography (`seed.load_geography`). A counter row rather than the last audit entry's id: on
PostgreSQL, a long load can commit after a quick edit that took a higher id, and the highest
id would then not move although the graph did; every commit that raises the row moves it.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from permedhub.graph.models import GraphRevision, table_of

REVISION = table_of(GraphRevision)
ROW = 1  # the table's only row, inserted by migration 0016


def bump(connection: Connection) -> None:
    """Raise the revision inside the caller's transaction (seen by others once it commits)."""
    raised = connection.execute(
        update(REVISION).where(REVISION.c.id == ROW).values(revision=REVISION.c.revision + 1)
    )
    if raised.rowcount == 0:  # a database made from the models, not by the migrations
        connection.execute(REVISION.insert().values(id=ROW, revision=1))


def current(connection: Connection) -> int:
    """The revision the caller's transaction sees (0 before the first write)."""
    value = connection.execute(select(REVISION.c.revision).where(REVISION.c.id == ROW)).scalar()
    return int(value or 0)
