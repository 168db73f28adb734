"""From validated records to table rows, and the rows' comparable snapshots for the audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Table

from permedhub.graph import models
from permedhub.graph.models import table_of
from permedhub.graph.schemas import (
    CallIn,
    InitiativeIn,
    LinkIn,
    OrganisationIn,
    ParticipationIn,
    Record,
    TopicIn,
)

TABLES: dict[str, Table] = {
    "topics": table_of(models.Topic),
    "organisations": table_of(models.Organisation),
    "initiatives": table_of(models.Initiative),
    "links": table_of(models.Link),
    "participations": table_of(models.Participation),
    "calls": table_of(models.Call),
}
ENTITY_TYPE = {
    "topics": "topic",
    "organisations": "organisation",
    "initiatives": "initiative",
    "links": "link",
    "participations": "participation",
    "calls": "call",
}
# Kept by the database itself, so never part of what a file says or of a change.
NOT_COMPARED = {"updated_at"}


def _marks(record: Record) -> dict[str, Any]:
    return {
        "source": record.source,
        "uncertain": record.uncertain,
        "approximate": record.approximate,
    }


def to_row(entity: str, record: Record) -> dict[str, Any]:
    """The column values a validated record stores."""
    if isinstance(record, OrganisationIn):
        return {
            "id": record.id,
            "name": record.name,
            "acronym": record.acronym,
            "kind": record.kind,
            "country_code": record.country,
            "subdivision_code": record.subdivision,
            "city": record.city,
            "latitude": record.latitude,
            "longitude": record.longitude,
            "website": record.website,
            "ror_id": record.ror_id,
            "expertise": record.expertise,
            "notes": record.notes,
            "synthetic": record.synthetic,
            **_marks(record),
        }
    if isinstance(record, InitiativeIn):
        return {
            "id": record.id,
            "acronym": record.acronym,
            "name": record.name,
            "kind": record.kind,
            "programme": record.programme,
            "grant_id": record.grant_id,
            "call_topic": record.call_topic,
            "eu_contribution_eur": record.eu_contribution_eur,
            "total_budget_eur": record.total_budget_eur,
            "start_date": record.start.first_day() if record.start else None,
            "start_precision": record.start.precision if record.start else None,
            "end_date": record.end.last_day() if record.end else None,
            "end_precision": record.end.precision if record.end else None,
            "website": record.website,
            "summary": record.summary,
            "aims": record.aims,
            "countries": record.countries,
            "target_regions": record.target_regions,
            "topics": record.topics,
            "facts": record.facts,
            "synthetic": record.synthetic,
            **_marks(record),
        }
    if isinstance(record, ParticipationIn):
        return {
            "id": record.id,
            "organisation_id": record.organisation,
            "initiative_id": record.initiative,
            "role": record.role,
            "start_date": record.start.first_day() if record.start else None,
            "end_date": record.end.last_day() if record.end else None,
            **_marks(record),
        }
    if isinstance(record, LinkIn):
        return {
            "id": record.id,
            "from_id": record.from_initiative,
            "to_id": record.to_initiative,
            "kind": record.kind,
            **_marks(record),
        }
    if isinstance(record, TopicIn):
        return {
            "id": record.id,
            "name": record.name,
            "kind": record.kind,
            "parent_id": record.parent,
            "position": record.position,
            **_marks(record),
        }
    if isinstance(record, CallIn):
        return {
            "id": record.id,
            "initiative_id": record.initiative,
            "title": record.title,
            "year": record.year,
            "ec_cofunded": record.ec_cofunded,
            "funders_count": record.funders_count,
            "budget_eur": record.budget_eur,
            "opening": record.opening.first_day() if record.opening else None,
            "pre_proposal_deadline": _deadline(record.pre_proposal_deadline),
            "full_proposal_deadline": _deadline(record.full_proposal_deadline),
            "secretariat_id": record.secretariat,
            "procedure": record.procedure,
            "funder_ids": record.funders,
            "countries": record.countries,
            "rules": record.rules,
            "proposals_submitted": record.proposals_submitted,
            "projects_funded": record.projects_funded,
            **_marks(record),
        }
    raise TypeError(f"no table for {entity}")


def _deadline(value: Any) -> dt.date | None:
    return value.last_day() if value else None


def snapshot(row: Any) -> dict[str, Any]:
    """A JSON-ready, comparable copy of a row (dates as ISO text, money as float)."""
    return {key: _plain(value) for key, value in dict(row).items() if key not in NOT_COMPARED}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
