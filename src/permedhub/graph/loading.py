"""Loading files into the graph: read, validate, check references, upsert, audit — atomically.

`load(engine, paths)` runs one transaction for all the files it is given: either every record is
stored (created, changed or found unchanged) or, on the first problem, nothing is, and a
`LoadError` lists what was wrong by file, row, field and value. Records are upserted by their
stable id, so loading the same file twice changes nothing the second time.

Files: YAML / JSON documents with lists under `organisations`, `initiatives`, `participations`,
`links`, `topics`, `calls`; JSON Lines (`.jsonl`, one record per line with an `entity` field) and
CSV (one entity per file, named by `--entity`, by the file name, or recognised from the header)
are streamed in chunks, so files larger than memory load too.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, bindparam, select, text, update

from permedhub.graph import activity, models
from permedhub.graph.bulk import insert_rows
from permedhub.graph.geography import REGIONS, known_codes
from permedhub.graph.models import table_of
from permedhub.graph.records import ENTITY_TYPE, TABLES, snapshot, to_row
from permedhub.graph.schemas import LOAD_ORDER, SCHEMAS, GraphDocument, Record
from permedhub.search.index import write_documents

CHUNK_ROWS = 2000
MAX_REPORTED_CHANGES = 1000  # a preview lists this many changes; counts cover all
MAX_ISSUES = 50
LIST_COLUMNS = {"aims", "countries", "target_regions", "topics", "expertise", "funders"}
JSON_COLUMNS = {"facts", "rules"}
CSV_SIGNATURES = {  # columns that tell which entity a CSV holds
    "participations": {"organisation", "initiative", "role"},
    "links": {"from", "to", "kind"},
    "calls": {"id", "initiative", "title"},
    "topics": {"id", "name", "kind", "parent"},
    "initiatives": {"id", "name", "kind", "start"},
    "organisations": {"id", "name", "country"},
}


@dataclass(frozen=True)
class LoadIssue:
    """One problem in one place: file, row (1-based record or line number), field and value."""

    file: str
    row: int | None
    field: str | None
    value: Any
    expected: str

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        what = f", field {self.field!r}" if self.field else ""
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}{what}{value}: {self.expected}"


class LoadError(ValueError):
    """A load that stored nothing, with every issue found (up to MAX_ISSUES)."""

    def __init__(self, issues: list[LoadIssue]):
        self.issues = issues
        head = "\n".join(f"  - {issue}" for issue in issues[:MAX_ISSUES])
        super().__init__(f"nothing was loaded; {len(issues)} problem(s):\n{head}")


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


@dataclass
class RawRecord:
    entity: str
    row: int
    data: dict[str, Any]


# ---------------------------------------------------------------- reading


def read_file(path: Path, entity: str | None = None) -> Iterator[RawRecord]:
    """Yield the records of one file in load order (streamed for CSV and JSON Lines)."""
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml", ".json"}:
        yield from _read_document(path)
    elif suffix in {".jsonl", ".ndjson"}:
        yield from _read_json_lines(path)
    elif suffix == ".csv":
        yield from _read_csv(path, entity)
    else:
        raise LoadError(
            [
                LoadIssue(
                    str(path),
                    None,
                    None,
                    path.suffix,
                    "unsupported file type: expected .yaml, .yml, .json, .jsonl, .ndjson or .csv",
                )
            ]
        )


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            [
                LoadIssue(
                    str(path),
                    None,
                    None,
                    None,
                    f"not valid UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start})",
                )
            ]
        ) from None
    except OSError as exc:
        raise LoadError([LoadIssue(str(path), None, None, None, f"cannot read: {exc}")]) from None


def _read_document(path: Path) -> Iterator[RawRecord]:
    content = _text(path)
    try:
        data = json.loads(content) if path.suffix.lower() == ".json" else yaml.safe_load(content)
    except json.JSONDecodeError as exc:
        raise LoadError(
            [
                LoadIssue(
                    str(path),
                    exc.lineno,
                    None,
                    None,
                    f"malformed JSON: {exc.msg} (column {exc.colno})",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise LoadError(
            [LoadIssue(str(path), line, None, None, f"malformed YAML: {problem}")]
        ) from None
    if data is None:
        raise LoadError([LoadIssue(str(path), None, None, None, "the file is empty")])
    if not isinstance(data, dict):
        raise LoadError(
            [
                LoadIssue(
                    str(path),
                    None,
                    None,
                    type(data).__name__,
                    "expected a mapping with lists under " + ", ".join(LOAD_ORDER),
                )
            ]
        )
    try:
        document = GraphDocument.model_validate(data)
    except ValidationError as exc:
        raise LoadError(
            [
                LoadIssue(
                    str(path),
                    None,
                    ".".join(str(p) for p in e["loc"]),
                    e.get("input"),
                    _expected(e),
                )
                for e in exc.errors()
            ][:MAX_ISSUES]
        ) from None
    for entity in LOAD_ORDER:
        records = [
            RawRecord(entity, n, item) for n, item in enumerate(getattr(document, entity), 1)
        ]
        yield from _parents_first(records) if entity == "topics" else records


def _parents_first(topics: list[RawRecord]) -> list[RawRecord]:
    """Topics ordered so that a parent is written before its children."""
    parent_of = {t.data.get("id"): t.data.get("parent") for t in topics}

    def depth(topic_id: Any) -> int:
        seen: set[Any] = set()
        while parent_of.get(topic_id) in parent_of and topic_id not in seen:
            seen.add(topic_id)
            topic_id = parent_of[topic_id]
        return len(seen)

    return sorted(topics, key=lambda t: depth(t.data.get("id")))


def _read_json_lines(path: Path) -> Iterator[RawRecord]:
    try:
        handle = path.open(encoding="utf-8")
        with handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise LoadError(
                        [
                            LoadIssue(
                                str(path), number, None, None, f"malformed JSON line: {exc.msg}"
                            )
                        ]
                    ) from None
                if not isinstance(data, dict) or data.get("entity") not in SCHEMAS:
                    raise LoadError(
                        [
                            LoadIssue(
                                str(path),
                                number,
                                "entity",
                                data.get("entity") if isinstance(data, dict) else data,
                                "expected an object with entity one of " + ", ".join(SCHEMAS),
                            )
                        ]
                    )
                entity = data.pop("entity")
                yield RawRecord(entity, number, data)
    except UnicodeDecodeError as exc:
        raise LoadError(
            [LoadIssue(str(path), None, None, None, f"not valid UTF-8: {exc.reason}")]
        ) from None


def _csv_entity(path: Path, header: list[str], entity: str | None) -> str:
    if entity:
        if entity not in SCHEMAS:
            raise LoadError(
                [
                    LoadIssue(
                        str(path), None, "entity", entity, "expected one of " + ", ".join(SCHEMAS)
                    )
                ]
            )
        return entity
    stem = path.stem.lower()
    for name in SCHEMAS:
        if stem.startswith(name) or stem.startswith(name.rstrip("s")):
            return name
    columns = set(header)
    for name, signature in CSV_SIGNATURES.items():
        if signature <= columns:
            return name
    raise LoadError(
        [
            LoadIssue(
                str(path),
                1,
                None,
                ",".join(header),
                "cannot tell which entity this CSV holds: name the file organisations.csv, "
                "initiatives.csv, participations.csv, links.csv, topics.csv or calls.csv, "
                "or pass --entity",
            )
        ]
    )


def _read_csv(path: Path, entity: str | None) -> Iterator[RawRecord]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise LoadError([LoadIssue(str(path), None, None, None, f"cannot read: {exc}")]) from None
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise LoadError([LoadIssue(str(path), None, None, None, "the file is empty")]) from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise LoadError([LoadIssue(str(path), 1, None, None, _csv_problem(exc))]) from None
        name = _csv_entity(path, header, entity)
        number = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                raise LoadError(
                    [LoadIssue(str(path), number + 1, None, None, _csv_problem(exc))]
                ) from None
            number += 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise LoadError(
                    [
                        LoadIssue(
                            str(path),
                            number,
                            None,
                            None,
                            f"expected {len(header)} cells as in the header, found {len(cells)} "
                            "(a truncated or malformed line)",
                        )
                    ]
                )
            yield RawRecord(
                name, number, _csv_record(path, number, dict(zip(header, cells, strict=True)))
            )


def _csv_problem(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 (byte {exc.object[exc.start]:#04x})"
    return f"malformed CSV: {exc}"


def _csv_record(path: Path, number: int, cells: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in cells.items():
        value = value.strip()
        if value == "":
            continue
        if key in LIST_COLUMNS:
            record[key] = [v.strip() for v in value.split(";") if v.strip()]
        elif key in JSON_COLUMNS or (key in {"uncertain", "approximate"} and value[:1] == "{"):
            try:
                record[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise LoadError(
                    [LoadIssue(str(path), number, key, value, f"expected a JSON object: {exc.msg}")]
                ) from None
        else:
            record[key] = value
    return record


# ---------------------------------------------------------------- validating


def _expected(error: Any) -> str:
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def validate(raw: RawRecord, file: str) -> Record:
    try:
        return SCHEMAS[raw.entity].model_validate(raw.data)
    except ValidationError as exc:
        raise LoadError(
            [
                LoadIssue(
                    file,
                    raw.row,
                    f"{raw.entity}.{'.'.join(str(p) for p in e['loc'])}"
                    if e["loc"]
                    else raw.entity,
                    e.get("input") if e["loc"] else None,
                    _expected(e),
                )
                for e in exc.errors()
            ]
        ) from None


# ---------------------------------------------------------------- writing


class _Batch:
    """Records of one entity waiting to be written together."""

    def __init__(self, entity: str):
        self.entity = entity
        self.items: list[tuple[str, int, Record, dict[str, Any]]] = []


def load(
    engine: Engine,
    paths: Iterable[Path | str],
    *,
    actor: str = "cli",
    entity: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Load files in one transaction; `dry_run` checks and counts, then rolls back."""
    report = LoadReport(batch=uuid.uuid4().hex)
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection:
        transaction = connection.begin()
        try:
            if connection.dialect.name == "postgresql":
                # Loads serialise: each diffs against what the previous one committed.
                connection.execute(text("SELECT pg_advisory_xact_lock(7172001)"))
            loader = _Loader(connection, report, actor)
            for path in map(Path, paths):
                for raw in read_file(path, entity):
                    loader.add(str(path), raw)
                    if progress:
                        progress(1)
                loader.flush_all()
            activity.refresh(connection, loader.places)
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    return report


