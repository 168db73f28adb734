"""What applicants send: the proposal form, its PDF, and the consortium check as they type.

Pydantic at the boundary (`ProposalForm`, `RoleGrant`, `ReviewerProfile`); a PDF is judged by
its bytes; `consortium_check` runs the call's rules on whatever partners are complete so far.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from permedhub.calls import eligibility
from permedhub.calls.errors import WorkflowError
from permedhub.calls.model import Call, Name, Partner, Proposal, ProposalSet, Slug
from permedhub.calls.store import ProposalRecord
from permedhub.calls.tables import records

MAX_PDF_BYTES = 5 * 1024 * 1024
PDF_TAIL_BYTES = 2048
# An address as mail servers take it: one @, no spaces, a dotted or local host.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


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


def validation_error(error: ValidationError, prefix: str = "") -> WorkflowError:
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


def proposal_of(proposal_id: int, form: ProposalForm) -> Proposal:
    return Proposal(id=str(proposal_id), **form.model_dump(exclude={"abstract"}))


def set_of(proposals: Sequence[ProposalRecord]) -> ProposalSet:
    return ProposalSet(
        proposals=[proposal_of(p.id, ProposalForm.model_validate(p.fields)) for p in proposals]
    )
