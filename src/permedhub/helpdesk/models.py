"""SQLAlchemy tables of the helpdesk's knowledge base, on the graph's metadata (db.Base).

A jurisdiction is an ISO 3166-1 code or `EU`; it is not a foreign key to `country`, which
holds no row for the Union (the schemas check the codes). A body or funder that is a graph
organisation references it instead of repeating its name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from permedhub.db import Base, table_of
from permedhub.graph.models import Sourced


class Verified(Sourced):
    """A helpdesk fact: its source is required, and it says when it was last read there."""

    source: Mapped[str] = mapped_column(Text)
    verified_on: Mapped[dt.date] = mapped_column(Date)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    notes: Mapped[str | None] = mapped_column(Text)


class Body(Verified, Base):
    """A regulatory body of a jurisdiction in one role."""

    __tablename__ = "helpdesk_body"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    role: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(400))
    acronym: Mapped[str | None] = mapped_column(String(80))
    website: Mapped[str | None] = mapped_column(String(400))
    __table_args__ = (Index("ix_helpdesk_body_jurisdiction_role", "jurisdiction", "role"),)


class Rule(Verified, Base):
    """One clinical-trial rule of a jurisdiction."""

    __tablename__ = "helpdesk_rule"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    aspect: Mapped[str] = mapped_column(String(30))
    statement: Mapped[str] = mapped_column(Text)
    legal_reference: Mapped[str | None] = mapped_column(String(400))
    days: Mapped[int | None] = mapped_column(Integer)
    day_kind: Mapped[str | None] = mapped_column(String(10))
    __table_args__ = (Index("ix_helpdesk_rule_jurisdiction_aspect", "jurisdiction", "aspect"),)


class Funding(Verified, Base):
    """A research funder (agency) or funding programme of a jurisdiction."""

    __tablename__ = "helpdesk_funding"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(400))
    acronym: Mapped[str | None] = mapped_column(String(80))
    website: Mapped[str | None] = mapped_column(String(400))
    description: Mapped[str | None] = mapped_column(Text)
    funds_trials: Mapped[bool | None] = mapped_column(Boolean)
    __table_args__ = (Index("ix_helpdesk_funding_jurisdiction_kind", "jurisdiction", "kind"),)


class Faq(Sourced, Base):
    """A question and its answer in one language."""

    __tablename__ = "helpdesk_faq"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), index=True)
    jurisdictions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text)
    verified_on: Mapped[dt.date] = mapped_column(Date)


class Ticket(Base):
    """A question the knowledge base could not answer, asked of the helpdesk's experts.

    `name`, `email`, `client_address` and `question` are the submitter's personal data: shown
    to experts only, and emptied when the submitter asks for deletion (`anonymised_at`); the
    answer, the countries and the FAQ entry made from it stay. Audit entries of tickets never
    copy them.
    """

    __tablename__ = "helpdesk_ticket"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submitted_at: Mapped[float] = mapped_column(Float, index=True)  # Unix time
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    client_address: Mapped[str | None] = mapped_column(String(64), index=True)
    question: Mapped[str | None] = mapped_column(Text)
    countries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(12), index=True)  # open | answered
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(120))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    faq_id: Mapped[str | None] = mapped_column(String(120))
    mailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    mail_problem: Mapped[str | None] = mapped_column(Text)
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


TABLES: dict[str, Table] = {
    "bodies": table_of(Body),
    "rules": table_of(Rule),
    "funding": table_of(Funding),
    "faq": table_of(Faq),
}
ENTITY_TYPE = {
    "bodies": "helpdesk-body",
    "rules": "helpdesk-rule",
    "funding": "helpdesk-funding",
    "faq": "helpdesk-faq",
}


class Setting(Base):
    """A value the helpdesk's experts set in the portal (e.g. after how many days a fact is
    shown as possibly stale), with who set it and when."""

    __tablename__ = "helpdesk_setting"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