class _Loader:
    def __init__(self, connection: Connection, report: LoadReport, actor: str):
        self.connection = connection
        self.report = report
        self.actor = actor
        self.batches: dict[str, _Batch] = {}
        self.seen: dict[tuple[str, str], tuple[str, int, int]] = {}
        self.places: set[str] = set()  # countries/subdivisions whose activity may have moved
        self.region_ids = {r.id for r in REGIONS}
        self.country_codes = known_codes()

    def add(self, file: str, raw: RawRecord) -> None:
        record = validate(raw, file)
        row = to_row(raw.entity, record)
        key = (raw.entity, str(row["id"]))
        fingerprint = hash(repr(row))
        earlier = self.seen.get(key)
        if earlier is not None and earlier[2] != fingerprint:
            raise LoadError(
                [
                    LoadIssue(
                        file,
                        raw.row,
                        f"{raw.entity}.id",
                        row["id"],
                        f"a unique id: {'this file' if earlier[0] == file else earlier[0]} "
                        f"already has it at row {earlier[1]} with different data",
                    )
                ]
            )
        if earlier is not None:
            return
        self.seen[key] = (file, raw.row, fingerprint)
        # Entities later in LOAD_ORDER may refer to earlier ones: write those first.
        for previous in LOAD_ORDER[: LOAD_ORDER.index(raw.entity)]:
            if previous in self.batches and self.batches[previous].items:
                self.flush(previous)
        batch = self.batches.setdefault(raw.entity, _Batch(raw.entity))
        batch.items.append((file, raw.row, record, row))
        if len(batch.items) >= CHUNK_ROWS:
            self.flush(raw.entity)

    def flush_all(self) -> None:
        for entity in LOAD_ORDER:
            if entity in self.batches and self.batches[entity].items:
                self.flush(entity)

    def flush(self, entity: str) -> None:
        batch = self.batches[entity]
        items, batch.items = batch.items, []
        self._check_references(entity, items)
        table = TABLES[entity]
        ids = [row["id"] for *_, row in items]
        existing = {
            r["id"]: snapshot(r)
            for r in self.connection.execute(select(table).where(table.c.id.in_(ids))).mappings()
        }
        counts = self.report.counts.setdefault(entity, EntityCounts())
        created: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        audit: list[dict[str, Any]] = []
        entity_type = ENTITY_TYPE[entity]
        for *_, row in items:
            old = existing.get(row["id"])
            if old is None:
                created.append(row)
                audit.append(self._audit("create", entity_type, row["id"], None, row))
                continue
            new = snapshot(row)
            if old != new:
                changed.append(row)
                audit.append(self._audit("update", entity_type, row["id"], old, new))
            else:
                counts.unchanged += 1
        self._note_places(entity, created, changed, existing)
        insert_rows(self.connection, table, created)
        if changed:
            self.connection.execute(
                update(table).where(table.c.id == bindparam("b_id")),
                [{**{k: v for k, v in r.items() if k != "id"}, "b_id": r["id"]} for r in changed],
            )
        insert_rows(self.connection, table_of(models.AuditEntry), audit)
        write_documents(self.connection, entity_type, created, changed)
        counts.created += len(created)
        counts.changed += len(changed)
        room = MAX_REPORTED_CHANGES - len(self.report.changes)
        self.report.changes.extend(
            {
                "action": a["action"],
                "entity_type": a["entity_type"],
                "entity_id": a["entity_id"],
                "old": a["old"],
                "new": snapshot(a["new"]),
            }
            for a in audit[: max(room, 0)]
        )

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
                self.places.update(
                    p
                    for p in (row["country_code"], row["subdivision_code"],
                              old["country_code"], old["subdivision_code"])
                    if p
                )  # fmt: skip
        elif entity == "participations":
            organisations = [r["organisation_id"] for r in [*created, *changed]]
            organisations += [existing[r["id"]]["organisation_id"] for r in changed]
            self.places |= activity.places_of_organisations(self.connection, organisations)

    def _audit(
        self,
        action: str,
        entity_type: str,
        entity_id: str,
        old: dict[str, Any] | None,
        new: dict[str, Any],
    ) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "old": old,
            "new": new,
            "batch": self.report.batch,
        }

    def _check_references(
        self, entity: str, items: list[tuple[str, int, Record, dict[str, Any]]]
    ) -> None:
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
            for *_, row in items:
                value = row.get(column_name)
                wanted.update(value if isinstance(value, list) else [value] if value else [])
            found = set(self.connection.execute(select(column).where(column.in_(wanted))).scalars())
            missing = wanted - found
            if target == ENTITY_TYPE[entity]:  # e.g. a topic's parent in the same chunk
                missing -= {row["id"] for *_, row in items}
            for file, number, _record, row in items:
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
            for file, number, _record, row in items:
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
