"""Managing calls on the portal: curators write and publish call documents, a call's
secretariat grants and revokes its roles.

A curator pastes or uploads a call document; it is validated by the library's reader
(`calls.documents.read_call_text`: every problem with its field path, value, expectation and
line) and, if valid, previewed with the public call page's own template, nothing stored yet.
Publishing re-reads the same text and hands it to `Workflow.publish`, which audits the step
and refuses a new document for a call with submissions or one that drops a funder somebody
holds a role of; the refusal is shown and nothing is stored.

The roles page calls `Workflow.grant` and `Workflow.revoke`, which check that the user is a
secretariat member of the call (403 otherwise), as the command line's `calls grant` does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from permedhub.calls import catalogue
from permedhub.calls.catalogue import CallDocument
from permedhub.calls.documents import read_call_text
from permedhub.calls.errors import CallDocumentError, CallInputError, Problem
from permedhub.calls.model import Call
from permedhub.calls.store import ROLES
from permedhub.graph.curation import UserView
from permedhub.web.auth import CsrfOk, Curator, Viewer
from permedhub.web.deps import EntityId, SessionDep, engine_of
from permedhub.web.pages.calls import actor_of, done_redirect, guarded, workflow_of
from permedhub.web.pages.calls_public import call_summary, document_context
from permedhub.web.pages.rendering import form_text, private, render

router = APIRouter(include_in_schema=False)
MAX_DOCUMENT_BYTES = 512 * 1024
# The document travels back in the publish form, URL-encoded (up to 9 bytes a character).
DOCUMENT_FORM_BYTES = 10 * MAX_DOCUMENT_BYTES
SECRETARIAT_ROWS = 4


# ---------------------------------------------------------------- call documents (curators)


class _DocumentDumper(yaml.SafeDumper):
    """YAML as a person writes a call document: amounts as plain numbers, not quoted text."""


def _amount(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    tag = "int" if value == value.to_integral_value() else "float"
    return dumper.represent_scalar(f"tag:yaml.org,2002:{tag}", format(value.normalize(), "f"))


_DocumentDumper.add_representer(Decimal, _amount)


def _document_yaml(doc: CallDocument) -> str:
    """The text a curator edits: the seeded file as written (comments kept) until the call is
    published, then the document it runs on."""
    seeded = catalogue.seed_text(doc.call.id) if not doc.published else None
    if seeded is not None:
        return seeded
    return yaml.dump(
        doc.call.model_dump(exclude_defaults=True),
        Dumper=_DocumentDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )


def _editor(
    request: Request,
    *,
    text: str = "",
    problems: list[Problem] | None = None,
    problem: str | None = None,
    preview: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return private(
        render(
            request,
            "calls/edit.html",
            {
                "text": text,
                "problems": problems,
                "problem": problem,
                "documents": sorted(
                    catalogue.documents(engine_of(request)).values(), key=lambda d: d.call.id
                ),
                "max_kb": MAX_DOCUMENT_BYTES // 1024,
                "secretariat_rows": SECRETARIAT_ROWS,
                "preview": preview,
                **(preview or {}),
            },
            status_code=status_code,
        )
    )


@router.get("/curate/calls", response_class=HTMLResponse)
def call_editor(request: Request, user: Curator, edit: str | None = None) -> HTMLResponse:
    text = ""
    if edit:
        doc = catalogue.document(engine_of(request), edit[:120])
        if doc is None:
            return _editor(
                request, problem=f"edit = {edit[:120]!r}: no call document has this id",
                status_code=404,
            )  # fmt: skip
        text = _document_yaml(doc)
    return _editor(request, text=text)


async def _document_text(form: FormData) -> bytes:
    """The uploaded file if one was chosen, else the pasted text."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_DOCUMENT_BYTES + 1)
    else:
        data = form_text(form, "document").encode("utf-8")
    if not data.strip():
        raise CallInputError("document", "(empty)", "a call document: paste it or upload a file")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CallInputError(
            "document", f"{len(data):,} bytes", f"at most {MAX_DOCUMENT_BYTES:,} bytes"
        )
    return data


def _refused(request: Request, text: bytes, error: Exception) -> HTMLResponse:
    shown = text.decode("utf-8", "replace")
    if isinstance(error, CallDocumentError):
        return _editor(request, text=shown, problems=error.problems, status_code=422)
    return _editor(request, text=shown, problem=str(error), status_code=422)


def _preview(request: Request, session: Session, text: str, call: Call) -> dict[str, Any]:
    """The preview's context: the call's page as publishing would make it."""
    published = catalogue.document(engine_of(request), call.id)
    # Shown as it will be: a published call keeps the stage it is at.
    shown = CallDocument(
        call,
        seed_file=published.seed_file if published else None,
        stage=published.stage if published and published.published else None,
        published_at=published.published_at if published else None,
    )
    return {
        "text": text,
        "replaces": published if published and published.published else None,
        **document_context(
            session, shown, call_summary(session, call.id), workflow_of(request).now()
        ),
    }


