"""What every workflow step shares: the clock, one transaction per step with its notices
delivered after it, the call's document, the roles a user holds and the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from permedhub.calls import mail, scores
from permedhub.calls.documents import against_call
from permedhub.calls.errors import NotAllowed, NotFoundError, WorkflowError
from permedhub.calls.model import Call, ProposalSet
from permedhub.calls.store import (
    CallRecord,
    CallRole,
    Consortium,
    Member,
    NationalCheck,
    PanelAdjustment,
    ProposalRecord,
    Review,
    WorkflowAudit,
)
from permedhub.calls.submissions import ProposalForm, field_path, proposal_of, validation_error
from permedhub.config import SmtpSettings
from permedhub.db import writing

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Actor:
    id: int
    name: str


@dataclass
class WorkflowBase:
    engine: Engine
    clock: Clock = utc_now
    smtp: SmtpSettings | None = None

    def now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"clock = {now!r} is invalid: expected a time-zone aware time")
        # Stored as UTC: SQLite keeps no offset, so a time in another zone would come back
        # shifted; `as_utc` restores the zone on the way out.
        return now.astimezone(dt.UTC)

    @contextmanager
    def _step(self) -> Iterator[Session]:
        """One step: one write transaction, then the notices it queued are delivered."""
        with writing(self.engine) as session:
            yield session
        mail.deliver(self.engine, self.smtp)

    @staticmethod
    def _call(session: Session, call_id: str) -> tuple[CallRecord, Call]:
        record = session.get(CallRecord, call_id)
        if record is None:
            raise NotFoundError(f"call = {call_id!r}: no such call in the workflow")
        return record, Call.model_validate(record.document)

    @staticmethod
    def _roles(session: Session, call_id: str, user_id: int, role: str) -> list[CallRole]:
        return list(
            session.execute(
                select(CallRole).where(
                    CallRole.call_id == call_id, CallRole.user_id == user_id, CallRole.role == role
                )
            ).scalars()
        )

    def _require(self, session: Session, call_id: str, actor: Actor, role: str) -> CallRole:
        found = self._roles(session, call_id, actor.id, role)
        if not found:
            raise NotAllowed(f"{actor.name} is not {article(role)} {role} of call {call_id}")
        return found[0]

    def _audit(
        self,
        session: Session,
        call_id: str,
        actor: str,
        action: str,
        entity: str,
        entity_id: object,
        now: dt.datetime,
        **detail: Any,
    ) -> None:
        session.add(
            WorkflowAudit(
                call_id=call_id,
                at=now,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                detail=_jsonable(detail),
            )
        )

    @staticmethod
    def _emails(session: Session, call_id: str, user_ids: Sequence[int], role: str) -> list[str]:
        if not user_ids:
            return []
        return list(
            session.execute(
                select(CallRole.email).where(
                    CallRole.call_id == call_id,
                    CallRole.role == role,
                    CallRole.user_id.in_(list(user_ids)),
                )
            ).scalars()
        )

    @staticmethod
    def _members(session: Session, consortium_id: int) -> list[int]:
        return list(
            session.execute(
                select(Member.user_id).where(Member.consortium_id == consortium_id)
            ).scalars()
        )

    def _applicant_emails(self, session: Session, call_id: str, consortium_id: int) -> list[str]:
        return self._emails(session, call_id, self._members(session, consortium_id), "applicant")

    def _proposal(self, session: Session, proposal_id: int) -> ProposalRecord:
        record = session.get(ProposalRecord, proposal_id)
        if record is None:
            raise NotFoundError(f"proposal = {proposal_id!r}: no such proposal")
        return record

    def _submitted(self, session: Session, call_id: str, stage: int) -> list[ProposalRecord]:
        return list(
            session.execute(
                select(ProposalRecord)
                .where(
                    ProposalRecord.call_id == call_id,
                    ProposalRecord.stage == stage,
                    ProposalRecord.state == "submitted",
                )
                .order_by(ProposalRecord.id)
            ).scalars()
        )

    def _in_review(self, session: Session, call_id: str, stage: int) -> list[ProposalRecord]:
        """Submitted proposals of `stage` the consortium check passed and no funder rejected."""
        rejected = set(
            session.execute(
                select(NationalCheck.proposal_id).where(NationalCheck.accepted.is_(False))
            ).scalars()
        )
        return [
            p
            for p in self._submitted(session, call_id, stage)
            if p.eligible and p.id not in rejected
        ]

    def _ranking(self, session: Session, call: Call, stage: int) -> pd.DataFrame:
        proposals = {p.id: p for p in self._in_review(session, call.id, stage)}
        rows = session.execute(
            select(Review.proposal_id, Review.reviewer_id, Review.scores).where(
                Review.proposal_id.in_(list(proposals))
            )
        ).all()
        reviews = pd.DataFrame(
            [
                (str(pid), str(rid), c, float(s))
                for pid, rid, given in rows
                for c, s in given.items()
            ],
            columns=scores.REVIEW_COLUMNS,
        )
        if not len(reviews):
            raise WorkflowError("reviews", 0, "reviews of the eligible proposals")
        panel = session.execute(
            select(
                PanelAdjustment.proposal_id,
                PanelAdjustment.criterion,
                PanelAdjustment.score,
                PanelAdjustment.reason,
            )
            .where(PanelAdjustment.proposal_id.in_(list(proposals)))
            .order_by(PanelAdjustment.proposal_id, PanelAdjustment.criterion)
        ).all()
        adjustments = pd.DataFrame(
            [(str(pid), c, float(score), reason) for pid, c, score, reason in panel],
            columns=["proposal_id", "criterion", "score", "reason"],
        )
        table = scores.aggregate(call, reviews, adjustments)
        requested = {
            str(i): sum(float(x.get("requested_eur", 0)) for x in p.fields["partners"])
            for i, p in proposals.items()
        }
        table["requested_eur"] = table["proposal_id"].map(requested)
        table["acronym"] = table["proposal_id"].map(
            {str(i): p.fields.get("acronym") for i, p in proposals.items()}
        )
        return scores.rank(call, table)

    def _member_of(self, session: Session, consortium_id: int, actor: Actor) -> Consortium:
        consortium = session.get(Consortium, consortium_id)
        if consortium is None:
            raise NotFoundError(f"consortium = {consortium_id!r}: no such consortium")
        self._require(session, consortium.call_id, actor, "applicant")
        if actor.id not in self._members(session, consortium_id):
            raise NotAllowed(f"{actor.name} is not a member of consortium {consortium.acronym}")
        return consortium

    def _form(self, call: Call, data: dict[str, Any]) -> ProposalForm:
        try:
            form = ProposalForm.model_validate(data)
        except ValidationError as error:
            raise validation_error(error) from None
        found = against_call(ProposalSet(proposals=[proposal_of(0, form)]), call)
        if found:
            where, value, expected = found[0]
            raise WorkflowError(field_path(where[2:]), value, expected)
        return form


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time (UTC; naive when SQLite kept no offset) as an aware UTC time."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"


def iso_time(value: dt.datetime | None) -> str:
    value = as_utc(value)
    return value.isoformat() if value else "?"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
