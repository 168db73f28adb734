"""The curator area: log in, edit organisations, import files with a preview, audit log, undo.

Every route here states the role it needs (`Viewer`, `Curator`, `Admin`) and every POST checks
the session's CSRF token. The work itself is done by `graph.curation` and `graph.loading`.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from permedhub.atlas.loading import load as load_atlas
from permedhub.graph import curation
from permedhub.graph.loading import LoadError, LoadReport, load
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
from permedhub.web.body_limit import MAX_UPLOAD_BYTES, UPLOAD_BODY_BYTES
from permedhub.web.deps import SessionDep, engine_of
from permedhub.web.pages import forms, tables
from permedhub.web.pages.cache import page_cache
from permedhub.web.pages.rendering import csv_response, render

router = APIRouter(include_in_schema=False)
UPLOAD_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".csv")


@dataclass(frozen=True)
class Importer:
    """What the curator's import can read: its loader (the library's, with its dry run) and the
    file types it takes."""

    label: str
    load: Callable[..., LoadReport]
    suffixes: tuple[str, ...]


IMPORTERS = {
    "graph": Importer("Records of the family's graph (permedhub db load)", load, UPLOAD_SUFFIXES),
    "atlas": Importer("An atlas mapping survey (permedhub atlas import)", load_atlas,
                      (".csv", ".xlsx", ".yaml", ".yml", ".json")),
}  # fmt: skip


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


@router.get("/curate/upload", response_class=HTMLResponse)
def upload_form(request: Request, user: Curator) -> HTMLResponse:
    return render(request, "curate/upload.html", _upload_context())


def _upload_context(**extra: Any) -> dict[str, Any]:
    return {
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        "suffixes": sorted({s for i in IMPORTERS.values() for s in i.suffixes}),
        "importers": IMPORTERS,
        "kind": "graph",
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


@router.post("/curate/upload", response_class=HTMLResponse, max_body_size=UPLOAD_BODY_BYTES)
async def upload_preview(request: Request, user: Curator, _csrf: CsrfOk) -> HTMLResponse:
    # The form is read here, after the role and token checks, not as a body parameter
    # (FastAPI would read a body parameter before any dependency runs).
    form = await request.form()
    file = form.get("file")
    kind = str(form.get("kind") or "graph")
    if kind not in IMPORTERS:
        return _upload_problem(
            request, f"kind = {kind[:40]!r} is invalid: expected one of {sorted(IMPORTERS)}", 422
        )
    importer = IMPORTERS[kind]
    if not isinstance(file, UploadFile) or not file.filename:
        return _upload_problem(request, "Choose a file to upload.", 422)
    _discard_staged(request)
    name = _safe_name(file.filename or "")
    if not name.endswith(importer.suffixes):
        return _upload_problem(
            request,
            f"{file.filename!r} is not a file type that can be imported as {importer.label}: "
            "expected " + ", ".join(importer.suffixes),
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
        report = importer.load(engine_of(request), [path], actor=user.name, dry_run=True)
    except LoadError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        issues = [
            {"row": i.row, "field": i.field, "value": i.value, "expected": i.expected}
            for i in exc.issues
        ]
        return render(
            request,
            "curate/upload.html",
            _upload_context(issues=issues, filename=name, kind=kind),
            status_code=422,
        )
    request.session["upload"] = {"token": token, "name": name, "kind": kind}
    changes = [
        {**c, "fields": curation.changed_fields(c.get("old"), c.get("new"))}
        for c in report.changes[:300]
    ]
    return render(
        request,
        "curate/upload.html",
        _upload_context(report=report, changes=changes, filename=name, kind=kind),
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
    importer = IMPORTERS.get(str(staged.get("kind") or "graph"))
    if importer is None:
        _discard_staged(request)
        return _upload_problem(request, "The previewed file's kind is unknown; upload again.", 409)
    try:
        report = importer.load(engine_of(request), [path], actor=user.name)
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
    page_cache(request).clear()
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


@router.get("/curate/audit.csv")
def audit_csv(user: Viewer, session: SessionDep, page: int = 1) -> Response:
    page = max(1, page)
    entries, _total = curation.audit_log(session, limit=1000, offset=(page - 1) * 1000)
    return csv_response(tables.audit(entries), f"audit-{page}.csv")


@router.post("/curate/audit/{entry_id}/undo")
def undo_entry(request: Request, user: Curator, _csrf: CsrfOk, entry_id: int) -> Response:
    try:
        curation.undo(engine_of(request), entry_id, actor=user.name)
    except curation.CurationError as exc:
        raise HTTPException(409, str(exc)) from exc
    page_cache(request).clear()
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


# ---------------------------------------------------------------- record forms
# Last in the file: /curate/{plural}/{id} would otherwise shadow /curate/upload/commit.


def _entity(plural: str) -> str:
    if plural not in forms.SINGULAR:
        raise HTTPException(404, f"no form for {plural!r}: expected " + ", ".join(forms.SINGULAR))
    return forms.SINGULAR[plural]


def _page_of(entity_type: str, entity_id: str, data: dict[str, Any]) -> str:
    if entity_type == "participation":
        return f"/initiatives/{data.get('initiative') or entity_id.split(':')[0]}"
    return f"/{forms.PLURAL[entity_type]}/{entity_id}"


def _record_form(
    request: Request,
    entity_type: str,
    entity_id: str | None,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    plural = forms.PLURAL[entity_type]
    return render(
        request,
        "curate/record_form.html",
        {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "action": f"/curate/{plural}/{entity_id}" if entity_id else f"/curate/{plural}/new",
            "cancel": _page_of(entity_type, entity_id, values) if entity_id else "/curate",
            "fields": forms.fields_for(entity_type, creating=entity_id is None),
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


def _errors(exc: curation.CurationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for p in exc.problems:
        errors.setdefault(p.field.split(".")[0], p.expected)
    return errors


async def _text_form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


@router.get("/curate/{plural}/new", response_class=HTMLResponse)
def new_record_form(request: Request, user: Curator, plural: str) -> HTMLResponse:
    entity_type = _entity(plural)
    # Links may prefill fields, e.g. "add a partner" from an initiative's page.
    prefill = {k: v for k, v in request.query_params.items() if len(v) <= 200}
    values = forms.to_text(entity_type, prefill, creating=True)
    return _record_form(request, entity_type, None, values, {})


@router.post("/curate/{plural}/new", response_class=HTMLResponse)
async def create_record(request: Request, user: Curator, _csrf: CsrfOk, plural: str) -> Response:
    entity_type = _entity(plural)
    form = await _text_form(request)
    data = forms.to_input(entity_type, form, creating=True)
    try:
        result = curation.create_record(engine_of(request), entity_type, data, actor=user.name)
    except curation.CurationError as exc:
        values = {
            f.name: form.get(f.name, "") for f in forms.fields_for(entity_type, creating=True)
        }
        return _record_form(request, entity_type, None, values, _errors(exc), status_code=422)
    page_cache(request).clear()
    target = _page_of(entity_type, result.entity_id, data)
    return RedirectResponse(f"{target}?saved=1", status_code=303)


@router.get("/curate/{plural}/{entity_id}", response_class=HTMLResponse)
def edit_record_form(
    request: Request, user: Curator, session: SessionDep, plural: str, entity_id: str
) -> HTMLResponse:
    entity_type = _entity(plural)
    try:
        record = curation.record_input(session, entity_type, entity_id)
    except curation.CurationError as exc:
        raise HTTPException(404, f"no {entity_type} with id {entity_id!r}") from exc
    values = forms.to_text(entity_type, record, creating=False)
    return _record_form(request, entity_type, entity_id, values, {})


@router.post("/curate/{plural}/{entity_id}", response_class=HTMLResponse)
async def edit_record(
    request: Request, user: Curator, _csrf: CsrfOk, plural: str, entity_id: str
) -> Response:
    entity_type = _entity(plural)
    form = await _text_form(request)
    data = forms.to_input(entity_type, form, creating=False)
    try:
        result = curation.update_record(
            engine_of(request), entity_type, entity_id, data, actor=user.name
        )
    except curation.CurationError as exc:
        errors = _errors(exc)
        if list(errors) == ["id"]:
            raise HTTPException(404, f"no {entity_type} with id {entity_id!r}") from exc
        values = {
            f.name: form.get(f.name, "") for f in forms.fields_for(entity_type, creating=False)
        }
        return _record_form(request, entity_type, entity_id, values, errors, status_code=422)
    page_cache(request).clear()
    target = _page_of(entity_type, result.entity_id, data)
    return RedirectResponse(f"{target}?saved=1", status_code=303)
