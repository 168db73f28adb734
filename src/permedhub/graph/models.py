"""SQLAlchemy tables of the knowledge graph (see DESIGN.md, "The knowledge graph")."""

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
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

# Base and table_of are shared with search/ (whose table is in the same metadata); graph code
# names them from here, with its tables.
from permedhub.db import Base
from permedhub.db import table_of as table_of

# The search index's table belongs to search/; named here too so that importing the graph's
# models gives the metadata of every table a load writes (migrations, tests, VACUUM).
from permedhub.search.models import SearchDocument as SearchDocument

Money = Numeric(16, 2)


class Sourced:
    """Every fact keeps where it was read and which of its values are uncertain."""

    source: Mapped[str | None] = mapped_column(Text)
    # field name -> citation, for a field read elsewhere than `source`.
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # field name -> note ("" when the source gives no reason); shown as "uncertain" in the portal.
    uncertain: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Fields whose published value is itself an approximation ("~EUR 30 M").
    approximate: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Country(Base):
    """An ISO 3166-1 country or an ISO 3166-2 subdivision (parent_code set)."""

    __tablename__ = "country"
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    official_name: Mapped[str | None] = mapped_column(String(300))
    alpha3: Mapped[str | None] = mapped_column(String(3))
    subdivision_type: Mapped[str | None] = mapped_column(String(80))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"), index=True)


class Region(Base):
    """A named group of countries (EU27, CELAC, African Union, continents, ...)."""

    __tablename__ = "region"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(Text)


class RegionMembership(Base):
    __tablename__ = "region_membership"
    region_id: Mapped[str] = mapped_column(ForeignKey("region.id"), primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"), primary_key=True)
    __table_args__ = (Index("ix_region_membership_country", "country_code"),)


class Organisation(Sourced, Base):
    __tablename__ = "organisation"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    acronym: Mapped[str | None] = mapped_column(String(80))
    kind: Mapped[str | None] = mapped_column(String(40), index=True)
    # Indexed with the name (ix_organisation_country_name): a country's organisations in name
    # order come straight from the index, a page at a time.
    country_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"))
    # Indexed with the name (ix_organisation_subdivision_name), for the same reason.
    subdivision_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"))
    city: Mapped[str | None] = mapped_column(String(120))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    website: Mapped[str | None] = mapped_column(String(400))
    ror_id: Mapped[str | None] = mapped_column(String(40))
    expertise: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (
        # With the id, the index is the exact page order (name, id): PostgreSQL then reads a
        # page from it even before the planner has statistics, instead of sorting the country.
        Index("ix_organisation_country_name", "country_code", "name", "id"),
        # The organisations list pages through every organisation by name.
        Index("ix_organisation_name", "name", "id"),
        # The list of sub-national organisations, by subdivision and name.
        Index("ix_organisation_subdivision_name", "subdivision_code", "name", "id"),
        # The organisations list's order, case folded (lower(name), name, id).
        Index("ix_organisation_folded_name", text("lower(name)"), "name", "id"),
    )


class Initiative(Sourced, Base):
    __tablename__ = "initiative"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    acronym: Mapped[str | None] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    programme: Mapped[str | None] = mapped_column(String(120))
    grant_id: Mapped[str | None] = mapped_column(String(40))
    call_topic: Mapped[str | None] = mapped_column(String(120))
    eu_contribution_eur: Mapped[float | None] = mapped_column(Money)
    total_budget_eur: Mapped[float | None] = mapped_column(Money)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    start_precision: Mapped[str | None] = mapped_column(String(5))
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    end_precision: Mapped[str | None] = mapped_column(String(5))
    website: Mapped[str | None] = mapped_column(String(400))
    summary: Mapped[str | None] = mapped_column(Text)
    aims: Mapped[list[str]] = mapped_column(JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    target_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Published facts that have no column of their own (consortium size, outputs, work packages).
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class Participation(Sourced, Base):
    """An organisation's role in an initiative."""

    __tablename__ = "participation"
    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    # No index of its own: the unique constraint's index starts with organisation_id.
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    initiative_id: Mapped[str] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    __table_args__ = (UniqueConstraint("organisation_id", "initiative_id", "role"),)


class Link(Sourced, Base):
    """A typed relation between two initiatives."""

    __tablename__ = "link"
    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    from_id: Mapped[str] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), index=True
    )
    to_id: Mapped[str] = mapped_column(ForeignKey("initiative.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    __table_args__ = (UniqueConstraint("from_id", "to_id", "kind"),)


class Topic(Sourced, Base):
    """A node of the ICPerMed taxonomy (Action Plan areas, Vision 2030 perspectives, ...)."""

    __tablename__ = "topic"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("topic.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Call(Sourced, Base):
    """A joint transnational call of an initiative (ERA PerMed JTCs and successors)."""

    __tablename__ = "call"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    initiative_id: Mapped[str] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    ec_cofunded: Mapped[bool | None] = mapped_column(Boolean)
    funders_count: Mapped[int | None] = mapped_column(Integer)
    budget_eur: Mapped[float | None] = mapped_column(Money)
    opening: Mapped[dt.date | None] = mapped_column(Date)
    pre_proposal_deadline: Mapped[dt.date | None] = mapped_column(Date)
    full_proposal_deadline: Mapped[dt.date | None] = mapped_column(Date)
    secretariat_id: Mapped[str | None] = mapped_column(ForeignKey("organisation.id"))
    procedure: Mapped[str | None] = mapped_column(String(40))
    funder_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    proposals_submitted: Mapped[int | None] = mapped_column(Integer)
    projects_funded: Mapped[int | None] = mapped_column(Integer)


class AuditEntry(Base):
    """One change to one record: who, when, what, old -> new (JSON snapshots).

    A creation by a load stores no `new` (`None`), as PaperTrail's versions do: the record as
    created is the `old` of its next entry, or the record itself while nothing has changed it
    since. A million-row load would otherwise store every row twice.
    `curation.state_after` reads an entry's `new` either way.
    """

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(10))  # create | update | delete
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(300))
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    batch: Mapped[str | None] = mapped_column(String(64), index=True)
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)


