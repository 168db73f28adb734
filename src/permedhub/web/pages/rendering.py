"""How pages are rendered: Jinja2 templates, CSV downloads, JSON-LD and security headers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any, TypeVar

import pandas as pd
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from permedhub import __version__
from permedhub.graph.spreadsheets import neutralised_frame, neutralised_rows
from permedhub.web.auth import csrf_token, current_user

ResponseT = TypeVar("ResponseT", bound=Response)

TEMPLATES_DIR = resources.files("permedhub") / "web" / "templates"
STATIC_DIR = resources.files("permedhub") / "web" / "static"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# FastAPI's interactive API docs load Swagger UI with an inline script; they keep their own rules.


def _money(value: float | None) -> str:
    return "—" if value is None else f"EUR {value:,.0f}"


def _label(value: str | None) -> str:
    return "—" if not value else value.replace("-", " ").replace("_", " ")


def _plural(count: int, one: str, other: str | None = None) -> str:
    """ "1 participation", "3 participations": the count with the word in the right number."""
    return f"{count} {one if count == 1 else (other or one + 's')}"


templates.env.filters["money"] = _money
templates.env.filters["plural"] = _plural
templates.env.filters["label"] = _label
templates.env.globals["version"] = __version__
# The site's own words (header, navigation) pass through `_`: a translated page (the helpdesk's)
# puts its catalogue's gettext in the context; every other page shows them in English.
templates.env.globals["_"] = str


class _LazyToken:
    """The session's CSRF token, created only when a template writes it into a form: a page
    without a form leaves the session empty, so an anonymous visitor gets no cookie."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def __str__(self) -> str:
        return csrf_token(self._request)

    def __html__(self) -> str:  # Jinja's autoescape: the token is URL-safe text
        return str(self)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page with the current user and this session's CSRF token in its context."""
    return templates.TemplateResponse(
        request,
        template,
        {"user": current_user(request), "csrf_token": _LazyToken(request), **context},
        status_code=status_code,
    )


def csv_response(frame: pd.DataFrame, filename: str) -> Response:
    """A table as a CSV download (UTF-8 with BOM so spreadsheet programs read accents), every
    formula-like text cell neutralised: names and titles come from curators and applicants."""
    return csv_download(
        ("\ufeff" + neutralised_frame(frame).to_csv(index=False)).encode(), filename
    )


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The body `csv_response` sends for the frame of these rows, written from the rows
    themselves (no frame to build and map cell by cell, for downloads of thousands of rows):
    the same BOM, quoting, line ends and neutralised cells."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")  # pandas' line end, not the csv module's
    writer.writerow(header)
    writer.writerows(neutralised_rows(rows))
    return out.getvalue().encode()


def csv_download(body: bytes, filename: str) -> Response:
    """A CSV body (from `csv_response` or `csv_bytes`) as a download named `filename`."""
    return Response(
        content=body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def private(response: ResponseT) -> ResponseT:
    """A page with what one person typed or may see (proposals, reviews, a listing of
    themself, a manager's query): never kept by a cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def form_text(values: Any, name: str) -> str:
    """A form field's text, stripped; empty when absent or not text (an uploaded file)."""
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def json_script(data: Any) -> str:
    """JSON safe to embed inside <script type="application/ld+json"> (no '</script>' breakout)."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# The ticket form holds what a person typed about themselves, feasibility answers are a
# logged-in user's: never kept by a cache either.
PRIVATE_PREFIXES = ("/curate", "/login", "/logout", "/federation", "/helpdesk/ask-an-expert")


class SecurityHeaders(BaseHTTPMiddleware):
    """CSP without inline scripts, no framing, no MIME sniffing, same-origin referrers."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        # A page with its own policy (/docs, web/api_docs.py) keeps it.
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.path.startswith(PRIVATE_PREFIXES):
            # The curator area shows accounts and unpublished edits: never from a cache.
            response.headers["Cache-Control"] = "no-store"
        return response
