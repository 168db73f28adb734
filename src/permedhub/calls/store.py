"""SQLAlchemy tables of the call workflow, on the graph's metadata (db.Base).

A call published into the workflow keeps its whole validated document (`CallRecord.document`,
the JSON of `model.Call`), so every step re-reads the rules the call was published with. The
graph's `call` table stays the public summary; these tables are prefixed `jtc_` (joint
transnational call) so the two never meet.

People are the portal's user accounts (`user_account`); what a person may do in a call is a
`CallRole` row: applicant, reviewer (with the profile the assignment needs), funder (of one
participating funder) or secretariat. A person may hold several roles in one call.

A proposal is one consortium's submission at one stage (0: pre-proposal, 1: full proposal),
its structured fields (`fields`, the JSON of `model.Proposal` without the id) and one PDF.
Mail is written to an outbox in the same transaction as the step it reports and delivered
after the commit, so a step and its notice are never one without the other (`mail.py`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from permedhub.db import Base

ROLES = ("applicant", "reviewer", "funder", "secretariat")
PROPOSAL_STATES = ("draft", "submitted", "withdrawn")


def _now_column() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class CallRecord(Base):
    """A call in the workflow: its document and the stage open for submissions."""

    __tablename__ = "jtc_call"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    # 0: pre-proposals; 1: full proposals (only consortia invited by the secretariat).
    stage: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[dt.datetime] = _now_column()


class CallRole(Base):
    """What one user may do in one call. `funder`: the funder's organisation id (funder role);
    `profile`: a reviewer's organisation, country, expertise and max_load."""

    __tablename__ = "jtc_role"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("jtc_call.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(320))
    funder: Mapped[str | None] = mapped_column(String(120))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    __table_args__ = (
        UniqueConstraint("call_id", "user_id", "role", name="uq_jtc_role_call_user_role"),
        Index("ix_jtc_role_user", "user_id"),
    )


class Consortium(Base):
    """A consortium registered by an applicant (its owner); others join it."""

    __tablename__ = "jtc_consortium"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("jtc_call.id", ondelete="CASCADE"))
    acronym: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # Shared by the owner with the partners' applicants: whoever has it may join.
    join_code: Mapped[str] = mapped_column(String(64))
    # Set by the secretariat when the consortium is invited to the full-proposal stage.
    invited: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = _now_column()
    __table_args__ = (
        UniqueConstraint("call_id", "acronym", name="uq_jtc_consortium_call_acronym"),
    )


class Member(Base):
    """An applicant of a consortium (the owner too)."""

    __tablename__ = "jtc_member"
    consortium_id: Mapped[int] = mapped_column(
        ForeignKey("jtc_consortium.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)


class ProposalRecord(Base):
    """One consortium's proposal at one stage."""

    __tablename__ = "jtc_proposal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("jtc_call.id", ondelete="CASCADE"))
    consortium_id: Mapped[int] = mapped_column(ForeignKey("jtc_consortium.id"))
    stage: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The secretariat's consortium check: None until run, then eligible or not with the rules.
    eligible: Mapped[bool | None] = mapped_column(Boolean)
    broken: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = _now_column()
    __table_args__ = (
        UniqueConstraint("consortium_id", "stage", name="uq_jtc_proposal_consortium_stage"),
        Index("ix_jtc_proposal_call_stage", "call_id", "stage"),
    )


class NationalCheck(Base):
    """A funder's confirmation or rejection of one partner it funds, with the reason."""

    __tablename__ = "jtc_national_check"
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("jtc_proposal.id", ondelete="CASCADE"), primary_key=True
    )
    partner: Mapped[int] = mapped_column(Integer, primary_key=True)
    funder: Mapped[str] = mapped_column(String(120))
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    by_user: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Conflict(Base):
    """A conflict of interest a reviewer declared: a proposal, or an organisation id."""

    __tablename__ = "jtc_conflict"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("jtc_call.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("jtc_proposal.id", ondelete="CASCADE")
    )
    organisation: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_jtc_conflict_call_reviewer", "call_id", "reviewer_id"),)


class ReviewAssignment(Base):
    """A reviewer assigned to a proposal (by the MILP of `assignment.py`)."""

    __tablename__ = "jtc_assignment"
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("jtc_proposal.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    match: Mapped[int] = mapped_column(Integer, default=0)


class Review(Base):
    """A reviewer's scores (criterion id -> score) and comment on one proposal."""

    __tablename__ = "jtc_review"
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("jtc_proposal.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PanelAdjustment(Base):
    """The panel's score for one criterion of one proposal, replacing the reviewers'
    aggregate, with the reason (shown on the ranking list)."""

    __tablename__ = "jtc_adjustment"
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("jtc_proposal.id", ondelete="CASCADE"), primary_key=True
    )
    criterion: Mapped[str] = mapped_column(String(120), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    by_user: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FundingOutcome(Base):
    """The funding decision for one proposal: funded, reserve or not ranked, with its place
    on the ranking list and what each funder pays."""

    __tablename__ = "jtc_decision"
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("jtc_proposal.id", ondelete="CASCADE"), primary_key=True
    )
    call_id: Mapped[str] = mapped_column(ForeignKey("jtc_call.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    payments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WorkflowAudit(Base):
    """One state change of the workflow: who, when, what, on which record, with details."""

    __tablename__ = "jtc_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(120), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Mail(Base):
    """A notice written with the step it reports; `sent_at` once the SMTP server took it,
    `error` when it refused it (kept for a later retry)."""

    __tablename__ = "jtc_mail"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(120), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
