"""What each role of a call may read: applicants their own consortia, reviewers the proposals
assigned to them (never another reviewer's name or scores), funders the partners asking
them, the secretariat everything of the open stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.calls.errors import CallInputError, NotAllowed, NotFoundError
from permedhub.calls.model import Call
from permedhub.calls.store import (
    CallRole,
    Consortium,
    FundingOutcome,
    Member,
    NationalCheck,
    ProposalRecord,
    Review,
    ReviewAssignment,
    WorkflowAudit,
)
from permedhub.calls.tables import cents, eur, records
from permedhub.calls.workflow_base import Actor, WorkflowBase, as_utc
from permedhub.graph.models import UserAccount


@dataclass
class Dashboard:
    """The secretariat's view of a call's stage: one row per proposal."""

    call: Call
    stage: int
    proposals: list[dict[str, Any]] = field(default_factory=list)
    ranking: list[dict[str, Any]] = field(default_factory=list)
    decision: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)


class WorkflowViews(WorkflowBase):
    def roles_of(self, call_id: str, user_id: int) -> set[str]:
        with Session(self.engine) as session:
            return set(
                session.execute(
                    select(CallRole.role).where(
                        CallRole.call_id == call_id, CallRole.user_id == user_id
                    )
                ).scalars()
            )

    def role_holders(self, call_id: str, actor: Actor) -> list[dict[str, Any]]:
        """Who holds which role in the call, with the address their notices go to (the
        secretariat's: addresses are for it only)."""
        with Session(self.engine) as session:
            self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            rows = session.execute(
                select(CallRole, UserAccount.name)
                .join(UserAccount, UserAccount.id == CallRole.user_id)
                .where(CallRole.call_id == call_id)
                .order_by(CallRole.role, UserAccount.name)
            ).all()
            return [
                {
                    "user": name,
                    "role": role.role,
                    "email": role.email,
                    "funder": role.funder,
                    "profile": role.profile or {},
                }
                for role, name in rows
            ]

    def call_of(self, call_id: str) -> tuple[Call, int]:
        with Session(self.engine) as session:
            record, call = self._call(session, call_id)
            return call, record.stage

    def my_consortia(self, call_id: str, actor: Actor) -> list[dict[str, Any]]:
        """The applicant's consortia with their proposals (their own only)."""
        with Session(self.engine) as session:
            self._call(session, call_id)
            self._require(session, call_id, actor, "applicant")
            rows = (
                session.execute(
                    select(Consortium)
                    .join(Member, Member.consortium_id == Consortium.id)
                    .where(Consortium.call_id == call_id, Member.user_id == actor.id)
                    .order_by(Consortium.id)
                )
                .scalars()
                .all()
            )
            out = []
            for consortium in rows:
                proposals = (
                    session.execute(
                        select(ProposalRecord)
                        .where(ProposalRecord.consortium_id == consortium.id)
                        .order_by(ProposalRecord.stage)
                    )
                    .scalars()
                    .all()
                )
                outcome = {
                    o.proposal_id: o
                    for o in session.execute(
                        select(FundingOutcome).where(
                            FundingOutcome.proposal_id.in_([p.id for p in proposals])
                        )
                    ).scalars()
                }
                out.append(
                    {
                        "id": consortium.id,
                        "acronym": consortium.acronym,
                        "join_code": consortium.join_code
                        if consortium.owner_id == actor.id
                        else None,
                        "invited": consortium.invited,
                        "proposals": [
                            {
                                "id": p.id,
                                "stage": p.stage,
                                "state": p.state,
                                "fields": p.fields,
                                "has_pdf": p.pdf is not None,
                                "submitted_at": as_utc(p.submitted_at),
                                "eligible": p.eligible,
                                "broken": p.broken,
                                "outcome": outcome[p.id].status if p.id in outcome else None,
                            }
                            for p in proposals
                        ],
                    }
                )
            return out

    def review_queue(self, call_id: str, actor: Actor) -> list[dict[str, Any]]:
        """The proposals assigned to the reviewer, with their own review; never another
        reviewer's name or scores."""
        with Session(self.engine) as session:
            self._call(session, call_id)
            self._require(session, call_id, actor, "reviewer")
            rows = (
                session.execute(
                    select(ProposalRecord)
                    .join(ReviewAssignment, ReviewAssignment.proposal_id == ProposalRecord.id)
                    .where(
                        ProposalRecord.call_id == call_id, ReviewAssignment.reviewer_id == actor.id
                    )
                    .order_by(ProposalRecord.id)
                )
                .scalars()
                .all()
            )
            out = []
            for p in rows:
                review = session.get(Review, (p.id, actor.id))
                out.append(
                    {
                        "id": p.id,
                        "fields": p.fields,
                        "stage": p.stage,
                        "scores": review.scores if review else None,
                        "comment": review.comment if review else "",
                    }
                )
            return out

    def funder_queue(self, call_id: str, actor: Actor) -> list[dict[str, Any]]:
        """The partners asking the user's funder, proposal by proposal: only their own
        national data (the other partners' budgets and organisations are not shown)."""
        with Session(self.engine) as session:
            record, _ = self._call(session, call_id)
            role = self._require(session, call_id, actor, "funder")
            out = []
            for p in self._submitted(session, call_id, record.stage):
                mine = [
                    (i, x)
                    for i, x in enumerate(p.fields["partners"])
                    if x.get("funder") == role.funder
                ]
                if not mine:
                    continue
                checks = {
                    c.partner: c
                    for c in session.execute(
                        select(NationalCheck).where(NationalCheck.proposal_id == p.id)
                    ).scalars()
                }
                out.append(
                    {
                        "id": p.id,
                        "acronym": p.fields.get("acronym"),
                        "title": p.fields.get("title"),
                        "partners": [
                            {
                                "index": i,
                                **x,
                                "accepted": checks[i].accepted if i in checks else None,
                                "reason": checks[i].reason if i in checks else "",
                            }
                            for i, x in mine
                        ],
                    }
                )
            return out

    def dashboard(self, call_id: str, actor: Actor) -> Dashboard:
        """Everything the secretariat sees of the open stage."""
        with Session(self.engine) as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            view = Dashboard(call=call, stage=record.stage)
            proposals = list(
                session.execute(
                    select(ProposalRecord)
                    .where(ProposalRecord.call_id == call_id, ProposalRecord.stage == record.stage)
                    .order_by(ProposalRecord.id)
                ).scalars()
            )
            ids = [p.id for p in proposals]
            counts = dict(
                session.execute(
                    select(ReviewAssignment.proposal_id, func.count())
                    .where(ReviewAssignment.proposal_id.in_(ids))
                    .group_by(ReviewAssignment.proposal_id)
                ).all()
            )
            reviewed = dict(
                session.execute(
                    select(Review.proposal_id, func.count())
                    .where(Review.proposal_id.in_(ids))
                    .group_by(Review.proposal_id)
                ).all()
            )
            rejected = {
                c.proposal_id: c
                for c in session.execute(
                    select(NationalCheck).where(
                        NationalCheck.proposal_id.in_(ids), NationalCheck.accepted.is_(False)
                    )
                ).scalars()
            }
            outcomes = {
                o.proposal_id: o
                for o in session.execute(
                    select(FundingOutcome).where(FundingOutcome.call_id == call_id)
                ).scalars()
            }
            for p in proposals:
                outcome = outcomes.get(p.id)
                view.proposals.append(
                    {
                        "id": p.id,
                        "acronym": p.fields.get("acronym"),
                        "state": p.state,
                        "partners": len(p.fields.get("partners", [])),
                        "requested_eur": sum(
                            float(x.get("requested_eur", 0)) for x in p.fields.get("partners", [])
                        ),
                        "eligible": p.eligible,
                        "broken": p.broken,
                        "national": (
                            f"rejected by {rejected[p.id].funder}: {rejected[p.id].reason}"
                            if p.id in rejected
                            else ""
                        ),
                        "reviewers": counts.get(p.id, 0),
                        "reviews": reviewed.get(p.id, 0),
                        "outcome": outcome.status if outcome else None,
                        "rank": outcome.rank if outcome else None,
                        "payments": outcome.payments if outcome else {},
                    }
                )
            if reviewed:
                try:
                    view.ranking = records(self._ranking(session, call, record.stage))
                except CallInputError:
                    view.ranking = []  # reviews still incomplete: no ranking yet
            # An unknown budget (a real call whose text names none) is shown as unknown.
            budgets = {
                f.organisation: None if f.budget_eur is None else cents(f.budget_eur)
                for f in call.funders
            }
            paid: dict[str, int] = {}
            for outcome in outcomes.values():
                for funder, amount in outcome.payments.items():
                    paid[funder] = paid.get(funder, 0) + round(float(amount) * 100)
            if outcomes:
                view.commitments = [
                    {
                        "funder": f,
                        "budget_eur": None if b is None else eur(b),
                        "committed_eur": eur(paid.get(f, 0)),
                        "left_eur": None if b is None else eur(b - paid.get(f, 0)),
                    }
                    for f, b in budgets.items()
                ]
            return view

    def pdf(self, proposal_id: int, actor: Actor) -> bytes:
        """A proposal's PDF, for its consortium, its assigned reviewers and the secretariat."""
        with Session(self.engine) as session:
            proposal = self._proposal(session, proposal_id)
            allowed = (
                actor.id in self._members(session, proposal.consortium_id)
                or session.get(ReviewAssignment, (proposal_id, actor.id)) is not None
                or bool(self._roles(session, proposal.call_id, actor.id, "secretariat"))
            )
            if not allowed:
                raise NotAllowed(f"{actor.name} may not read proposal {proposal_id}")
            if proposal.pdf is None:
                raise NotFoundError(f"proposal = {proposal_id}: no PDF uploaded")
            return bytes(proposal.pdf)

    def audit(self, call_id: str, actor: Actor) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            self._require(session, call_id, actor, "secretariat")
            rows = session.execute(
                select(WorkflowAudit)
                .where(WorkflowAudit.call_id == call_id)
                .order_by(WorkflowAudit.id)
            ).scalars()
            return [
                {
                    "at": as_utc(r.at),
                    "actor": r.actor,
                    "action": r.action,
                    "entity": r.entity,
                    "entity_id": r.entity_id,
                    "detail": r.detail,
                }
                for r in rows
            ]
