"""Importing mapping records (a survey in CSV or XLSX, or YAML / JSON files such as the seed):
every row validated, every reference checked, then all written in one transaction or nothing.

`load(engine, paths)` reads each file (`survey.read_survey`, or graph.preparing's YAML/JSON
reader with a `records:` list), validates each row with `schemas.MappingRecordIn`, refuses an
id used twice, checks the topics, regions and organisations named against the database, and
writes the records upserted by id, with an audit entry per record created or changed and their
places and topics rewritten. Any problem stores nothing and raises one `LoadError` listing each
by file, row, column and value (up to MAX_ISSUES). `dry_run` does all of it and rolls back, so
its report says what the import would add.
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, bindparam, delete, select, update

from permedhub.atlas import cells
from permedhub.atlas.models import ENTITY_TYPE, PLACES, RECORDS, REGIONS, TOPICS
from permedhub.atlas.schemas import MappingRecordIn
from permedhub.atlas.survey import RawRow, read_survey
from permedhub.bulk import insert_rows
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

__all__ = ["LoadError", "LoadIssue", "LoadReport", "load", "prepare", "to_row"]

SECTION = "records"


@dataclass
class Prepared:
    """The valid rows of every file, and where each came from."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    origins: list[tuple[str, int]] = field(default_factory=list)


def to_row(record: MappingRecordIn) -> dict[str, Any]:
    """A validated record as its `atlas_record` row (dates as first/last day plus precision)."""
    return {
        "id": record.id,
        "name": record.name,
        "acronym": record.acronym,
        "type": record.type,
        "countries": record.countries,
        "regions": record.regions,
        "organisation_id": record.organisation,
        "status": record.status,
        "start_date": record.start.first_day() if record.start else None,
        "start_precision": record.start.precision if record.start else None,
        "end_date": record.end.last_day() if record.end else None,
        "end_precision": record.end.precision if record.end else None,
        "topics": record.topics,
        "capacity": record.capacity,
        "website": record.website,
        "description": record.description,
        "notes": record.notes,
        "source": record.source,
        "sources": record.sources,
        "uncertain": record.uncertain,
        "approximate": record.approximate,
    }


def _document_rows(path: Path) -> Iterator[RawRow]:
    """The `records:` of a YAML or JSON file, each on the line its item starts on."""
    document = read_mapping(path, (SECTION,))
    unknown = sorted(set(document.data) - {SECTION, "meta"})
    if unknown:
        raise LoadError(
            [
                LoadIssue(
                    str(path),
                    None,
                    ", ".join(unknown),
                    None,
                    "only `records:` (and `meta:`) at the top of an atlas file",
                )
            ]
        )
    items = document.data.get(SECTION) or []
    if not isinstance(items, list):
        raise LoadError(
            [LoadIssue(str(path), None, SECTION, type(items).__name__, "a list of records")]
        )
    for index, item in enumerate(items):
        number = document.line_of(SECTION, index)
        if not isinstance(item, dict):
            raise LoadError([LoadIssue(str(path), number, None, item, "a record (a mapping)")])
        yield RawRow(number, item)


def _rows_of(path: Path) -> Iterator[RawRow]:
    if path.suffix.lower() in {".yaml", ".yml", ".json"}:
        yield from _document_rows(path)
    else:
        yield from read_survey(path)


def prepare(paths: Iterable[Path | str]) -> tuple[Prepared, list[LoadIssue]]:
    """Read and validate every row of every file: the valid rows and every problem found."""
    prepared = Prepared()
    issues: list[LoadIssue] = []
    seen: dict[str, tuple[str, int]] = {}
    for path in map(Path, paths):
        file = str(path)
        try:
            for raw in _rows_of(path):
                try:
                    row = to_row(MappingRecordIn.model_validate(raw.data))
                except ValidationError as exc:
                    issues.extend(validation_issues(exc, file, raw.row))
                    continue
                earlier = seen.setdefault(row["id"], (file, raw.row))
                if earlier != (file, raw.row):
                    where = "this file" if earlier[0] == file else earlier[0]
                    issues.append(
                        LoadIssue(
                            file,
                            raw.row,
                            "id",
                            row["id"],
                            f"a unique id: {where} already has it at row {earlier[1]}",
                        )
                    )
                    continue
                prepared.rows.append(row)
                prepared.origins.append((file, raw.row))
                if len(issues) >= MAX_ISSUES:
                    break
        except LoadError as error:
            issues.extend(error.issues)
    return prepared, issues


def load(
    engine: Engine, paths: Iterable[Path | str], *, actor: str = "cli", dry_run: bool = False
) -> LoadReport:
    """Load mapping files in one transaction; `dry_run` checks and counts, then rolls back."""
    prepared, issues = prepare(paths)
    report = LoadReport(batch=uuid.uuid4().hex)
    with loading_transaction(engine, dry_run=dry_run) as connection:
        issues += reference_issues(connection, prepared)
        if issues:
            raise LoadError(issues[:MAX_ISSUES])
        _write(connection, report, prepared.rows, actor)
    return report


def _known(connection: Connection, column: Any, wanted: set[str]) -> set[str]:
    if not wanted:
        return set()
    return set(
        connection.execute(
            select(column).where(among(connection.dialect.name, column, wanted))
        ).scalars()
    )


