"""Running a call: from publication to the funding decision, one transaction per step.

Every step names the user taking it and checks, here in the library, that the user holds
the role the step needs in that call (`NotAllowed` otherwise), so the portal and the command
line cannot differ on who may do what. Each step writes its audit entries and queues its
notices in the same transaction as its change (`mail.queue`), and delivers them after the
commit (`mail.deliver`): a refused step changes nothing and mails nobody.

Deadlines are read on the server's clock (`Workflow.clock`, an aware datetime; tests pass a
controllable one) and compared as instants, so a stage closing at 14:00+01:00 closes at
13:00 UTC whatever the server's own time zone. A refused late submission leaves the
proposal as it was: a draft stays a draft.

The steps reuse the engines: `eligibility.check` for the consortium rules, `assignment.assign`
for reviewers (declared conflicts added to the pool's), `scores.aggregate` and `scores.rank`
for the ranking list, `decision.decide` for the funding decision.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from permedhub.calls import assignment, decision, eligibility, mail, scores
from permedhub.calls.documents import against_call
from permedhub.calls.errors import CallInputError
from permedhub.calls.model import (
    Call,
    Name,
    Partner,
    Proposal,
    ProposalSet,
    Reviewer,
    ReviewerPool,
    Slug,
)
from permedhub.calls.store import (
    ROLES,
    CallRecord,
    CallRole,
    Conflict,
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
from permedhub.config import SmtpSettings
from permedhub.db import writing
from permedhub.graph.models import UserAccount

Clock = Callable[[], dt.datetime]
MAX_PDF_BYTES = 5 * 1024 * 1024
PDF_TAIL_BYTES = 2048
# An address as mail servers take it: one @, no spaces, a dotted or local host.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class NotAllowed(PermissionError):
    """The user does not hold the role a step needs in the call."""


class WorkflowError(CallInputError):
    """A step's input or the call's state does not allow the step (field, value, expected)."""


class LateSubmission(WorkflowError):
    """The stage's deadline has passed on the server clock."""


class NotFoundError(LookupError):
    """No such call, consortium or proposal."""


# ---------------------------------------------------------------- boundary schemas


class ProposalForm(BaseModel):
    """What applicants type: the structured fields of a proposal (the PDF comes apart)."""

    model_config = ConfigDict(extra="forbid")
    acronym: Name
    title: Name
    abstract: str = Field("", max_length=5000)
    modules: list[Slug] = Field(default_factory=list)
    topics: list[Slug] = Field(default_factory=list)
    partners: list[Partner] = Field(min_length=1, max_length=60)


class ReviewerProfile(BaseModel):
    """A reviewer's profile in one call (what the assignment's conflicts and match read)."""

    model_config = ConfigDict(extra="forbid")
    organisation: Slug
    country: str = Field(min_length=2, max_length=8)
    expertise: list[Slug] = Field(default_factory=list)
    max_load: int | None = Field(None, ge=1, le=1000)


class RoleGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, max_length=120)
    role: str
    email: str = Field(pattern=EMAIL.pattern, max_length=320, description="name@host")
    funder: Slug | None = None
    profile: ReviewerProfile | None = None


def _validation_error(error: ValidationError, prefix: str = "") -> WorkflowError:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
    return WorkflowError(
        f"{prefix}{field_path(first['loc'])}" or "form", first.get("input"), message
    )


def field_path(loc: Sequence[str | int]) -> str:
    """('partners', 0, 'funder') -> 'partners[0].funder', as the document errors write it."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def check_pdf(data: bytes) -> str:
    """The SHA-256 of `data` when it is a PDF of at most MAX_PDF_BYTES, judged by its bytes
    (the '%PDF-' header and the '%%EOF' marker), not by its name."""
    if not data:
        raise WorkflowError("pdf", "(empty)", "a PDF file")
    if len(data) > MAX_PDF_BYTES:
        raise WorkflowError(
            "pdf", f"{len(data):,} bytes", f"a PDF of at most {MAX_PDF_BYTES:,} bytes"
        )
    if b"%PDF-" not in data[:1024] or b"%%EOF" not in data[-PDF_TAIL_BYTES:]:
        start = data[:8].decode("latin-1")
        raise WorkflowError(
            "pdf", start, "a PDF file (it starts with '%PDF-' and ends with '%%EOF')"
        )
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Actor:
    id: int
    name: str


@dataclass(frozen=True)
class LiveCheck:
    """A consortium check while the form is typed: input problems (field, message) and the
    call's rules it breaks (rule, message saying how to fix it)."""

    problems: list[dict[str, Any]]
    broken: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.broken

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "broken": self.broken}