async def _submitted_call(request: Request, form: FormData) -> tuple[str, Call] | HTMLResponse:
    """The form's document as text and validated call, or the editor showing why not."""
    text = b""
    try:
        text = await _document_text(form)
        call = read_call_text(text)
    except (CallDocumentError, CallInputError) as error:
        return _refused(request, text, error)
    return text.decode("utf-8"), call  # read_call_text has checked the encoding


@router.post(
    "/curate/calls/preview", response_class=HTMLResponse, max_body_size=DOCUMENT_FORM_BYTES
)
async def preview_call(
    request: Request, user: Curator, _csrf: CsrfOk, session: SessionDep
) -> HTMLResponse:
    form = await request.form()
    read = await _submitted_call(request, form)
    if isinstance(read, HTMLResponse):
        return read
    shown, call = read
    return _editor(request, text=shown, preview=_preview(request, session, shown, call))


def secretariat_of(form: FormData) -> list[tuple[str, str]]:
    """The (user, e-mail) rows of the publish form that name a user."""
    pairs = []
    for i in range(SECRETARIAT_ROWS):
        name, email = form_text(form, f"sec_name_{i}"), form_text(form, f"sec_email_{i}")
        if name or email:
            if not (name and email):
                raise CallInputError(
                    f"secretariat[{i}]", name or email, "a portal user's name and an e-mail"
                )
            pairs.append((name, email))
    return pairs


@router.post(
    "/curate/calls/publish", response_class=HTMLResponse, max_body_size=DOCUMENT_FORM_BYTES
)
async def publish_call(
    request: Request, user: Curator, _csrf: CsrfOk, session: SessionDep
) -> Response:
    form = await request.form()
    read = await _submitted_call(request, form)
    if isinstance(read, HTMLResponse):
        return read
    shown, call = read
    try:
        pairs = secretariat_of(form)
        existing = catalogue.document(engine_of(request), call.id)
        if not pairs and not (existing and existing.published):
            raise CallInputError(
                "secretariat", "(none)",
                "at least one secretariat member on a first publication (they run the call)",
            )  # fmt: skip
        workflow_of(request).publish(call, user.name, secretariat=pairs)
    except CallInputError as error:
        preview = _preview(request, session, shown, call)
        return _editor(request, text=shown, preview=preview, problem=str(error), status_code=422)
    return RedirectResponse(f"/calls/{call.id}?published=1", status_code=303)


# ---------------------------------------------------------------- roles (the secretariat)


def _roles_page(
    request: Request,
    user: UserView,
    call_id: str,
    problem: str | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    workflow = workflow_of(request)
    holders = guarded(lambda: workflow.role_holders(call_id, actor_of(user)))
    call, _ = workflow.call_of(call_id)
    return private(
        render(
            request,
            "calls/roles.html",
            {
                "call": call,
                "holders": holders,
                "roles": ROLES,
                "problem": problem,
                "typed": typed or {},
                "done": request.query_params.get("done"),
            },
            status_code=status_code,
        )
    )


@router.get("/calls/{call_id}/roles", response_class=HTMLResponse)
def roles_page(request: Request, user: Viewer, call_id: EntityId) -> HTMLResponse:
    return _roles_page(request, user, call_id)


def grant_of(form: FormData) -> dict[str, Any]:
    """The grant form as `Workflow.grant` takes it (the library validates it)."""
    role = form_text(form, "role")
    grant: dict[str, Any] = {
        "user": form_text(form, "user"),
        "role": role,
        "email": form_text(form, "email"),
    }
    if role == "funder":
        grant["funder"] = form_text(form, "funder") or None
    if role == "reviewer" and (form_text(form, "organisation") or form_text(form, "country")):
        profile: dict[str, Any] = {
            "organisation": form_text(form, "organisation"),
            "country": form_text(form, "country"),
            "expertise": [t.strip() for t in form_text(form, "expertise").split(",") if t.strip()],
        }
        if form_text(form, "max_load"):
            profile["max_load"] = form_text(form, "max_load")
        grant["profile"] = profile
    return grant


@router.post("/calls/{call_id}/roles/grant", response_class=HTMLResponse)
async def grant_role(request: Request, user: Viewer, _csrf: CsrfOk, call_id: EntityId) -> Response:
    form = await request.form()
    grant = grant_of(form)
    workflow = workflow_of(request)
    try:
        guarded(lambda: workflow.grant(call_id, actor_of(user), grant))
    except CallInputError as error:
        typed = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
        return _roles_page(request, user, call_id, str(error), typed, status_code=422)
    return done_redirect(f"/calls/{call_id}/roles", f"{grant['user']} is now {grant['role']}.")


@router.post("/calls/{call_id}/roles/revoke", response_class=HTMLResponse)
async def revoke_role(request: Request, user: Viewer, _csrf: CsrfOk, call_id: EntityId) -> Response:
    form = await request.form()
    name, role = form_text(form, "user"), form_text(form, "role")
    workflow = workflow_of(request)
    try:
        guarded(lambda: workflow.revoke(call_id, actor_of(user), name, role))
    except CallInputError as error:
        return _roles_page(request, user, call_id, str(error), status_code=422)
    return done_redirect(f"/calls/{call_id}/roles", f"{name} is no longer {role}.")
