"""What each entity is found by: one search document per organisation, initiative, topic, call."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import pycountry
from sqlalchemy import Connection, bindparam, delete, update

from permedhub.graph.bulk import insert_rows
from permedhub.graph.models import SearchDocument, table_of
from permedhub.search.text import spelling_keys

INDEXED = {"organisation", "initiative", "topic", "call"}
SEARCH_TABLE = table_of(SearchDocument)


@cache
def _country_names() -> dict[str, str]:
    names = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names.update({s.code: s.name for s in pycountry.subdivisions})
    return names


def _join(*parts: Any) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, list | tuple):
            out.extend(str(p) for p in part if p)
        elif part:
            out.append(str(part))
    return " · ".join(out)


def document(entity_type: str, row: dict[str, Any]) -> dict[str, Any]:
    """The search document of one row of `entity_type`."""
    names = _country_names()
    if entity_type == "organisation":
        country = row.get("country_code")
        return {
            "entity_type": entity_type,
            "entity_id": row["id"],
            "title": row["name"],
            "acronym": row.get("acronym") or "",
            "keys": spelling_keys(row["name"], row.get("acronym")),
            "body": _join(
                row.get("kind"),
                row.get("city"),
                names.get(country or ""),
                names.get(row.get("subdivision_code") or ""),
                row.get("expertise"),
                row.get("notes"),
            ),
            "country_code": country,
            "kind": row.get("kind"),
        }
    if entity_type == "initiative":
        return {
            "entity_type": entity_type,
            "entity_id": row["id"],
            "title": row["name"],
            "acronym": row.get("acronym") or "",
            "keys": spelling_keys(row["name"], row.get("acronym"), row["id"]),
            "body": _join(
                row.get("kind"),
                row.get("programme"),
                row.get("grant_id"),
                row.get("summary"),
                row.get("aims"),
                row.get("topics"),
            ),
            "country_code": None,
            "kind": row.get("kind"),
        }
    if entity_type == "topic":
        return {
            "entity_type": entity_type,
            "entity_id": row["id"],
            "title": row["name"],
            "acronym": "",
            "keys": spelling_keys(row["name"]),
            "body": _join(row.get("kind")),
            "country_code": None,
            "kind": row.get("kind"),
        }
    if entity_type == "call":
        return {
            "entity_type": entity_type,
            "entity_id": row["id"],
            "title": row["title"],
            "acronym": "",
            "keys": spelling_keys(row["id"]),
            "body": _join(row.get("initiative_id"), row.get("year"), row.get("procedure")),
            "country_code": None,
            "kind": "call",
        }
    raise ValueError(f"entity type {entity_type!r} is not indexed; expected one of {INDEXED}")


def write_documents(
    connection: Connection,
    entity_type: str,
    created: Iterable[dict[str, Any]],
    changed: Iterable[dict[str, Any]],
) -> None:
    """Index new rows and re-index changed ones (the FTS5 triggers / tsvector follow)."""
    if entity_type not in INDEXED:
        return
    insert_rows(connection, SEARCH_TABLE, [document(entity_type, row) for row in created])
    changed_docs = [document(entity_type, row) for row in changed]
    if changed_docs:
        connection.execute(
            update(SEARCH_TABLE)
            .where(SEARCH_TABLE.c.entity_type == bindparam("b_type"))
            .where(SEARCH_TABLE.c.entity_id == bindparam("b_id")),
            [
                {
                    **{k: v for k, v in d.items() if k not in ("entity_type", "entity_id")},
                    "b_type": d["entity_type"],
                    "b_id": d["entity_id"],
                }
                for d in changed_docs
            ],
        )


def remove_document(connection: Connection, entity_type: str, entity_id: str) -> None:
    connection.execute(
        delete(SEARCH_TABLE).where(
            SEARCH_TABLE.c.entity_type == entity_type, SEARCH_TABLE.c.entity_id == entity_id
        )
    )
