"""Organisations: the list and one organisation with its participations."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from permedhub.graph.models import Initiative, Organisation, Participation
from permedhub.graph.queries.common import (
    SUMMARY_ONLY,
    NotFound,
    initiative_summary,
    iso,
    marks,
    organisation_query,
    organisation_summary,
    page_bounds,
)
from permedhub.graph.views import OrganisationDetail, OrganisationSummary, Page, ParticipationView
from permedhub.search.query import matching_ids


def list_organisations(
    session: Session,
    *,
    country: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[OrganisationSummary]:
    offset, limit = page_bounds(page, per_page)
    filters = []
    if country:
        code = country.upper()
        filters.append(
            or_(Organisation.country_code == code, Organisation.subdivision_code == code)
        )
    if kind:
        filters.append(Organisation.kind == kind)
    if q:
        filters.append(Organisation.id.in_(matching_ids(session, q, "organisation")))
    total = session.execute(select(func.count(Organisation.id)).where(*filters)).scalar_one()
    rows = session.execute(
        organisation_query()
        .where(*filters)
        .order_by(func.lower(Organisation.name), Organisation.name, Organisation.id)
        .offset(offset)
        .limit(limit)
    )
    return Page(
        items=[organisation_summary(*r) for r in rows], total=total, page=page, per_page=per_page
    )


def get_organisation(session: Session, organisation_id: str) -> OrganisationDetail:
    row = session.execute(organisation_query().where(Organisation.id == organisation_id)).first()
    if row is None:
        raise NotFound("organisation", organisation_id)
    organisation = row[0]
    participations = [
        ParticipationView(
            initiative=initiative_summary(i),
            role=p.role,
            start=iso(p.start_date),
            end=iso(p.end_date),
            **marks(p),
        )
        for p, i in session.execute(
            select(Participation, Initiative)
            .options(SUMMARY_ONLY)
            .join(Initiative, Initiative.id == Participation.initiative_id)
            .where(Participation.organisation_id == organisation_id)
            .order_by(Initiative.start_date, Initiative.id)
        )
    ]
    return OrganisationDetail(
        **organisation_summary(*row).model_dump(),
        latitude=organisation.latitude,
        longitude=organisation.longitude,
        ror_id=organisation.ror_id,
        expertise=organisation.expertise or [],
        notes=organisation.notes,
        participations=participations,
    )
