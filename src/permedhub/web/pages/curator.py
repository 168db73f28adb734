"""The curator area: log in, edit organisations, import files with a preview, audit log, undo.

Every route here states the role it needs (`Viewer`, `Curator`, `Admin`) and every POST checks
the session's CSRF token. The work itself is done by `graph.curation` and `graph.loading`.
"""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from permedhub.graph import curation
from permedhub.graph.loading import LoadError, load
from permedhub.graph.schemas import OrganisationKind
from permedhub.web.auth import (
    Admin,
    CsrfChecked,
    CsrfOk,
    Curator,
    Viewer,
    log_in,
    log_out,
    rate_limiter,
)
from permedhub.web.deps import engine_of, get_session
from permedhub.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
SessionDep = Annotated[Session, Depends(get_session)]
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".csv")
ORGANISATION_KINDS: tuple[str, ...] = OrganisationKind.__args__  # type: ignore[attr-defined]
# (field, label, input type, hint) of the organisation form; names are OrganisationIn's fields.
ORGANISATION_FIELDS = (
    ("name", "Name", "text", "Full official name"),
    ("acronym", "Acronym", "text", ""),
    ("kind", "Kind", "select", ""),
    ("country", "Country", "text", "ISO 3166-1 code, e.g. DE"),
    ("subdivision", "Region or province", "text", "ISO 3166-2 code, e.g. ES-NC"),
    ("city", "City", "text", ""),
    ("latitude", "Latitude", "text", "decimal degrees, -90 to 90"),
    ("longitude", "Longitude", "text", "decimal degrees, -180 to 180"),
    ("website", "Website", "url", ""),
    ("ror_id", "ROR id", "text", ""),
    ("expertise", "Expertise", "text", "separate topics with ';'"),
    ("notes", "Notes", "textarea", ""),
    ("source", "Source", "text", "URL or citation the facts come from"),
)
LIST_FIELDS = {"expertise"}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ---------------------------------------------------------------- login


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/curate") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None, "name": ""})


def _safe_next(target: str) -> str:
    """Only local paths: never redirect a login to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/curate"


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfChecked])
def login(
    request: Request,
    name: Annotated[str, Form(max_length=120)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=500)] = "/curate",
) -> Response:
    limiter = rate_limiter(request)
    wait = limiter.retry_after(name, _client(request))
    if wait:
        response = render(
            request,
            "login.html",
            {
                "next": _safe_next(next),
                "name": name,
                "error": f"Too many failed attempts. Try again in {wait} seconds.",
            },
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    user = curation.authenticate(engine_of(request), name, password)
    if user is None:
        limiter.failed(name, _client(request))
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "name": name, "error": "Wrong name or password."},
            status_code=401,
        )
    limiter.succeeded(name, _client(request))
    log_in(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    log_out(request)
    return RedirectResponse("/", status_code=303)


@router.get("/curate", response_class=HTMLResponse)
def dashboard(request: Request, user: Viewer, session: SessionDep) -> HTMLResponse:
    entries, total = curation.audit_log(session, limit=10)
    return render(request, "curate/dashboard.html", {"entries": entries, "total": total})


# ---------------------------------------------------------------- organisation form


def _form_values(record: dict[str, Any]) -> dict[str, str]:
    values = {}
    for field, *_ in ORGANISATION_FIELDS:
        value = record.get(field)
        if isinstance(value, list):
            value = "; ".join(value)
        values[field] = "" if value is None else str(value)
    return values


def _changes_from_form(form: dict[str, str]) -> dict[str, Any]:
    """Form text to schema input: blank -> None, ';'-lists -> lists; the schema does the rest."""
    changes: dict[str, Any] = {}
    for field, *_ in ORGANISATION_FIELDS:
        text = form.get(field, "").strip()
        if field in LIST_FIELDS:
            changes[field] = [part.strip() for part in text.split(";") if part.strip()]
        else:
            changes[field] = text or None
    return changes


def _organisation_form(
    request: Request,
    organisation_id: str,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "curate/organisation_form.html",
        {
            "organisation_id": organisation_id,
            "fields": ORGANISATION_FIELDS,
            "kinds": ORGANISATION_KINDS,
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/curate/organisations/{organisation_id}", response_class=HTMLResponse)
def edit_organisation_form(
    request: Request, user: Curator, session: SessionDep, organisation_id: str
) -> HTMLResponse:
    try:
        record = curation.record_input(session, "organisation", organisation_id)
    except curation.CurationError as exc:
        raise HTTPException(404, f"no organisation with id {organisation_id!r}") from exc
    return _organisation_form(request, organisation_id, _form_values(record), {})


@router.post("/curate/organisations/{organisation_id}", response_class=HTMLResponse)
async def edit_organisation(
    request: Request, user: Curator, _csrf: CsrfOk, organisation_id: str
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        curation.update_record(
            engine_of(request),
            "organisation",
            organisation_id,
            _changes_from_form(form),
            actor=user.name,
        )
    except curation.CurationError as exc:
        errors = {p.field.split(".")[0]: p.expected for p in exc.problems}
        if any(field == "id" for field in errors) and len(errors) == 1:
            raise HTTPException(404, f"no organisation with id {organisation_id!r}") from exc
        return _organisation_form(
            request,
            organisation_id,
            {k: form.get(k, "") for k, *_ in ORGANISATION_FIELDS},
            errors,
            status_code=422,
        )
    return RedirectResponse(f"/organisations/{organisation_id}?saved=1", status_code=303)


# ---------------------------------------------------------------- import with preview


def _upload_dir(request: Request) -> Path:
    path: Path = request.app.state.upload_dir
    return path


def _discard_staged(request: Request) -> None:
    staged = request.session.pop("upload", None)
    if isinstance(staged, dict) and re.fullmatch(r"[A-Za-z0-9_-]+", str(staged.get("token"))):
        shutil.rmtree(_upload_dir(request) / str(staged["token"]), ignore_errors=True)


def _safe_name(filename: str) -> str:
    base = Path(filename.replace("\\", "/")).name.lower()
    return re.sub(r"[^a-z0-9._-]+", "-", base).strip(".-") or "upload"


def guard_upload_size(request: Request) -> None:
    """Refuse an oversized body before it is read (a dependency placed before the CSRF check)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise HTTPException(
            413, f"The file is too large: at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
        )


