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
for the ranking list, `decision.decide` for the funding decision. What each role may read is
in `views` (`WorkflowViews`, which this class extends), the helpers every step shares in
`workflow_base`, the applicants' form and PDF checks in `submissions`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from permedhub.calls import assignment, decision, eligibility, mail
from permedhub.calls.decision import Decision
from permedhub.calls.errors import LateSubmission, NotAllowed, WorkflowError
from permedhub.calls.model import Call, ProposalSet, Reviewer, ReviewerPool
from permedhub.calls.store import (
    ROLES,
    CallRecord,
    CallRole,
    Conflict,
    Consortium,
    FundingOutcome,
    Member,
    NationalCheck,
    PanelAdjustment,
    ProposalRecord,
    Review,
    ReviewAssignment,
    WorkflowAudit,
)
from permedhub.calls.submissions import (
    LiveCheck,
    ProposalForm,
    RoleGrant,
    check_pdf,
    consortium_check,
    proposal_of,
    set_of,
    validation_error,
)
from permedhub.calls.tables import records
from permedhub.calls.views import WorkflowViews
from permedhub.calls.workflow_base import Actor, article, iso_time
from permedhub.graph.models import Organisation, UserAccount


@dataclass(frozen=True)
class DecisionReport:
    """A decision with what it was made on: the call and the proposals (final scores)."""

    call: Call
    proposals: ProposalSet
    decision: Decision


@dataclass(frozen=True)
class AssignmentResult:
    assigned: int
    uncovered: list[dict[str, Any]]
    loads: list[dict[str, Any]]


GRAPH_ORGANISATION = (
    "the id of an organisation in the knowledge graph (as on its page /organisations/ID); if "
    "yours is missing, ask the call secretariat to have it added"
)


def _unknown_organisations(session: Session, ids: Sequence[str]) -> list[int]:
    """The positions of the ids in `ids` that name no organisation of the knowledge graph."""
    known = set(
        session.execute(select(Organisation.id).where(Organisation.id.in_(set(ids)))).scalars()
    )
    return [i for i, organisation in enumerate(ids) if organisation not in known]


def _known_organisations(session: Session, form: ProposalForm) -> None:
    """Every partner names an organisation of the knowledge graph by its id: the reviewers'
    conflicts of interest, the statistics by organisation kind and the funded projects'
    partners all rest on it. (The form has no way to name an organisation the graph lacks:
    `organisation` is an id, `name` only a label; the graph's curators add a missing one.)"""
    ids = [p.organisation for p in form.partners]
    unknown = _unknown_organisations(session, ids)
    if unknown:
        i = unknown[0]
        raise WorkflowError(f"partners[{i}].organisation", ids[i], GRAPH_ORGANISATION)


