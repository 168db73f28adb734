"""The expert register's table, on the graph's metadata (db.Base).

Only people who consented are listed; the statement they agreed to and the moment are kept
with the listing. Deleting a listing removes the row (and with it the name and e-mail); the
audit log keeps only that a listing with this id was removed, by whom and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from permedhub.db import Base

# The keys of `Expert.public()`: what the register shows anyone, in this order.
PUBLIC_FIELDS = ("id", "name", "country", "sector", "organisation", "topics", "expertise")


class Expert(Base):
    __tablename__ = "match_expert"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"), index=True)
    sector: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    expertise: Mapped[str | None] = mapped_column(Text)
    consent_statement: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    def public(self) -> dict[str, Any]:
        """What anyone may see of a listing (no e-mail)."""
        return {"id": self.id, "name": self.name, "country": self.country_code,
                "sector": self.sector, "organisation": self.organisation_id,
                "topics": list(self.topics), "expertise": self.expertise}  # fmt: skip