@router.get("/curate/upload", response_class=HTMLResponse)
def upload_form(request: Request, user: Curator) -> HTMLResponse:
    return render(request, "curate/upload.html", _upload_context())


def _upload_context(**extra: Any) -> dict[str, Any]:
    return {
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        "suffixes": UPLOAD_SUFFIXES,
        "problem": None,
        "report": None,
        "issues": None,
        "filename": None,
        **extra,
    }


def _upload_problem(request: Request, message: str, status_code: int) -> HTMLResponse:
    return render(
        request, "curate/upload.html", _upload_context(problem=message), status_code=status_code
    )


UploadSizeOk = Annotated[None, Depends(guard_upload_size)]


@router.post("/curate/upload", response_class=HTMLResponse)
async def upload_preview(
    request: Request, user: Curator, _size: UploadSizeOk, _csrf: CsrfOk
) -> HTMLResponse:
    # The form is read here, after the role, size and token checks, not as a body parameter
    # (FastAPI would read a body parameter before any dependency runs).
    file = (await request.form()).get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _upload_problem(request, "Choose a file to upload.", 422)
    _discard_staged(request)
    name = _safe_name(file.filename or "")
    if not name.endswith(UPLOAD_SUFFIXES):
        return _upload_problem(
            request,
            f"{file.filename!r} is not a file type that can be imported: expected "
            + ", ".join(UPLOAD_SUFFIXES),
            415,
        )
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return _upload_problem(
            request, f"The file is too large: at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.", 413
        )
    if not content.strip():
        return _upload_problem(request, "The file is empty.", 422)
    token = secrets.token_urlsafe(16)
    folder = _upload_dir(request) / token
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(content)
    try:
        report = load(engine_of(request), [path], actor=user.name, dry_run=True)
    except LoadError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        issues = [
            {"row": i.row, "field": i.field, "value": i.value, "expected": i.expected}
            for i in exc.issues
        ]
        return render(
            request,
            "curate/upload.html",
            _upload_context(issues=issues, filename=name),
            status_code=422,
        )
    request.session["upload"] = {"token": token, "name": name}
    changes = [
        {**c, "fields": curation.changed_fields(c.get("old"), c.get("new"))}
        for c in report.changes[:300]
    ]
    return render(
        request,
        "curate/upload.html",
        _upload_context(report=report, changes=changes, filename=name),
    )


@router.post("/curate/upload/commit", response_class=HTMLResponse)
def upload_commit(request: Request, user: Curator, _csrf: CsrfOk) -> Response:
    staged = request.session.get("upload")
    if not isinstance(staged, dict):
        return _upload_problem(
            request, "There is no previewed file to import; upload it again.", 409
        )
    path = _upload_dir(request) / str(staged.get("token")) / str(staged.get("name"))
    if not path.is_file():
        _discard_staged(request)
        return _upload_problem(request, "The previewed file has expired; upload it again.", 409)
    try:
        report = load(engine_of(request), [path], actor=user.name)
    except LoadError as exc:
        _discard_staged(request)
        issues = [
            {"row": i.row, "field": i.field, "value": i.value, "expected": i.expected}
            for i in exc.issues
        ]
        return render(
            request, "curate/upload.html", _upload_context(issues=issues), status_code=422
        )
    _discard_staged(request)
    return render(request, "curate/upload_done.html", {"report": report})


# ---------------------------------------------------------------- audit log


@router.get("/curate/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: Viewer, session: SessionDep, page: int = 1) -> HTMLResponse:
    page = max(1, page)
    entries, total = curation.audit_log(session, limit=100, offset=(page - 1) * 100)
    return render(
        request,
        "curate/audit.html",
        {"entries": entries, "total": total, "page": page, "pages": max(1, -(-total // 100))},
    )


@router.post("/curate/audit/{entry_id}/undo")
def undo_entry(request: Request, user: Curator, _csrf: CsrfOk, entry_id: int) -> Response:
    try:
        curation.undo(engine_of(request), entry_id, actor=user.name)
    except curation.CurationError as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse("/curate/audit?undone=" + str(entry_id), status_code=303)


# ---------------------------------------------------------------- users (admins only)


@router.get("/curate/users", response_class=HTMLResponse)
def users_page(request: Request, user: Admin, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "curate/users.html",
        {"users": curation.list_users(session), "roles": curation.ROLES, "errors": {}},
    )


@router.post("/curate/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    user: Admin,
    _csrf: CsrfOk,
    session: SessionDep,
    name: Annotated[str, Form(max_length=120)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    try:
        curation.create_user(engine_of(request), name, password, role)
    except curation.CurationError as exc:
        return render(
            request,
            "curate/users.html",
            {
                "users": curation.list_users(session),
                "roles": curation.ROLES,
                "errors": {p.field: p.expected for p in exc.problems},
            },
            status_code=422,
        )
    return RedirectResponse("/curate/users", status_code=303)