@dataclass(frozen=True)
class AssignmentResult:
    assigned: int
    uncovered: list[dict[str, Any]]
    loads: list[dict[str, Any]]


@dataclass
class Dashboard:
    """The secretariat's view of a call's stage: one row per proposal."""

    call: Call
    stage: int
    proposals: list[dict[str, Any]] = field(default_factory=list)
    ranking: list[dict[str, Any]] = field(default_factory=list)
    decision: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------- the workflow


@dataclass
class Workflow:
    engine: Engine
    clock: Clock = utc_now
    smtp: SmtpSettings | None = None

    # ------------------------------------------------------------ helpers

    def now(self) -> dt.datetime:
        now = self.clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"clock = {now!r} is invalid: expected a time-zone aware time")
        return now

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
            raise NotAllowed(f"{actor.name} is not {_article(role)} {role} of call {call_id}")
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

    # ------------------------------------------------------------ operator and secretariat

    def publish(self, call: Call, actor: str, secretariat: Sequence[tuple[str, str]] = ()) -> None:
        """Put `call` into the workflow (or replace its document while nothing is submitted),
        with `secretariat` (user name, e-mail) pairs. The operator's step (CLI)."""
        now = self.now()
        with self._step() as session:
            record = session.get(CallRecord, call.id)
            document = call.model_dump(mode="json")
            if record is None:
                session.add(
                    CallRecord(
                        id=call.id, title=call.title, document=document, stage=0, published_at=now
                    )
                )
                session.flush()
            else:
                submitted = session.execute(
                    select(func.count()).where(
                        ProposalRecord.call_id == call.id, ProposalRecord.state == "submitted"
                    )
                ).scalar_one()
                if submitted:
                    raise WorkflowError(
                        "call",
                        call.id,
                        f"a call without submissions ({submitted} submitted): its rules may "
                        "not change under the applicants",
                    )
                record.title, record.document = call.title, document
            self._audit(session, call.id, actor, "publish", "call", call.id, now)
            for name, email in secretariat:
                self._grant(
                    session, call, actor, RoleGrant(user=name, role="secretariat", email=email), now
                )

    def grant(self, call_id: str, actor: Actor | str, grant: dict[str, Any]) -> None:
        """Give a user a role in a call. A secretariat member may (an `Actor`); the operator
        at the command line may too (a plain name)."""
        try:
            parsed = RoleGrant.model_validate(grant)
        except ValidationError as error:
            raise _validation_error(error) from None
        now = self.now()
        with self._step() as session:
            _, call = self._call(session, call_id)
            name = actor if isinstance(actor, str) else actor.name
            if not isinstance(actor, str):
                self._require(session, call_id, actor, "secretariat")
            self._grant(session, call, name, parsed, now)

    def _grant(
        self, session: Session, call: Call, actor: str, grant: RoleGrant, now: dt.datetime
    ) -> None:
        if grant.role not in ROLES:
            raise WorkflowError("role", grant.role, f"one of {', '.join(ROLES)}")
        user_id = session.execute(
            select(UserAccount.id).where(UserAccount.name == grant.user)
        ).scalar_one_or_none()
        if user_id is None:
            raise WorkflowError(
                "user", grant.user, "a portal user (permedhub users add NAME --role viewer)"
            )
        if grant.role == "funder" and grant.funder not in call.funder_ids():
            raise WorkflowError(
                "funder",
                grant.funder,
                f"a funder of call {call.id}: {', '.join(call.funder_ids())}",
            )
        if grant.role == "reviewer" and grant.profile is None:
            raise WorkflowError("profile", None, "a reviewer's organisation and country")
        if grant.role == "funder":
            existing = [
                r
                for r in self._roles(session, call.id, user_id, "funder")
                if r.funder == grant.funder
            ]
        else:
            existing = self._roles(session, call.id, user_id, grant.role)
        profile = grant.profile.model_dump(mode="json") if grant.profile else {}
        if existing:
            existing[0].email, existing[0].profile = grant.email, profile
        else:
            if grant.role == "funder" and self._roles(session, call.id, user_id, "funder"):
                raise WorkflowError("funder", grant.funder, "one funder per user and call")
            session.add(
                CallRole(
                    call_id=call.id,
                    user_id=user_id,
                    role=grant.role,
                    email=grant.email,
                    funder=grant.funder,
                    profile=profile,
                )
            )
        self._audit(
            session,
            call.id,
            actor,
            "grant",
            "role",
            grant.user,
            now,
            role=grant.role,
            funder=grant.funder,
        )
        mail.queue(
            session,
            call.id,
            [grant.email],
            f"{call.id}: you are {_article(grant.role)} {grant.role}",
            f"{grant.user}, you now act as {grant.role} in the call {call.title} ({call.id}).",
            now,
        )

    # ------------------------------------------------------------ applicants

    def register_applicant(self, call_id: str, actor: Actor, email: str) -> None:
        """Any portal user registers as an applicant of a published call."""
        self.grant(call_id, actor.name, {"user": actor.name, "role": "applicant", "email": email})

    def register_consortium(self, call_id: str, actor: Actor, acronym: str) -> tuple[int, str]:
        """A new consortium owned by the applicant: its id and the join code to share."""
        acronym = acronym.strip()
        if not 1 <= len(acronym) <= 120:
            raise WorkflowError("acronym", acronym, "1-120 characters")
        now = self.now()
        with self._step() as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "applicant")
            if record.stage != 0:
                raise WorkflowError(
                    "stage",
                    call.stages[record.stage].name,
                    "the pre-proposal stage (new consortia register then)",
                )
            taken = session.execute(
                select(Consortium.id).where(
                    Consortium.call_id == call_id, Consortium.acronym == acronym
                )
            ).first()
            if taken:
                raise WorkflowError("acronym", acronym, "an acronym no other consortium has")
            code = secrets.token_urlsafe(12)
            consortium = Consortium(
                call_id=call_id,
                acronym=acronym,
                owner_id=actor.id,
                join_code=code,
                invited=False,
                created_at=now,
            )
            session.add(consortium)
            session.flush()
            session.add(Member(consortium_id=consortium.id, user_id=actor.id))
            self._audit(
                session,
                call_id,
                actor.name,
                "register",
                "consortium",
                consortium.id,
                now,
                acronym=acronym,
            )
            return consortium.id, code

    def join_consortium(self, call_id: str, actor: Actor, code: str) -> int:
        """Join the consortium whose join code the owner shared; its id."""
        now = self.now()
        with self._step() as session:
            self._call(session, call_id)
            self._require(session, call_id, actor, "applicant")
            consortium = session.execute(
                select(Consortium).where(
                    Consortium.call_id == call_id, Consortium.join_code == code.strip()
                )
            ).scalar_one_or_none()
            if consortium is None:
                raise WorkflowError("code", "***", "the join code a consortium's owner shared")
            if actor.id not in self._members(session, consortium.id):
                session.add(Member(consortium_id=consortium.id, user_id=actor.id))
                self._audit(session, call_id, actor.name, "join", "consortium", consortium.id, now)
                mail.queue(
                    session,
                    call_id,
                    self._applicant_emails(session, call_id, consortium.id),
                    f"{call_id}: {actor.name} joined {consortium.acronym}",
                    f"{actor.name} joined the consortium {consortium.acronym}.",
                    now,
                )
            return consortium.id

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
            raise _validation_error(error) from None
        found = against_call(ProposalSet(proposals=[_proposal_of(0, form)]), call)
        if found:
            where, value, expected = found[0]
            raise WorkflowError(field_path(where[2:]), value, expected)
        return form

    def save(
        self,
        consortium_id: int,
        actor: Actor,
        data: dict[str, Any],
        pdf: bytes | None = None,
        submit: bool = False,
    ) -> int:
        """Save the consortium's proposal at the open stage as a draft, or submit it
        (`submit`): before the deadline only, once. The proposal's id."""
        now = self.now()
        digest = check_pdf(pdf) if pdf is not None else None
        with self._step() as session:
            consortium = self._member_of(session, consortium_id, actor)
            record, call = self._call(session, consortium.call_id)
            form = self._form(call, data)
            stage = call.stages[record.stage]
            if record.stage == 1 and not consortium.invited:
                raise WorkflowError(
                    "stage",
                    stage.name,
                    "an invitation to the full-proposal "
                    "stage (the secretariat invites after the pre-proposals)",
                )
            if stage.opens is not None and now < stage.opens:
                raise WorkflowError(
                    "submitted_at",
                    now.isoformat(),
                    f"a time after the stage opens ({stage.opens.isoformat()})",
                )
            if now > stage.deadline:
                raise LateSubmission(
                    "submitted_at",
                    now.isoformat(),
                    f"a time before the {stage.name} deadline {stage.deadline.isoformat()} "
                    "(server clock): submissions are closed; your draft is kept as it was",
                )
            proposal = session.execute(
                select(ProposalRecord).where(
                    ProposalRecord.consortium_id == consortium_id,
                    ProposalRecord.stage == record.stage,
                )
            ).scalar_one_or_none()
            if proposal is not None and proposal.state == "submitted":
                raise WorkflowError(
                    "state",
                    "submitted",
                    f"a proposal not yet submitted (submitted at "
                    f"{_iso(proposal.submitted_at)}); withdraw it first to submit it anew",
                )
            fields = form.model_dump(mode="json")
            if proposal is None:
                proposal = ProposalRecord(
                    call_id=call.id,
                    consortium_id=consortium_id,
                    stage=record.stage,
                    state="draft",
                    fields=fields,
                    broken=[],
                    updated_at=now,
                )
                session.add(proposal)
            proposal.fields, proposal.updated_at = fields, now
            if pdf is not None:
                proposal.pdf, proposal.pdf_sha256 = pdf, digest
            if submit:
                if proposal.pdf is None:
                    raise WorkflowError("pdf", None, "the proposal's PDF (upload it)")
                proposal.state, proposal.submitted_at = "submitted", now
            else:
                proposal.state = "draft"
            session.flush()
            action = "submit" if submit else "save"
            self._audit(
                session,
                call.id,
                actor.name,
                action,
                "proposal",
                proposal.id,
                now,
                stage=stage.name,
                acronym=form.acronym,
                pdf_sha256=proposal.pdf_sha256,
            )
            if submit:
                mail.queue(
                    session,
                    call.id,
                    self._applicant_emails(session, call.id, consortium_id),
                    f"{call.id}: {stage.name} {form.acronym} received",
                    f"Your {stage.name} {form.acronym} ({form.title}) was received on "
                    f"{now.isoformat()}. Proposal number {proposal.id}.",
                    now,
                )
            return proposal.id

    def withdraw(self, proposal_id: int, actor: Actor) -> None:
        """Take a submitted proposal back before the deadline (it becomes withdrawn)."""
        now = self.now()
        with self._step() as session:
            proposal = self._proposal(session, proposal_id)
            self._member_of(session, proposal.consortium_id, actor)
            record, call = self._call(session, proposal.call_id)
            stage = call.stages[proposal.stage]
            if proposal.state != "submitted":
                raise WorkflowError("state", proposal.state, "a submitted proposal")
            if now > stage.deadline or record.stage != proposal.stage:
                raise LateSubmission(
                    "withdrawn_at",
                    now.isoformat(),
                    f"a time before the {stage.name} deadline {stage.deadline.isoformat()}",
                )
            proposal.state, proposal.updated_at = "withdrawn", now
            self._audit(session, call.id, actor.name, "withdraw", "proposal", proposal.id, now)
            mail.queue(
                session,
                call.id,
                self._applicant_emails(session, call.id, proposal.consortium_id),
                f"{call.id}: proposal {proposal.id} withdrawn",
                f"{actor.name} withdrew proposal {proposal.id} ({proposal.fields.get('acronym')}).",
                now,
            )

    def live_check(self, call_id: str, data: Any) -> LiveCheck:
        """The consortium rules on a form as typed (no role needed, nothing stored): each
        input problem, and each rule the partners that are complete break, with its fix."""
        with Session(self.engine) as session:
            _, call = self._call(session, call_id)
        return consortium_check(call, data)

    # ------------------------------------------------------------ eligibility

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

    def check_eligibility(self, call_id: str, actor: Actor) -> dict[str, Any]:
        """The secretariat runs the consortium and national rules on the submitted proposals
        of the open stage; the result is kept per proposal and mailed to its applicants."""
        now = self.now()
        with self._step() as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            proposals = self._submitted(session, call_id, record.stage)
            if not proposals:
                raise WorkflowError("proposals", 0, "submitted proposals to check")
            report = eligibility.check(call, _set_of(proposals))
            by_id = report.to_dict()
            for proposal, result in zip(proposals, by_id["proposals"], strict=True):
                proposal.eligible, proposal.broken = result["eligible"], result["broken"]
                self._audit(
                    session,
                    call_id,
                    actor.name,
                    "eligibility",
                    "proposal",
                    proposal.id,
                    now,
                    eligible=result["eligible"],
                    broken=[b["rule"] for b in result["broken"]],
                )
                fixes = "\n".join(f"- {b['message']}" for b in result["broken"])
                verdict = (
                    "meets the call's rules"
                    if result["eligible"]
                    else (f"breaks {len(result['broken'])} of the call's rules:\n{fixes}")
                )
                mail.queue(
                    session,
                    call_id,
                    self._applicant_emails(session, call_id, proposal.consortium_id),
                    f"{call_id}: eligibility of proposal {proposal.id}",
                    f"Proposal {proposal.id} ({proposal.fields.get('acronym')}) {verdict}",
                    now,
                )
            return by_id

    def national_check(
        self, proposal_id: int, actor: Actor, partner: int, accepted: bool, reason: str
    ) -> None:
        """A funder confirms or rejects one partner it is asked to fund, with the reason."""
        reason = reason.strip()
        if not reason:
            raise WorkflowError("reason", reason, "the reason for the decision")
        now = self.now()
        with self._step() as session:
            proposal = self._proposal(session, proposal_id)
            role = self._require(session, proposal.call_id, actor, "funder")
            partners = proposal.fields.get("partners", [])
            if not 0 <= partner < len(partners):
                raise WorkflowError("partner", partner, f"a partner 0-{len(partners) - 1}")
            if partners[partner].get("funder") != role.funder:
                raise NotAllowed(
                    f"{actor.name} decides for {role.funder}; partner {partner} "
                    f"of proposal {proposal_id} does not ask it"
                )
            check = session.get(NationalCheck, (proposal_id, partner))
            if check is None:
                check = NationalCheck(proposal_id=proposal_id, partner=partner)
                session.add(check)
            check.funder, check.accepted, check.reason = str(role.funder), accepted, reason
            check.by_user, check.at = actor.id, now
            self._audit(
                session,
                proposal.call_id,
                actor.name,
                "national",
                "proposal",
                proposal_id,
                now,
                partner=partner,
                accepted=accepted,
                reason=reason,
            )
            verdict = "confirmed" if accepted else "rejected"
            mail.queue(
                session,
                proposal.call_id,
                self._applicant_emails(session, proposal.call_id, proposal.consortium_id),
                f"{proposal.call_id}: national eligibility of proposal {proposal_id}",
                f"{role.funder} {verdict} partner {partner} "
                f"({partners[partner].get('organisation')}): {reason}",
                now,
            )

    def invite(self, call_id: str, actor: Actor, proposal_ids: Sequence[int]) -> None:
        """Close the pre-proposal stage: the consortia of `proposal_ids` are invited to the
        full-proposal stage, which opens; every applicant is told."""
        now = self.now()
        with self._step() as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            if record.stage != 0 or len(call.stages) < 2:
                raise WorkflowError(
                    "stage",
                    record.stage,
                    "a call in its pre-proposal stage with a full-proposal stage to come",
                )
            proposals = {p.id: p for p in self._submitted(session, call_id, 0)}
            unknown = [i for i in proposal_ids if i not in proposals]
            if unknown:
                raise WorkflowError("proposal_ids", unknown, "submitted pre-proposals")
            for proposal in proposals.values():
                chosen = proposal.id in proposal_ids
                consortium = session.get(Consortium, proposal.consortium_id)
                assert consortium is not None
                consortium.invited = chosen
                text = (
                    (
                        "is invited to submit a full proposal by "
                        f"{call.stages[1].deadline.isoformat()}"
                    )
                    if chosen
                    else ("is not invited to the full-proposal stage")
                )
                mail.queue(
                    session,
                    call_id,
                    self._applicant_emails(session, call_id, proposal.consortium_id),
                    f"{call_id}: pre-proposal {proposal.id}",
                    f"The consortium {consortium.acronym} {text}.",
                    now,
                )
            record.stage = 1
            self._audit(
                session,
                call_id,
                actor.name,
                "invite",
                "call",
                call_id,
                now,
                invited=sorted(proposal_ids),
            )

    # ------------------------------------------------------------ review

    def declare_conflict(
        self,
        call_id: str,
        actor: Actor,
        reason: str,
        proposal_id: int | None = None,
        organisation: str | None = None,
    ) -> None:
        if (proposal_id is None) == (organisation is None) or not reason.strip():
            raise WorkflowError(
                "conflict",
                proposal_id or organisation,
                "one proposal or one organisation, and a reason",
            )
        now = self.now()
        with self._step() as session:
            self._call(session, call_id)
            self._require(session, call_id, actor, "reviewer")
            session.add(
                Conflict(
                    call_id=call_id,
                    reviewer_id=actor.id,
                    proposal_id=proposal_id,
                    organisation=organisation,
                    reason=reason.strip(),
                )
            )
            if proposal_id is not None:  # a declared conflict ends an assignment at once
                session.execute(
                    delete(ReviewAssignment).where(
                        ReviewAssignment.proposal_id == proposal_id,
                        ReviewAssignment.reviewer_id == actor.id,
                    )
                )
            self._audit(
                session,
                call_id,
                actor.name,
                "conflict",
                "reviewer",
                actor.id,
                now,
                proposal=proposal_id,
                organisation=organisation,
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

    def assign_reviewers(
        self, call_id: str, actor: Actor, per_proposal: int = 3
    ) -> AssignmentResult:
        """Reviewers for the eligible proposals of the open stage (the MILP, conflicts of
        interest respected, declared ones included); each reviewer is mailed their list."""
        now = self.now()
        with self._step() as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            proposals = self._in_review(session, call_id, record.stage)
            if not proposals:
                raise WorkflowError(
                    "proposals", 0, "eligible proposals (run the eligibility check first)"
                )
            roles = list(
                session.execute(
                    select(CallRole, UserAccount.name)
                    .join(UserAccount, UserAccount.id == CallRole.user_id)
                    .where(CallRole.call_id == call_id, CallRole.role == "reviewer")
                    .order_by(UserAccount.name)
                ).all()
            )
            if not roles:
                raise WorkflowError("reviewers", 0, "reviewers granted in this call")
            declared: dict[int, list[str]] = {}
            for conflict in session.execute(
                select(Conflict).where(Conflict.call_id == call_id)
            ).scalars():
                target = (
                    str(conflict.proposal_id) if conflict.proposal_id else conflict.organisation
                )
                declared.setdefault(conflict.reviewer_id, []).append(str(target))
            try:
                pool = ReviewerPool(
                    reviewers=[
                        Reviewer(id=name, conflicts=declared.get(role.user_id, []), **role.profile)
                        for role, name in roles
                    ]
                )
            except ValidationError as error:
                raise _validation_error(error, "reviewers.") from None
            result = assignment.assign(_set_of(proposals), pool, per_proposal=per_proposal)
            ids = [p.id for p in proposals]
            session.execute(delete(ReviewAssignment).where(ReviewAssignment.proposal_id.in_(ids)))
            user_of = {name: role.user_id for role, name in roles}
            lists: dict[int, list[str]] = {}
            for row in result.assignments.itertuples(index=False):
                reviewer = user_of[row.reviewer]
                session.add(
                    ReviewAssignment(
                        proposal_id=int(row.proposal_id), reviewer_id=reviewer, match=int(row.match)
                    )
                )
                lists.setdefault(reviewer, []).append(str(row.proposal_id))
            self._audit(
                session,
                call_id,
                actor.name,
                "assign",
                "call",
                call_id,
                now,
                assigned=len(result.assignments),
                uncovered=records(result.uncovered),
            )
            for reviewer, listed in lists.items():
                mail.queue(
                    session,
                    call_id,
                    self._emails(session, call_id, [reviewer], "reviewer"),
                    f"{call_id}: {len(listed)} proposal(s) to review",
                    f"Please review proposal(s) {', '.join(listed)} of {call.title}.",
                    now,
                )
            return AssignmentResult(
                len(result.assignments), records(result.uncovered), records(result.loads)
            )

    def submit_review(
        self, proposal_id: int, actor: Actor, given: dict[str, Any], comment: str = ""
    ) -> None:
        """An assigned reviewer's score per criterion (on its scale), kept until replaced."""
        now = self.now()
        with self._step() as session:
            proposal = self._proposal(session, proposal_id)
            _, call = self._call(session, proposal.call_id)
            self._require(session, proposal.call_id, actor, "reviewer")
            if session.get(ReviewAssignment, (proposal_id, actor.id)) is None:
                raise NotAllowed(f"{actor.name} is not assigned to proposal {proposal_id}")
            if call.evaluation is None:
                raise WorkflowError("evaluation", None, "the call's evaluation criteria")
            clean: dict[str, float] = {}
            for criterion in call.evaluation.criteria:
                value = given.get(criterion.id)
                try:
                    number = float(value)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    number = float("nan")
                if not criterion.scale_min <= number <= criterion.scale_max:
                    raise WorkflowError(
                        f"scores.{criterion.id}",
                        value,
                        f"a score from {criterion.scale_min:g} to {criterion.scale_max:g}",
                    )
                clean[criterion.id] = number
            unknown = sorted(set(given) - set(clean))
            if unknown:
                raise WorkflowError(
                    f"scores.{unknown[0]}",
                    given[unknown[0]],
                    f"a criterion of the call: {', '.join(clean)}",
                )
            if len(comment) > 10_000:
                raise WorkflowError("comment", f"{len(comment)} characters", "at most 10,000")
            review = session.get(Review, (proposal_id, actor.id))
            if review is None:
                review = Review(proposal_id=proposal_id, reviewer_id=actor.id)
                session.add(review)
            review.scores, review.comment, review.at = clean, comment, now
            self._audit(
                session,
                proposal.call_id,
                actor.name,
                "review",
                "proposal",
                proposal_id,
                now,
                scores=clean,
            )
            mail.queue(
                session,
                proposal.call_id,
                self._emails(session, proposal.call_id, [actor.id], "reviewer"),
                f"{proposal.call_id}: your review of proposal {proposal_id} is saved",
                f"Scores: {clean}",
                now,
            )

    # ------------------------------------------------------------ ranking and decision

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
        table = scores.aggregate(call, reviews)
        requested = {
            str(i): sum(float(x.get("requested_eur", 0)) for x in p.fields["partners"])
            for i, p in proposals.items()
        }
        table["requested_eur"] = table["proposal_id"].map(requested)
        table["acronym"] = table["proposal_id"].map(
            {str(i): p.fields.get("acronym") for i, p in proposals.items()}
        )
        return scores.rank(call, table)

    def ranking(self, call_id: str, actor: Actor) -> pd.DataFrame:
        """The ranking list of the open stage from the reviews (the rule of `scores`)."""
        with Session(self.engine) as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            return self._ranking(session, call, record.stage)

    def decide(
        self, call_id: str, actor: Actor, top_up_eur: Decimal | None = None
    ) -> decision.Decision:
        """The funding decision down the ranking list under the national budgets; each
        proposal's outcome is kept and mailed to its applicants, and each funder its list."""
        now = self.now()
        with self._step() as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            ranked = self._ranking(session, call, record.stage)
            criteria = [c.id for c in call.evaluation.criteria] if call.evaluation else []
            by_id = {p.id: p for p in self._in_review(session, call_id, record.stage)}
            proposals = []
            for row in ranked.to_dict(orient="records"):
                form = ProposalForm.model_validate(by_id[int(row["proposal_id"])].fields)
                proposals.append(
                    _proposal_of(int(row["proposal_id"]), form).model_copy(
                        update={
                            "score": float(row["total"]),
                            "scores": {c: float(row[c]) for c in criteria},
                        }
                    )
                )
            result = decision.decide(call, ProposalSet(proposals=proposals), top_up_eur=top_up_eur)
            session.execute(delete(FundingOutcome).where(FundingOutcome.call_id == call_id))
            payments: dict[str, dict[str, float]] = {}
            for row in records(result.payments):
                payments.setdefault(row["proposal_id"], {})[row["funder"]] = row[
                    "paid_by_funder_eur"
                ]
            order = {r["proposal_id"]: r for r in records(result.ranking)}
            totals = dict(zip(ranked["proposal_id"], ranked["total"], strict=True))
            outcomes: list[tuple[str, str, str]] = []
            for pid in [*result.funded, *result.reserve]:
                status = "funded" if pid in result.funded else "reserve"
                outcomes.append((pid, status, ""))
                session.add(
                    FundingOutcome(
                        proposal_id=int(pid),
                        call_id=call_id,
                        status=status,
                        rank=int(order[pid]["order"]),
                        total=float(totals[pid]),
                        reason="",
                        payments=payments.get(pid, {}),
                        at=now,
                    )
                )
            for row in records(result.not_ranked):
                pid = row["proposal_id"]
                outcomes.append((pid, "not funded", row["reason"]))
                session.add(
                    FundingOutcome(
                        proposal_id=int(pid),
                        call_id=call_id,
                        status="not-ranked",
                        rank=None,
                        total=float(totals[pid]),
                        reason=row["reason"],
                        payments={},
                        at=now,
                    )
                )
            self._audit(
                session,
                call_id,
                actor.name,
                "decide",
                "call",
                call_id,
                now,
                funded=result.funded,
                reserve=result.reserve,
                mode=result.mode,
            )
            for pid, status, reason in outcomes:
                proposal = by_id[int(pid)]
                mail.queue(
                    session,
                    call_id,
                    self._applicant_emails(session, call_id, proposal.consortium_id),
                    f"{call_id}: funding decision on proposal {pid}",
                    f"Proposal {pid} ({proposal.fields.get('acronym')}): "
                    f"{status}{': ' + reason if reason else ''}.",
                    now,
                )
            funders = list(
                session.execute(
                    select(CallRole.email, CallRole.funder).where(
                        CallRole.call_id == call_id, CallRole.role == "funder"
                    )
                ).all()
            )
            for email, funder in funders:
                mine = [pid for pid, paid in payments.items() if funder in paid]
                mail.queue(
                    session,
                    call_id,
                    [email],
                    f"{call_id}: funding decision",
                    f"{funder} funds partners of proposal(s) {', '.join(mine) or 'none'}.",
                    now,
                )
            return result

    # ------------------------------------------------------------ what each role may read

    def roles_of(self, call_id: str, user_id: int) -> set[str]:
        with Session(self.engine) as session:
            return set(
                session.execute(
                    select(CallRole.role).where(
                        CallRole.call_id == call_id, CallRole.user_id == user_id
                    )
                ).scalars()
            )

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
                                "submitted_at": p.submitted_at,
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
            budgets = {f.organisation: cents(f.budget_eur) for f in call.funders}
            paid: dict[str, int] = {}
            for outcome in outcomes.values():
                for funder, amount in outcome.payments.items():
                    paid[funder] = paid.get(funder, 0) + round(float(amount) * 100)
            if outcomes:
                view.commitments = [
                    {
                        "funder": f,
                        "budget_eur": eur(b),
                        "committed_eur": eur(paid.get(f, 0)),
                        "left_eur": eur(b - paid.get(f, 0)),
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
                    "at": r.at,
                    "actor": r.actor,
                    "action": r.action,
                    "entity": r.entity,
                    "entity_id": r.entity_id,
                    "detail": r.detail,
                }
                for r in rows
            ]


# ---------------------------------------------------------------- pure pieces


def consortium_check(call: Call, data: Any) -> LiveCheck:
    """Each input problem of a typed form, and each rule of `call` broken by the partners
    that are complete, with the engine's message on how to fix it."""
    problems: list[dict[str, Any]] = []
    if not isinstance(data, dict):
        return LiveCheck([{"field": "form", "message": "expected a JSON object"}], [])
    partners = data.get("partners")
    if not isinstance(partners, list):
        partners = []
        problems.append({"field": "partners", "message": "add at least one partner"})
    valid: list[Partner] = []
    for i, raw in enumerate(partners[:60]):
        try:
            valid.append(Partner.model_validate(raw))
        except ValidationError as error:
            for item in error.errors():
                where = field_path(item["loc"])
                problems.append(
                    {
                        "field": f"partners[{i}]" + (f".{where}" if where else ""),
                        "message": str(item["msg"]).removeprefix("Value error, "),
                    }
                )
    for name in ("acronym", "title"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append({"field": name, "message": f"give the proposal's {name}"})
    modules = (
        [m for m in data.get("modules", []) if isinstance(m, str)]
        if isinstance(data.get("modules"), list)
        else []
    )
    known = {m.id for m in call.modules}
    for m in modules:
        if known and m not in known:
            problems.append({"field": "modules", "message": f"{m!r} is not a module of the call"})
    modules = [m for m in modules if not known or m in known]
    broken: list[dict[str, Any]] = []
    if valid:
        proposal = Proposal(id="draft", partners=valid, modules=modules)
        for j, partner in enumerate(valid):
            if partner.funder is not None and partner.funder not in call.funder_ids():
                problems.append(
                    {
                        "field": f"partners[{j}].funder",
                        "message": f"{partner.funder!r} is not a funder of the call; "
                        f"choose one of {', '.join(call.funder_ids())}",
                    }
                )
        report = eligibility.check(call, ProposalSet(proposals=[proposal]))
        broken = [
            {"rule": r["rule"], "partner": r["partner"], "message": r["message"]}
            for r in records(report.broken)
        ]
    return LiveCheck(problems, broken)


def _proposal_of(proposal_id: int, form: ProposalForm) -> Proposal:
    return Proposal(id=str(proposal_id), **form.model_dump(exclude={"abstract"}))


def _set_of(proposals: Sequence[ProposalRecord]) -> ProposalSet:
    return ProposalSet(
        proposals=[_proposal_of(p.id, ProposalForm.model_validate(p.fields)) for p in proposals]
    )


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"


def _iso(value: dt.datetime | None) -> str:
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
