"""Joint transnational calls, with their secretariats, funders and countries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from permedhub.graph.models import Call
from permedhub.graph.queries.common import (
    country_names,
    iso,
    marks,
    money,
    organisations_by_id,
)
from permedhub.graph.views import CallView, CountryRef


def list_calls(
    session: Session, *, initiative: str | None = None, call_id: str | None = None
) -> list[CallView]:
    """The calls (of one initiative, or the one call `call_id`), by year."""
    stmt = select(Call).order_by(Call.year, Call.id)
    if initiative:
        stmt = stmt.where(Call.initiative_id == initiative)
    if call_id:
        stmt = stmt.where(Call.id == call_id)
    calls = list(session.execute(stmt).scalars())
    org_ids = {c.secretariat_id for c in calls if c.secretariat_id}
    org_ids |= {f for c in calls for f in (c.funder_ids or [])}
    orgs = organisations_by_id(session, org_ids)
    names = country_names(session, [code for c in calls for code in (c.countries or [])])
    return [
        CallView(
            id=c.id,
            initiative_id=c.initiative_id,
            title=c.title,
            year=c.year,
            ec_cofunded=c.ec_cofunded,
            funders_count=c.funders_count,
            budget_eur=money(c.budget_eur),
            opening=iso(c.opening),
            pre_proposal_deadline=iso(c.pre_proposal_deadline),
            full_proposal_deadline=iso(c.full_proposal_deadline),
            secretariat=orgs.get(c.secretariat_id or ""),
            funders=[orgs[f] for f in c.funder_ids or [] if f in orgs],
            procedure=c.procedure,
            countries=[
                CountryRef(code=code, name=names.get(code, code)) for code in c.countries or []
            ],
            rules=c.rules or {},
            proposals_submitted=c.proposals_submitted,
            projects_funded=c.projects_funded,
            **marks(c),
        )
        for c in calls
    ]
