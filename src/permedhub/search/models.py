"""The search index's table: one document per indexed record."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from permedhub.db import Base


class SearchDocument(Base):
    """The text of one entity as the search index sees it.

    On SQLite an FTS5 table (`search_fts`) indexes it through triggers; on PostgreSQL a generated
    `tsvector` column with a GIN index does (see the first migration).
    """

    __tablename__ = "search_document"
    rowid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text)
    acronym: Mapped[str] = mapped_column(Text, default="")
    # What the record is found by but never shown: spelling variants of its names and acronyms
    # ("eulac-permed" -> "eulac permed eulacpermed") and its codes (ids, kinds, topic ids).
    keys: Mapped[str] = mapped_column(Text, default="")
    # Text a person wrote (descriptions, places, programmes): the only source of snippets.
    body: Mapped[str] = mapped_column(Text, default="")
    country_code: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (UniqueConstraint("entity_type", "entity_id"),)
