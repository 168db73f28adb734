"""Normalising names, acronyms and queries so that spelling variants meet.

"EULAC-PerMed", "eulac permed" and "eu-lac" must all find EULAC-PerMed: names are indexed as
their words *and* as each multi-word name run together ("eulacpermed"), and a query matches
either all its words as prefixes or its words run together as one prefix.
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower case without accents: "Québec" -> "quebec"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str | None) -> list[str]:
    return WORD.findall(fold(text or ""))


def spelling_keys(*names: str | None) -> str:
    """Index keys for names and acronyms: their words plus each name run together."""
    keys: list[str] = []
    for name in names:
        parts = words(name)
        keys.extend(parts)
        if len(parts) > 1:
            keys.append("".join(parts))
    return " ".join(dict.fromkeys(keys))


def query_terms(query: str) -> tuple[list[str], str | None]:
    """The words of a query, and its words run together (None for a one-word query)."""
    parts = words(query)
    return parts, ("".join(parts) if len(parts) > 1 else None)