class UserAccount(Base):
    """A person who may curate the graph (argon2 password hash; role viewer|curator|admin)."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Sessions carry the version they were issued under; log-out increments it (revocation).
    session_version: Mapped[int] = mapped_column(Integer, server_default="0", default=0)


class LoginFailure(Base):
    """A failed login (name as typed, folded; client address; Unix time), for rate limiting."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_name", "name", "failed_at"),
        Index("ix_login_failure_address", "address", "failed_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[float] = mapped_column(Float)


class CountryActivity(Base):
    """How many organisations of a place (country or ISO 3166-2 subdivision) take part in an
    initiative in a role: the aggregate behind country, region and count pages, kept up to date
    by every write that can change it (`graph.activity`)."""

    __tablename__ = "country_activity"
    place_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    initiative_id: Mapped[str] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    organisations: Mapped[int] = mapped_column(Integer)
    # An initiative page counts its partners per country from here, and a network reads the
    # rows of a few initiatives in a few countries (without the heap rows of other places).
    __table_args__ = (Index("ix_country_activity_initiative", "initiative_id", "place_code"),)


class PlaceTotal(Base):
    """A place's participations and initiatives in all (the sums of its `country_activity`
    rows), so that country lists and network nodes need not add up thousands of rows."""

    __tablename__ = "place_total"
    place_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    participations: Mapped[int] = mapped_column(Integer)
    initiatives: Mapped[int] = mapped_column(Integer)


# `initiative_activity.scope` of the rows that sum every country (ISO 3166-1, not subdivisions).
ALL_COUNTRIES = "*"


class InitiativeActivity(Base):
    """Participations of the organisations of a scope in an initiative, over all roles.

    `scope` is a country code (the sum of its `country_activity` rows; subdivisions have too few
    rows to need it), a region id (the sum of its member countries) or ALL_COUNTRIES. Ranks the
    initiatives of a country, a region or the whole graph from an index, and gives a network its
    country x initiative edges, without reading the participations or adding up roles.
    """

    __tablename__ = "initiative_activity"
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    initiative_id: Mapped[str] = mapped_column(
        ForeignKey("initiative.id", ondelete="CASCADE"), primary_key=True
    )
    participations: Mapped[int] = mapped_column(Integer)
    # Region and all-country rows: participations per country ({"DE": 120, ...}), so that a
    # network's country -> initiative edges come with the ranking, without a lookup per pair.
    countries: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (Index("ix_initiative_activity_rank", "scope", "participations"),)


class GraphRevision(Base):
    """One row: a number every write to the graph raises in its own transaction
    (`graph.revision`), so that what is built from the graph can be kept until it changes."""

    __tablename__ = "graph_revision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, server_default="0")
