"""What each record of the graph is found by: its search document (`search.index.Document`).

Loads, edits and undos call `write_documents` (and `search.index.remove_document`) on their own
connection, so the index changes in the same transaction as the records it describes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, select

from permedhub.graph import models
from permedhub.graph.geography import country_rows
from permedhub.graph.models import table_of
from permedhub.search import index
from permedhub.search.index import Document

INDEXED = {"organisation", "initiative", "topic", "call"}
# The tables of the indexed records and the columns `document` reads: a re-index selects only
# these, so that it also runs from a migration, before later ones add columns to the tables.
INDEXED_COLUMNS: dict[str, tuple[Table, tuple[str, ...]]] = {
    "organisation": (
        table_of(models.Organisation),
        (
            "id",
            "name",
            "acronym",
            "kind",
            "city",
            "country_code",
            "subdivision_code",
            "expertise",
            "notes",
        ),
    ),
    "initiative": (
        table_of(models.Initiative),
        ("id", "name", "acronym", "kind", "programme", "grant_id", "summary", "aims", "topics"),
    ),
    "topic": (table_of(models.Topic), ("id", "name", "kind")),
    "call": (table_of(models.Call), ("id", "title", "initiative_id", "year", "procedure")),
}
REINDEX_CHUNK = 5000


@cache
def _place_names() -> dict[str, str]:
    return {str(row["code"]): str(row["name"]) for row in country_rows()}


def _parts(*values: Any) -> list[str]:
    """The values given, lists item by item, without empty ones."""
    out: list[str] = []
    for value in values:
        items = value if isinstance(value, list | tuple) else [value]
        out.extend(str(item) for item in items if item is not None and item != "")
    return out


def _text(*values: Any) -> str:
    """What a person wrote, one part after another."""
    return " · ".join(_parts(*values))


def document(entity_type: str, row: dict[str, Any]) -> Document:
    """The search document of one row of `entity_type`: ids, kinds and topic ids are codes,
    matched but never shown."""
    if entity_type == "organisation":
        names = _place_names()
        country = row.get("country_code")
        return Document(
            entity_type,
            row["id"],
            title=row["name"],
            acronym=row.get("acronym") or "",
            text=_text(
                row.get("city"),
                names.get(country or ""),
                names.get(row.get("subdivision_code") or ""),
                row.get("notes"),
            ),
            codes=_parts(row.get("kind"), row.get("expertise")),
            country_code=country,
            kind=row.get("kind"),
        )
    if entity_type == "initiative":
        return Document(
            entity_type,
            row["id"],
            title=row["name"],
            acronym=row.get("acronym") or "",
            text=_text(row.get("programme"), row.get("summary"), row.get("aims")),
            names=[row["id"]],
            codes=_parts(row.get("kind"), row.get("grant_id"), row.get("topics")),
            kind=row.get("kind"),
        )
    if entity_type == "topic":
        return Document(
            entity_type,
            row["id"],
            title=row["name"],
            codes=_parts(row.get("kind")),
            kind=row.get("kind"),
        )
    if entity_type == "call":
        return Document(
            entity_type,
            row["id"],
            title=row["title"],
            names=[row["id"]],
            codes=_parts(row.get("initiative_id"), row.get("year"), row.get("procedure")),
            kind="call",
        )
    raise ValueError(f"entity type {entity_type!r} is not indexed; expected one of {INDEXED}")


def write_documents(
    connection: Connection,
    entity_type: str,
    created: Iterable[dict[str, Any]],
    changed: Iterable[dict[str, Any]],
) -> None:
    """Index new rows of `entity_type` and re-index changed ones (other types: nothing)."""
    if entity_type not in INDEXED:
        return
    index.index_documents(
        connection,
        [document(entity_type, row) for row in created],
        [document(entity_type, row) for row in changed],
    )


def reindex(connection: Connection) -> None:
    """Write every indexed record's search document anew (after `document` has changed)."""
    for entity_type, (table, columns) in INDEXED_COLUMNS.items():
        index.remove_documents(connection, entity_type)
        stmt = select(*(table.c[name] for name in columns)).order_by(table.c.id)
        last: str | None = None
        while True:
            chunk = stmt if last is None else stmt.where(table.c.id > last)
            rows = [dict(r) for r in connection.execute(chunk.limit(REINDEX_CHUNK)).mappings()]
            if not rows:
                break
            index.index_documents(connection, [document(entity_type, row) for row in rows], [])
            last = rows[-1]["id"]