@dataclass
class Workflow(WorkflowViews):
    """The steps of a call (see the module docstring); reads are `WorkflowViews`'."""

    # ------------------------------------------------------------ operator and secretariat

    def publish(self, call: Call, actor: str, secretariat: Sequence[tuple[str, str]] = ()) -> None:
        """Put `call` into the workflow, with `secretariat` (user name, e-mail) pairs; or
        replace the document of a published call (a new version: the stage and the roles
        stay) while nothing is submitted and every funder a user acts for stays in it. The
        operator's step (the command line, a curator on the portal)."""
        now = self.now()
        with self._step() as session:
            record = session.get(CallRecord, call.id)
            document = call.model_dump(mode="json")
            detail: dict[str, Any] = {}
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
                self._still_fits(session, record, call)
                # A new version of the document: the audit names the parts it changes.
                detail["changed"] = sorted(
                    k for k, v in document.items() if record.document.get(k) != v
                )
                record.title, record.document = call.title, document
            self._audit(session, call.id, actor, "publish", "call", call.id, now, **detail)
            for name, email in secretariat:
                self._grant(
                    session, call, actor, RoleGrant(user=name, role="secretariat", email=email), now
                )

    @staticmethod
    def _still_fits(session: Session, record: CallRecord, call: Call) -> None:
        """A new document of a published call keeps every funder that users hold a funder
        role of: their roles, and the national checks they record, refer to it."""
        held = set(
            session.execute(
                select(CallRole.funder).where(
                    CallRole.call_id == record.id, CallRole.role == "funder"
                )
            ).scalars()
        )
        missing = sorted(f for f in held - set(call.funder_ids()) if f)
        if missing:
            raise WorkflowError(
                "funders",
                ", ".join(missing),
                "every funder that users hold a funder role of (revoke those roles first)",
            )

    def grant(self, call_id: str, actor: Actor | str, grant: dict[str, Any]) -> None:
        """Give a user a role in a call. A secretariat member may (an `Actor`); the operator
        at the command line may too (a plain name)."""
        try:
            parsed = RoleGrant.model_validate(grant)
        except ValidationError as error:
            raise validation_error(error) from None
        now = self.now()
        with self._step() as session:
            _, call = self._call(session, call_id)
            name = self._secretariat_or_operator(session, call_id, actor)
            self._grant(session, call, name, parsed, now)

    def _secretariat_or_operator(self, session: Session, call_id: str, actor: Actor | str) -> str:
        """The acting name: a portal user must be in the call's secretariat; the operator at
        the command line (a plain name) may act on any call."""
        if isinstance(actor, str):
            return actor
        self._require(session, call_id, actor, "secretariat")
        return actor.name

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
            f"{call.id}: you are {article(grant.role)} {grant.role}",
            f"{grant.user}, you now act as {grant.role} in the call {call.title} ({call.id}).",
            now,
        )

    def revoke(self, call_id: str, actor: Actor | str, user: str, role: str) -> None:
        """Take a role in a call from a user; who may grant may revoke. Refused while the
        role is in use: the last secretariat member, a reviewer whose scores are on record
        (they stay in the ranking under their name), an applicant who belongs to a
        consortium. A reviewer's assignments not yet reviewed go with the role."""
        now = self.now()
        with self._step() as session:
            _, call = self._call(session, call_id)
            name = self._secretariat_or_operator(session, call_id, actor)
            if role not in ROLES:
                raise WorkflowError("role", role, f"one of {', '.join(ROLES)}")
            user_id = session.execute(
                select(UserAccount.id).where(UserAccount.name == user)
            ).scalar_one_or_none()
            held = self._roles(session, call_id, user_id, role) if user_id is not None else []
            if user_id is None or not held:
                raise WorkflowError("user", user, f"a user holding the {role} role in {call_id}")
            self._role_free(session, call_id, user_id, role)
            dropped = self._drop_open_assignments(session, call_id, user_id, role)
            session.delete(held[0])
            self._audit(
                session, call_id, name, "revoke", "role", user, now,
                role=role, funder=held[0].funder, assignments_dropped=dropped,
            )  # fmt: skip
            mail.queue(
                session,
                call_id,
                [held[0].email],
                f"{call_id}: you are no longer {article(role)} {role}",
                f"{user}, you no longer act as {role} in the call {call.title} ({call_id}).",
                now,
            )

    def _role_free(self, session: Session, call_id: str, user_id: int, role: str) -> None:
        """Refuse to revoke a role that stored records still need (see `revoke`)."""
        if role == "secretariat":
            members = session.execute(
                select(func.count()).where(
                    CallRole.call_id == call_id, CallRole.role == "secretariat"
                )
            ).scalar_one()
            if members <= 1:
                raise WorkflowError(
                    "role", role, "another secretariat member first (a call keeps at least one)"
                )
        if role == "reviewer":
            reviewed = session.execute(
                select(func.count())
                .select_from(Review)
                .join(ProposalRecord, ProposalRecord.id == Review.proposal_id)
                .where(ProposalRecord.call_id == call_id, Review.reviewer_id == user_id)
            ).scalar_one()
            if reviewed:
                raise WorkflowError(
                    "role",
                    role,
                    f"a reviewer without reviews on record ({reviewed} given: their scores "
                    "stay in the ranking)",
                )
        if role == "applicant":
            consortia = session.execute(
                select(Consortium.acronym)
                .join(Member, Member.consortium_id == Consortium.id)
                .where(Consortium.call_id == call_id, Member.user_id == user_id)
            ).scalars()
            named = ", ".join(consortia)
            if named:
                raise WorkflowError(
                    "role", role, f"an applicant of no consortium (a member of {named})"
                )

    @staticmethod
    def _drop_open_assignments(
        session: Session, call_id: str, user_id: int, role: str
    ) -> list[int]:
        """A revoked reviewer's assignments in the call (none are reviewed: see `_role_free`)."""
        if role != "reviewer":
            return []
        ids = list(
            session.execute(
                select(ReviewAssignment.proposal_id)
                .join(ProposalRecord, ProposalRecord.id == ReviewAssignment.proposal_id)
                .where(ProposalRecord.call_id == call_id, ReviewAssignment.reviewer_id == user_id)
                .order_by(ReviewAssignment.proposal_id)
            ).scalars()
        )
        if ids:
            session.execute(
                delete(ReviewAssignment).where(
                    ReviewAssignment.reviewer_id == user_id,
                    ReviewAssignment.proposal_id.in_(ids),
                )
            )
        return ids

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
            _known_organisations(session, form)
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
                    f"{iso_time(proposal.submitted_at)}); withdraw it first to submit it anew",
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
            found = consortium_check(call, data)
            partners = data.get("partners") if isinstance(data, dict) else None
            typed = [
                (i, p["organisation"])
                for i, p in enumerate(partners if isinstance(partners, list) else [])
                if isinstance(p, dict) and isinstance(p.get("organisation"), str)
            ]
            unknown = _unknown_organisations(session, [organisation for _, organisation in typed])
        problems = [
            {
                "field": f"partners[{typed[k][0]}].organisation",
                "message": f"{typed[k][1]!r} is not {GRAPH_ORGANISATION}",
            }
            for k in unknown
        ]
        return LiveCheck([*found.problems, *problems], found.broken)

    # ------------------------------------------------------------ eligibility

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
            report = eligibility.check(call, set_of(proposals))
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
                raise validation_error(error, "reviewers.") from None
            result = assignment.assign(set_of(proposals), pool, per_proposal=per_proposal)
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

    def ranking(self, call_id: str, actor: Actor) -> pd.DataFrame:
        """The ranking list of the open stage from the reviews (the rule of `scores`)."""
        with Session(self.engine) as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            return self._ranking(session, call, record.stage)

    def adjust(
        self, proposal_id: int, actor: Actor, criterion: str, score: Any, reason: str
    ) -> None:
        """The panel sets one criterion's score of a proposal, with a recorded reason; the
        ranking list then uses it instead of the reviewers' aggregate and shows why."""
        reason = reason.strip()
        if not reason:
            raise WorkflowError("reason", reason, "the panel's reason for the change")
        now = self.now()
        with self._step() as session:
            proposal = self._proposal(session, proposal_id)
            _, call = self._call(session, proposal.call_id)
            self._require(session, proposal.call_id, actor, "secretariat")
            criteria = {c.id: c for c in call.evaluation.criteria} if call.evaluation else {}
            if criterion not in criteria:
                raise WorkflowError("criterion", criterion, f"one of {', '.join(criteria)}")
            found = criteria[criterion]
            try:
                value = float(score)
            except (TypeError, ValueError):
                value = float("nan")
            if not found.scale_min <= value <= found.scale_max:
                raise WorkflowError(
                    "score", score, f"a score from {found.scale_min:g} to {found.scale_max:g}"
                )
            if proposal.id not in {p.id for p in self._in_review(session, call.id, proposal.stage)}:
                raise WorkflowError("proposal", proposal_id, "an eligible proposal in review")
            row = session.get(PanelAdjustment, (proposal_id, criterion))
            if row is None:
                row = PanelAdjustment(proposal_id=proposal_id, criterion=criterion)
                session.add(row)
            row.score, row.reason, row.by_user, row.at = value, reason, actor.id, now
            self._audit(
                session,
                call.id,
                actor.name,
                "adjust",
                "proposal",
                proposal_id,
                now,
                criterion=criterion,
                score=value,
                reason=reason,
            )

    def decide(
        self, call_id: str, actor: Actor, top_up_eur: Decimal | None = None
    ) -> decision.Decision:
        """The funding decision down the ranking list under the national budgets; each
        proposal's outcome is kept and mailed to its applicants, and each funder its list."""
        now = self.now()
        with self._step() as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            ranked, by_id, proposals = self._decision_input(session, call, record.stage)
            result = decision.decide(call, proposals, top_up_eur=top_up_eur)
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
                # What `decision_report` reruns the decision with.
                top_up_eur=None if top_up_eur is None else str(top_up_eur),
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

    def _decision_input(
        self, session: Session, call: Call, stage: int
    ) -> tuple[pd.DataFrame, dict[int, ProposalRecord], ProposalSet]:
        """The ranking list of the open stage, its proposals by id, and them as the
        decision's input (final scores from the ranking)."""
        ranked = self._ranking(session, call, stage)
        criteria = [c.id for c in call.evaluation.criteria] if call.evaluation else []
        by_id = {p.id: p for p in self._in_review(session, call.id, stage)}
        proposals = []
        for row in ranked.to_dict(orient="records"):
            form = ProposalForm.model_validate(by_id[int(row["proposal_id"])].fields)
            proposals.append(
                proposal_of(int(row["proposal_id"]), form).model_copy(
                    update={
                        "score": float(row["total"]),
                        "scores": {c: float(row[c]) for c in criteria},
                    }
                )
            )
        return ranked, by_id, ProposalSet(proposals=proposals)

    def decision_report(self, call_id: str, actor: Actor) -> DecisionReport | None:
        """The secretariat's last funding decision in full (lists, commitments, what-ifs), or
        None before one. Only outcomes are stored, so the decision is run again on the same
        ranking with the top-up it was made with; when reviews or panel adjustments have
        changed the ranking since, the rerun would differ from what was decided and
        notified, and a WorkflowError says to decide again."""
        with Session(self.engine) as session:
            record, call = self._call(session, call_id)
            self._require(session, call_id, actor, "secretariat")
            stored = dict(
                session.execute(
                    select(FundingOutcome.proposal_id, FundingOutcome.status).where(
                        FundingOutcome.call_id == call_id
                    )
                ).all()
            )
            if not stored:
                return None
            last = session.execute(
                select(WorkflowAudit.detail)
                .where(WorkflowAudit.call_id == call_id, WorkflowAudit.action == "decide")
                .order_by(WorkflowAudit.id.desc())
                .limit(1)
            ).scalar_one()
            top_up = last.get("top_up_eur")
            _, _, proposals = self._decision_input(session, call, record.stage)
        result = decision.decide(
            call, proposals, top_up_eur=None if top_up is None else Decimal(str(top_up))
        )
        rerun = {int(p): "funded" for p in result.funded} | {
            int(p): "reserve" for p in result.reserve
        }
        decided = {p: s for p, s in stored.items() if s in ("funded", "reserve")}
        if rerun != decided:
            raise WorkflowError(
                "decision",
                "out of date",
                "a decision on the current ranking: reviews or panel adjustments changed it "
                "after the decision; decide again",
            )
        return DecisionReport(call, proposals, result)
