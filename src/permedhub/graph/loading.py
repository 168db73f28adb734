"""Loading files into the graph: check references, upsert, audit — atomically.

`load(engine, paths)` runs one transaction for all the files it is given: either every record is
stored (created, changed or found unchanged) or, on the first problem, nothing is, and a
`LoadError` lists what was wrong by file, row, field and value. Records are upserted by their
stable id, so loading the same file twice changes nothing the second time.

Files (YAML / JSON documents, JSON Lines, CSV) are read and validated by
`permedhub.graph.preparing`, in a second process when they are big; this module writes what it
prepares, chunk by chunk, so files larger than memory load too.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    select,
    text,
    update,
)

from permedhub.bulk import insert_rows
from permedhub.db import among
from permedhub.graph import activity, models, revision
from permedhub.graph.geography import REGIONS, known_codes
from permedhub.graph.indexing import write_documents
from permedhub.graph.models import table_of
from permedhub.graph.preparing import (
    Chunk,
    LoadError,
    LoadIssue,
    prepare,
    prepare_in_background,
)
from permedhub.graph.records import ENTITY_TYPE, TABLES, snapshot

__all__ = ["LoadError", "LoadIssue", "LoadReport", "load"]

MAX_REPORTED_CHANGES = 1000  # a preview lists this many changes; counts cover all
# Inputs this big are read and validated in a second process; below it, starting one (about
# half a second) costs more than it saves.
BACKGROUND_BYTES = 8 * 1024 * 1024
REFERENCED = {"organisation", "initiative", "topic"}  # what other records name by id
VACUUM_ROWS = 10_000  # on PostgreSQL, a load writing this many rows is vacuumed afterwards


@dataclass
class EntityCounts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass
class LoadReport:
    """What a load did (or, for a preview, would do), per entity."""

    batch: str
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(c.created + c.changed + c.unchanged for c in self.counts.values())

    @property
    def written(self) -> int:
        return sum(c.created + c.changed for c in self.counts.values())


def load(
    engine: Engine,
    paths: Iterable[Path | str],
    *,
    actor: str = "cli",
    entity: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    background: bool | None = None,
) -> LoadReport:
    """Load files in one transaction; `dry_run` checks and counts, then rolls back.

    `background` reads and validates in a second process (None: when the files are at least
    BACKGROUND_BYTES together); the result is the same either way."""
    files = [Path(p) for p in paths]
    if background is None:
        background = sum(_size(f) for f in files) >= BACKGROUND_BYTES
    report = LoadReport(batch=uuid.uuid4().hex)
    with (
        _no_cyclic_gc(),
        engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection,
    ):
        transaction = connection.begin()
        try:
            if connection.dialect.name == "postgresql":
                # Loads serialise: each diffs against what the previous one committed.
                connection.execute(text("SELECT pg_advisory_xact_lock(7172001)"))
            else:
                # Index pages of a million-row load stay in memory (default: 2 MB).
                connection.exec_driver_sql("PRAGMA cache_size=-262144")
            loader = _Loader(connection, report, actor)
            chunks = prepare_in_background(files, entity) if background else prepare(files, entity)
            with closing(chunks):  # on a failure here, the reading process stops at once
                for chunk in chunks:
                    loader.write(chunk)
                    if progress:
                        progress(len(chunk.rows))
            activity.refresh(connection, loader.places())
            if report.written:  # loading the same file again changes nothing, nor the revision
                revision.bump(connection)
        except BaseException:
            transaction.rollback()
            raise
        finally:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA cache_size=-2000")
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    if not dry_run and engine.dialect.name == "postgresql" and report.written >= VACUUM_ROWS:
        _vacuum(engine, report)
    return report


def _vacuum(engine: Engine, report: LoadReport) -> None:
    """VACUUM (ANALYZE) what a big load wrote, on PostgreSQL, once it is committed.

    Until autovacuum comes round (a minute or more), freshly loaded pages are not marked
    all-visible, so counts that could be answered from an index read the table too (a country's
    organisations: ~5 ms instead of ~0.5 ms), and the planner has no statistics for the new
    rows. About 1.4 s after the 1.1-million-row benchmark load; VACUUM cannot run inside the
    load's transaction.
    """
    tables = [TABLES[entity].name for entity, c in report.counts.items() if c.created + c.changed]
    tables += [
        table_of(models.AuditEntry).name,
        table_of(models.SearchDocument).name,
        activity.ACTIVITY.name,
        activity.PLACE_TOTAL.name,
        activity.INITIATIVE_ACTIVITY.name,
    ]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(tables)}")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it reports the problem


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a load allocates millions of short-lived containers
    and keeps none in cycles, and the collector's passes over them cost a sixth of its time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Loader:
    """Writes prepared chunks: reference checks, upserts, audit entries, search documents."""

    def __init__(self, connection: Connection, report: LoadReport, actor: str):
        self.connection = connection
        self.dialect = connection.dialect.name
        self.report = report
        self.actor = actor
        # Ids known to exist in this transaction, per entity type: bulk participations name the
        # same organisations and initiatives over and over.
        self.existing_ids: dict[str, set[str]] = {}
        self.moved_places: set[str] = set()  # countries/subdivisions whose activity may move
        self.participants: set[str] = set()  # organisations whose participations changed
        self.region_ids = {r.id for r in REGIONS}
        self.country_codes = known_codes()

    def places(self) -> set[str]:
        return self.moved_places | activity.places_of_organisations(
            self.connection, self.participants
        )

    def write(self, chunk: Chunk) -> None:
        entity, rows = chunk.entity, chunk.rows
        self._check_references(chunk)
        table = TABLES[entity]
        entity_type = ENTITY_TYPE[entity]
        existing = {
            r["id"]: snapshot(r)
            for r in self.connection.execute(
                select(table).where(among(self.dialect, table.c.id, [row["id"] for row in rows]))
            ).mappings()
        }
        counts = self.report.counts.setdefault(entity, EntityCounts())
        created: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        audit: list[dict[str, Any]] = []
        room = MAX_REPORTED_CHANGES - len(self.report.changes)
        for row in rows:
            old = existing.get(row["id"])
            if old is None:
                created.append(row)
                # No copy of the new record (see models.AuditEntry): a million-row load would
                # store every row twice.
                audit.append(self._audit("create", entity_type, row, None, None))
            elif old != (new := snapshot(row)):
                changed.append(row)
                audit.append(self._audit("update", entity_type, row, old, new))
            else:
                counts.unchanged += 1
                continue
            if room > 0:
                room -= 1
                self.report.changes.append(
                    {
                        "action": audit[-1]["action"],
                        "entity_type": entity_type,
                        "entity_id": row["id"],
                        "old": old,
                        "new": snapshot(row),
                    }
                )
        self._note_places(entity, created, changed, existing)
        insert_rows(self.connection, table, created)
        if entity_type in REFERENCED:
            self.existing_ids.setdefault(entity_type, set()).update(row["id"] for row in created)
        if changed:
            self.connection.execute(
                update(table).where(table.c.id == bindparam("b_id")),
                [{**{k: v for k, v in r.items() if k != "id"}, "b_id": r["id"]} for r in changed],
            )
        insert_rows(self.connection, table_of(models.AuditEntry), audit)
        write_documents(self.connection, entity_type, created, changed)
        counts.created += len(created)
        counts.changed += len(changed)

    def _note_places(
        self,
        entity: str,
        created: list[dict[str, Any]],
        changed: list[dict[str, Any]],
        existing: dict[str, dict[str, Any]],
    ) -> None:
        if entity == "organisations":
            for row in changed:
                old = existing[row["id"]]
                self.moved_places.update(
                    p
                    for p in (row["country_code"], row["subdivision_code"],
                              old["country_code"], old["subdivision_code"])
                    if p
                )  # fmt: skip
        elif entity == "participations":
            self.participants.update(r["organisation_id"] for r in created)
            self.participants.update(r["organisation_id"] for r in changed)
            self.participants.update(existing[r["id"]]["organisation_id"] for r in changed)

    def _audit(
        self,
        action: str,
        entity_type: str,
        row: dict[str, Any],
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": row["id"],
            "old": old,
            "new": new,
            "batch": self.report.batch,
        }

    def _check_references(self, chunk: Chunk) -> None:
        entity, rows = chunk.entity, chunk.rows
        checks: list[tuple[str, str, Any]] = []  # (field, referenced table, column)
        if entity == "participations":
            checks = [
                ("organisation_id", "organisation", models.Organisation.id),
                ("initiative_id", "initiative", models.Initiative.id),
            ]
        elif entity == "links":
            checks = [
                ("from_id", "initiative", models.Initiative.id),
                ("to_id", "initiative", models.Initiative.id),
            ]
        elif entity == "calls":
            checks = [
                ("initiative_id", "initiative", models.Initiative.id),
                ("secretariat_id", "organisation", models.Organisation.id),
                ("funder_ids", "organisation", models.Organisation.id),
            ]
        elif entity == "topics":
            checks = [("parent_id", "topic", models.Topic.id)]
        elif entity == "initiatives":
            checks = [("topics", "topic", models.Topic.id)]
        issues: list[LoadIssue] = []
        for column_name, target, column in checks:
            wanted: set[str] = set()
            for row in rows:
                value = row.get(column_name)
                wanted.update(value if isinstance(value, list) else [value] if value else [])
            known = self.existing_ids.setdefault(target, set())
            wanted -= known
            found = set(
                self.connection.execute(
                    select(column).where(among(self.dialect, column, wanted))
                ).scalars()
            )
            known |= found
            missing = wanted - found
            if target == ENTITY_TYPE[entity]:  # e.g. a topic's parent in the same chunk
                missing -= {row["id"] for row in rows}
            if not missing:
                continue
            for row, file, number in zip(rows, chunk.files, chunk.numbers, strict=True):
                value = row.get(column_name)
                for ref in value if isinstance(value, list) else [value]:
                    if ref in missing:
                        issues.append(
                            LoadIssue(
                                file,
                                number,
                                f"{entity}.{column_name}",
                                ref,
                                f"the id of an existing {target} (none has this id)",
                            )
                        )
        if entity == "initiatives":
            for row, file, number in zip(rows, chunk.files, chunk.numbers, strict=True):
                for region in row["target_regions"]:
                    if region not in self.region_ids and region not in self.country_codes:
                        issues.append(
                            LoadIssue(
                                file,
                                number,
                                "initiatives.target_regions",
                                region,
                                "a region id ("
                                + ", ".join(sorted(self.region_ids))
                                + ") or an ISO country code",
                            )
                        )
        if issues:
            raise LoadError(issues)
