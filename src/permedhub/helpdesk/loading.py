"""Loading helpdesk files (YAML or JSON) into the knowledge base: atomically, every problem listed.

`load(engine, paths)` validates every record of every file first (graph.preparing's reader and
issue format, the helpdesk's schemas), then checks the organisations they name, then writes all
of them in one transaction, upserted by stable id with an audit entry per record created or
changed. Any problem anywhere stores nothing and raises one `LoadError` listing each problem by
file, row, field and value (up to MAX_ISSUES).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, bindparam, select, update

from permedhub.bulk import dumps_bytes, insert_rows
from permedhub.db import among, loading_transaction, table_of
from permedhub.graph import models as graph_models
from permedhub.graph.loading import EntityCounts, LoadReport
from permedhub.graph.preparing import (
    MAX_ISSUES,
    LoadError,
    LoadIssue,
    read_mapping,
    validation_issues,
)
from permedhub.graph.records import snapshot
from permedhub.helpdesk.indexing import reindex
from permedhub.helpdesk.models import ENTITY_TYPE, TABLES
from permedhub.helpdesk.schemas import SCHEMAS, SECTIONS, HelpdeskDocument

__all__ = ["LoadError", "LoadIssue", "LoadReport", "load"]

# Field names of the files -> columns, where they differ.
COLUMNS = {"organisation": "organisation_id"}


@dataclass
class Prepared:
    """The validated rows of all files, per section, with where each came from."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    origins: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, section: str, row: dict[str, Any], file: str, number: int) -> None:
        self.rows.setdefault(section, []).append(row)
        self.origins.setdefault(section, []).append((file, number))


def to_row(record: Any) -> dict[str, Any]:
    """A validated record as its table row."""
    return {COLUMNS.get(name, name): value for name, value in record.model_dump().items()}


def prepare(paths: Iterable[Path | str]) -> tuple[Prepared, list[LoadIssue]]:
    """Read and validate every file: the valid rows, and every problem found."""
    prepared = Prepared()
    issues: list[LoadIssue] = []
    seen: dict[tuple[str, str], tuple[str, int, bytes]] = {}
    for path in map(Path, paths):
        file = str(path)
        try:
            mapping = read_mapping(path, SECTIONS)
            document = HelpdeskDocument.model_validate(mapping.data)
        except LoadError as error:
            issues.extend(error.issues)
            continue
        except ValidationError as exc:
            issues.extend(validation_issues(exc, file, None, document=mapping))
            continue
        for section in SECTIONS:
            for index, data in enumerate(getattr(document, section)):
                number = mapping.line_of(section, index)
                try:
                    row = to_row(SCHEMAS[section].model_validate(data))
                except ValidationError as exc:
                    issues.extend(validation_issues(exc, file, number, section))
                    continue
                key, fingerprint = (section, row["id"]), dumps_bytes(row)
                earlier = seen.setdefault(key, (file, number, fingerprint))
                if earlier[:2] == (file, number):
                    prepared.add(section, row, file, number)
                elif earlier[2] != fingerprint:
                    where = "this file" if earlier[0] == file else earlier[0]
                    issues.append(
                        LoadIssue(
                            file,
                            number,
                            f"{section}.id",
                            row["id"],
                            f"a unique id: {where} already has it at row {earlier[1]} "
                            "with different data",
                        )
                    )
    return prepared, issues


def load(
    engine: Engine, paths: Iterable[Path | str], *, actor: str = "cli", dry_run: bool = False
) -> LoadReport:
    """Load helpdesk files in one transaction; `dry_run` checks and counts, then rolls back."""
    prepared, issues = prepare(paths)
    report = LoadReport(batch=uuid.uuid4().hex)
    with loading_transaction(engine, dry_run=dry_run) as connection:
        # The valid rows' references are checked too, so one run lists every problem.
        issues += _organisation_issues(connection, prepared)
        if issues:
            raise LoadError(issues[:MAX_ISSUES])
        for section in SECTIONS:
            _write(connection, report, section, prepared.rows.get(section, []), actor)
        # In the same transaction: the helpdesk finds what was stored, or nothing changed.
        reindex(connection)
    return report


def _organisation_issues(connection: Connection, prepared: Prepared) -> list[LoadIssue]:
    """Every `organisation` named exists in the graph, in the record's country where the graph
    gives one."""
    organisation = graph_models.Organisation
    named = {
        row["organisation_id"]
        for rows in prepared.rows.values()
        for row in rows
        if row.get("organisation_id")
    }
    countries: dict[str, str | None] = {
        row.id: row.country_code
        for row in connection.execute(
            select(organisation.id, organisation.country_code).where(
                among(connection.dialect.name, organisation.id, named)
            )
        )
    }
    issues: list[LoadIssue] = []
    for section, rows in prepared.rows.items():
        for row, (file, number) in zip(rows, prepared.origins[section], strict=True):
            wanted = row.get("organisation_id")
            if not wanted:
                continue
            if wanted not in countries:
                issues.append(
                    LoadIssue(
                        file,
                        number,
                        f"{section}.organisation",
                        wanted,
                        "the id of an organisation of the knowledge graph (none has this id)",
                    )
                )
            elif countries[wanted] and row["jurisdiction"] not in (countries[wanted], "EU"):
                issues.append(
                    LoadIssue(
                        file,
                        number,
                        f"{section}.jurisdiction",
                        row["jurisdiction"],
                        f"{countries[wanted]}, the country of organisation {wanted!r}",
                    )
                )
    return issues


def _write(
    connection: Connection,
    report: LoadReport,
    section: str,
    rows: list[dict[str, Any]],
    actor: str,
) -> None:
    """Upsert one section's rows by id, with an audit entry for each created or changed."""
    if not rows:
        return
    table = TABLES[section]
    counts = report.counts.setdefault(section, EntityCounts())
    existing = {
        r["id"]: snapshot(r)
        for r in connection.execute(
            select(table).where(
                among(connection.dialect.name, table.c.id, [row["id"] for row in rows])
            )
        ).mappings()
    }
    created, changed, audit = [], [], []
    for row in rows:
        old = existing.get(row["id"])
        if old is None:
            created.append(row)
            action, new = "create", None  # as the graph's loads: no copy of a created record
        elif old != (new := snapshot(row)):
            changed.append(row)
            action = "update"
        else:
            counts.unchanged += 1
            continue
        audit.append(
            {
                "actor": actor,
                "action": action,
                "entity_type": ENTITY_TYPE[section],
                "entity_id": row["id"],
                "old": old,
                "new": new,
                "batch": report.batch,
            }
        )
    insert_rows(connection, table, created)
    if changed:
        connection.execute(
            update(table).where(table.c.id == bindparam("b_id")),
            [{**{k: v for k, v in r.items() if k != "id"}, "b_id": r["id"]} for r in changed],
        )
    insert_rows(connection, table_of(graph_models.AuditEntry), audit)
    counts.created += len(created)
    counts.changed += len(changed)
