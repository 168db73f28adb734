"""What the search index holds of the helpdesk: an FAQ entry is found by its question, its
answer and its countries' codes, and shown by its question and answer (text a person wrote)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from permedhub.search.index import Document

FAQ_ENTITY = "helpdesk-faq"


def faq_document(row: Mapping[str, Any]) -> Document:
    """An FAQ row (its table's columns) as the search index's document."""
    jurisdictions = [str(code) for code in row.get("jurisdictions") or []]
    return Document(
        entity_type=FAQ_ENTITY,
        entity_id=str(row["id"]),
        title=str(row["question"]),
        text=str(row["answer"]),
        codes=(str(row["language"]), *jurisdictions, *(str(t) for t in row.get("topics") or [])),
        # The country facet takes one country: an entry about several is found without it.
        country_code=jurisdictions[0] if len(jurisdictions) == 1 else None,
        kind="faq",
    )
