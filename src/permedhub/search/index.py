"""Writing the index: the one interface through which other packages keep search in step.

A caller describes each record as a `Document` (what a person wrote, apart from the codes it
is also found by) and writes it on its own connection, inside its own transaction: a write
that fails leaves the index as it was, with the records it describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, update

from permedhub.bulk import insert_rows
from permedhub.db import table_of
from permedhub.search.models import SearchDocument
from permedhub.search.text import spelling_keys

SEARCH_TABLE = table_of(SearchDocument)


@dataclass(frozen=True)
class Document:
    """One record as search finds and shows it.

    `text` is shown (snippets come from it) and so holds only what a person wrote; `names`
    (besides the title and acronym) are matched in their spelling variants and `codes` (ids,
    kinds) as they are, and neither is ever shown.
    """

    entity_type: str
    entity_id: str
    title: str
    acronym: str = ""
    text: str = ""
    names: Sequence[str | None] = ()
    codes: Sequence[str] = ()
    country_code: str | None = None
    kind: str | None = None


def _row(document: Document) -> dict[str, Any]:
    keys = spelling_keys(document.title, document.acronym, *document.names)
    codes = " ".join(code for code in document.codes if code)
    return {
        "entity_type": document.entity_type,
        "entity_id": document.entity_id,
        "title": document.title,
        "acronym": document.acronym,
        "keys": f"{keys} {codes}" if keys and codes else keys or codes,
        "body": document.text,
        "country_code": document.country_code,
        "kind": document.kind,
    }


def index_documents(
    connection: Connection, created: Iterable[Document], changed: Iterable[Document]
) -> None:
    """Index new records and re-index changed ones (the FTS5 triggers / tsvector follow)."""
    insert_rows(connection, SEARCH_TABLE, [_row(d) for d in created])
    changed_rows = [_row(d) for d in changed]
    if changed_rows:
        connection.execute(
            update(SEARCH_TABLE)
            .where(SEARCH_TABLE.c.entity_type == bindparam("b_type"))
            .where(SEARCH_TABLE.c.entity_id == bindparam("b_id")),
            [
                {
                    **{k: v for k, v in r.items() if k not in ("entity_type", "entity_id")},
                    "b_type": r["entity_type"],
                    "b_id": r["entity_id"],
                }
                for r in changed_rows
            ],
        )


def remove_document(connection: Connection, entity_type: str, entity_id: str) -> None:
    connection.execute(
        delete(SEARCH_TABLE).where(
            SEARCH_TABLE.c.entity_type == entity_type, SEARCH_TABLE.c.entity_id == entity_id
        )
    )


def remove_documents(connection: Connection, entity_type: str) -> None:
    """Remove every document of `entity_type` (before indexing them all anew)."""
    connection.execute(delete(SEARCH_TABLE).where(SEARCH_TABLE.c.entity_type == entity_type))
