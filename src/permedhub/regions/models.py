"""SQLAlchemy tables of regions/, on the graph's metadata (db.Base).

A region is a graph place (`country.code`, an ISO 3166-2 subdivision); its profile adds what
the graph does not hold: the Regional Innovation Scoreboard group and the population figures
its density class is derived from, each with the page it was read on (`sources` per field).
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
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from permedhub.db import Base
from permedhub.graph.models import Sourced


class RegionProfile(Sourced, Base):
    """What regions/ knows of one sub-national place beyond the graph."""

    __tablename__ = "region_profile"
    code: Mapped[str] = mapped_column(ForeignKey("country.code"), primary_key=True)
    nuts_code: Mapped[str | None] = mapped_column(String(8))
    ris_group: Mapped[str | None] = mapped_column(String(30))
    ris_edition: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    population_year: Mapped[int | None] = mapped_column(Integer)
    area_km2: Mapped[float | None] = mapped_column(Float)
    # A density the source states directly (people per km²), when it gives no population.
    stated_density: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)


class SurveyResponse(Base):
    """One respondent's answers to the barrier and readiness survey (survey.COLUMNS)."""

    __tablename__ = "region_survey_response"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    respondent_id: Mapped[str] = mapped_column(String(80))
    region_code: Mapped[str] = mapped_column(ForeignKey("country.code"), index=True)
    stakeholder: Mapped[str] = mapped_column(String(40))
    survey_date: Mapped[dt.date] = mapped_column(Date)
    # barrier and readiness item -> score 1..5, keyed by the survey's column names.
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    comments: Mapped[str | None] = mapped_column(Text)
    batch: Mapped[str] = mapped_column(String(40), index=True)
    file: Mapped[str] = mapped_column(String(400))
    imported_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    __table_args__ = (Index("ix_region_survey_response_respondent", "respondent_id"),)


class RegionEvent(Sourced, Base):
    """A workshop, webinar or conference of the family, with the regions and topics it served."""

    __tablename__ = "region_event"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    title: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(30))
    initiative_id: Mapped[str | None] = mapped_column(ForeignKey("initiative.id"), index=True)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    city: Mapped[str | None] = mapped_column(String(120))
    venue: Mapped[str | None] = mapped_column(String(300))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    agenda: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcomes: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    registration_open: Mapped[bool] = mapped_column(Boolean, default=False)


class EventRegistration(Base):
    """A person's registration for an event: personal data, shown to curators only and
    deleted on request (the row goes; the audit keeps no copy of it)."""

    __tablename__ = "region_event_registration"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("region_event.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    organisation: Mapped[str | None] = mapped_column(String(300))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"))
    consent_text: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    # The secret in the link the person is given to delete the registration themselves.
    deletion_token: Mapped[str] = mapped_column(String(64), unique=True)
    registered_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