def reference_issues(connection: Connection, prepared: Prepared) -> list[LoadIssue]:
    """Every topic, region and organisation a row names exists in the graph."""
    topics = _known(
        connection, graph_models.Topic.id, {t for row in prepared.rows for t in row["topics"]}
    )
    regions = _known(
        connection, graph_models.Region.id, {r for row in prepared.rows for r in row["regions"]}
    )
    organisations = _known(
        connection,
        graph_models.Organisation.id,
        {row["organisation_id"] for row in prepared.rows if row["organisation_id"]},
    )
    all_topics: list[str] | None = None
    all_regions: list[str] | None = None
    issues: list[LoadIssue] = []
    for row, (file, number) in zip(prepared.rows, prepared.origins, strict=True):
        for topic in row["topics"]:
            if topic not in topics:
                if all_topics is None:
                    all_topics = list(connection.execute(select(graph_models.Topic.id)).scalars())
                issues.append(
                    LoadIssue(
                        file,
                        number,
                        "topics",
                        topic,
                        "a topic id of the ICPerMed taxonomy in the graph"
                        + _close(topic, all_topics),
                    )
                )
        for region in row["regions"]:
            if region not in regions:
                if all_regions is None:
                    all_regions = sorted(
                        connection.execute(select(graph_models.Region.id)).scalars()
                    )
                issues.append(
                    LoadIssue(
                        file,
                        number,
                        "regions",
                        region,
                        f"a region id of the graph (one of {', '.join(all_regions)})",
                    )
                )
        wanted = row["organisation_id"]
        if wanted and wanted not in organisations:
            issues.append(
                LoadIssue(
                    file,
                    number,
                    "organisation",
                    wanted,
                    "the id of an organisation of the knowledge graph (none has this id); "
                    "leave it empty and name it in `notes` if the graph lacks it",
                )
            )
    return issues


def _refresh_cells(
    connection: Connection, written: list[dict[str, Any]], before: list[dict[str, Any]]
) -> None:
    """Rewrite the coverage cells of every place a written record is in, or was in before."""
    if not written:
        return
    countries = {c.split("-")[0] for row in [*written, *before] for c in row["countries"] or []}
    regions = {r for row in [*written, *before] for r in row["regions"] or []}
    if countries:
        regions |= set(
            connection.execute(
                select(graph_models.RegionMembership.region_id)
                .where(
                    among(
                        connection.dialect.name,
                        graph_models.RegionMembership.country_code,
                        countries,
                    )
                )
                .distinct()
            ).scalars()
        )
    cells.refresh(connection, countries, regions)


def _close(value: str, known: list[str]) -> str:
    matches = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
    return f" (did you mean {', '.join(matches)}?)" if matches else ""


def _write(
    connection: Connection, report: LoadReport, rows: list[dict[str, Any]], actor: str
) -> None:
    """Upsert the records by id (an audit entry for each created or changed), then rewrite the
    places and topics of those written."""
    counts = report.counts.setdefault(SECTION, EntityCounts())
    if not rows:
        return
    existing: dict[str, dict[str, Any]] = {}
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), 20_000):
        chunk = ids[start : start + 20_000]
        existing.update(
            (r["id"], snapshot(r))
            for r in connection.execute(
                select(RECORDS).where(among(connection.dialect.name, RECORDS.c.id, chunk))
            ).mappings()
        )
    created, changed, audit = [], [], []
    for row in rows:
        old = existing.get(row["id"])
        if old is None:
            created.append(row)
            action = "create"  # as the graph's loads: no copy of a created record
        elif old != snapshot(row):
            changed.append(row)
            action = "update"
        else:
            counts.unchanged += 1
            continue
        audit.append(
            {
                "actor": actor,
                "action": action,
                "entity_type": ENTITY_TYPE,
                "entity_id": row["id"],
                "old": old,
                "new": None if old is None else snapshot(row),
                "batch": report.batch,
            }
        )
    insert_rows(connection, RECORDS, created)
    if changed:
        connection.execute(
            update(RECORDS).where(RECORDS.c.id == bindparam("b_id")),
            [{**{k: v for k, v in r.items() if k != "id"}, "b_id": r["id"]} for r in changed],
        )
        written = [r["id"] for r in changed]
        for table in (PLACES, REGIONS, TOPICS):
            connection.execute(
                delete(table).where(among(connection.dialect.name, table.c.record_id, written))
            )
    places: list[dict[str, str]] = []
    regions: list[dict[str, str]] = []
    topics: list[dict[str, str]] = []
    for row in [*created, *changed]:
        for code in row["countries"]:
            places.append(
                {"record_id": row["id"], "place_code": code, "country_code": code.split("-")[0]}
            )
        regions.extend(
            {"record_id": row["id"], "region_id": r} for r in dict.fromkeys(row["regions"])
        )
        topics.extend({"record_id": row["id"], "topic_id": t} for t in dict.fromkeys(row["topics"]))
    insert_rows(connection, PLACES, places)
    insert_rows(connection, REGIONS, regions)
    insert_rows(connection, TOPICS, topics)
    insert_rows(connection, table_of(graph_models.AuditEntry), audit)
    _refresh_cells(connection, [*created, *changed], [existing[r["id"]] for r in changed])
    counts.created += len(created)
    counts.changed += len(changed)
