"""SQLAlchemy tables of the atlas, on the graph's metadata (db.Base).

`atlas_record` keeps a mapping record as its file says it (places, regions and topics as lists,
so that the audit trail and an export give it back whole); `atlas_record_place`,
`atlas_record_region` and `atlas_record_topic` hold the same lists one row per value, so that
the analyses count records per place and topic with an index instead of reading every record's
lists. A load rewrites them for the records it writes, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from permedhub.db import Base, table_of
from permedhub.graph.models import Sourced


class MappingRecord(Sourced, Base):
    """A policy, programme, infrastructure, biobank, standard or training programme."""

    __tablename__ = "atlas_record"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    acronym: Mapped[str | None] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(30), index=True)
    countries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    regions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str | None] = mapped_column(String(20))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    start_precision: Mapped[str | None] = mapped_column(String(5))
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    end_precision: Mapped[str | None] = mapped_column(String(5))
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    capacity: Mapped[str | None] = mapped_column(String(20))
    website: Mapped[str | None] = mapped_column(String(400))
    description: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)


class RecordPlace(Base):
    """One place of a record: the code as given (a country or an ISO 3166-2 subdivision) and
    its country."""

    __tablename__ = "atlas_record_place"
    record_id: Mapped[str] = mapped_column(
        ForeignKey("atlas_record.id", ondelete="CASCADE"), primary_key=True
    )
    place_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    __table_args__ = (Index("ix_atlas_record_place_country", "country_code"),)


class RecordTopic(Base):
    """One topic of a record."""

    __tablename__ = "atlas_record_topic"
    record_id: Mapped[str] = mapped_column(
        ForeignKey("atlas_record.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[str] = mapped_column(ForeignKey("topic.id"), primary_key=True)
    __table_args__ = (Index("ix_atlas_record_topic_topic", "topic_id"),)


class RecordRegion(Base):
    """One graph region a record covers as a whole (H3Africa: Africa)."""

    __tablename__ = "atlas_record_region"
    record_id: Mapped[str] = mapped_column(
        ForeignKey("atlas_record.id", ondelete="CASCADE"), primary_key=True
    )
    region_id: Mapped[str] = mapped_column(ForeignKey("region.id"), primary_key=True)


class Cell(Base):
    """How many mapping records a place has in a topic: the aggregate the coverage and gap
    queries read (a few thousand rows) instead of joining every record's places and topics.

    `kind` is "country" (`scope` an ISO 3166-1 code; a subdivision's records count for its
    country) or "region" (`scope` a region id: the records of its member countries and those
    naming the region, each once). `topic_id` "" is the place's row over all its records,
    with or without topics. `capable` counts the records whose capacity is not "none",
    `strength` sums their capacity weights (schemas.CAPACITY_WEIGHT). Every load rewrites the
    rows of the places it touches, in its transaction (`cells.refresh`)."""

    __tablename__ = "atlas_cell"
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    records: Mapped[int] = mapped_column(Integer)
    capable: Mapped[int] = mapped_column(Integer)
    strength: Mapped[int] = mapped_column(Integer)


RECORDS: Table = table_of(MappingRecord)
PLACES: Table = table_of(RecordPlace)
TOPICS: Table = table_of(RecordTopic)
REGIONS: Table = table_of(RecordRegion)
CELLS: Table = table_of(Cell)
ENTITY_TYPE = "atlas-record"
