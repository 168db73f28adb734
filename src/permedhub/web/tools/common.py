"""What the tool pages share: uploads with a size limit, form validation, figure embedding,
tables for templates and the Plotly JS bundle served from the installed `plotly` package."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import plotly
import plotly.graph_objects as go
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from permedhub.validation import expected
from permedhub.web.body_limit import MAX_UPLOAD_BYTES
from permedhub.web.pages.rendering import CONTENT_SECURITY_POLICY, render
from permedhub.web.tools.columns import column

PLOTLY_JS_URL = "/tools/static/plotly.min.js"
# More columns than this and a table opens on its key columns (columns.Column.detail).
WIDE_TABLE = 6
PLOTLY_JS_PATH = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"

# Plotly adds its stylesheet rules through the CSS object model into one empty <style>
# element. CSP governs the element (its content is "", whose SHA-256 is below), not the rules
# inserted afterwards, so allowing the empty element keeps every other inline style blocked.
EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
TOOLS_CSP = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", f"style-src 'self' {EMPTY_STYLE_HASH}", 1
)

router = APIRouter(include_in_schema=False)
ModelT = TypeVar("ModelT", bound=BaseModel)
DocumentT = TypeVar("DocumentT")


class ToolInputError(ValueError):
    """A form field or an uploaded file is not usable; the message names the field."""

    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        self.field = field
        self.status_code = status_code
        super().__init__(f"{field}: {message}")


@router.get(PLOTLY_JS_URL)
def plotly_js() -> FileResponse:
    """The plotly.js bundle that ships inside the installed `plotly` Python package."""
    if not PLOTLY_JS_PATH.is_file():
        raise HTTPException(404, "plotly.min.js is not part of the installed plotly package")
    return FileResponse(
        PLOTLY_JS_PATH,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def max_upload_mb() -> int:
    return MAX_UPLOAD_BYTES // (1024 * 1024)


async def read_upload(form: FormData, field: str, required: bool = True) -> str | None:
    """The text of an uploaded file (UTF-8), at most MAX_UPLOAD_BYTES; None when no file was
    chosen and `required` is false."""
    upload = form.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        if required:
            raise ToolInputError(field, "choose a file to upload")
        return None
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ToolInputError(
            field, f"{upload.filename} is too large: at most {max_upload_mb()} MB", 413
        )
    if not content.strip():
        raise ToolInputError(field, f"{upload.filename} is empty")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ToolInputError(field, f"{upload.filename} is not UTF-8 text") from None


async def upload_or_example(
    form: FormData,
    field: str,
    example: str | None,
    parse: Callable[[str, str], DocumentT],
    load_example: Callable[[str], DocumentT],
    what: str,
) -> DocumentT:
    """The document uploaded in `field` (it wins; `parse(text, filename)`) or else the chosen
    shipped example (`load_example(name)`); neither is a ToolInputError naming `field`."""
    text = await read_upload(form, field, required=example is None)
    if text is not None:
        return parse(text, str(getattr(form.get(field), "filename", "")))
    if example is None:
        raise ToolInputError(field, f"choose an example or upload a {what}")
    return load_example(example)


# Not model fields: the CSRF token of POST forms, and the button that marks a GET form as run.
NOT_FIELDS = {"csrf_token", "run"}


def form_fields(form: Mapping[str, Any]) -> dict[str, str]:
    """Text fields of a form (posted, or a GET form's query), blanks dropped (so model defaults
    apply), NOT_FIELDS excluded."""
    return {
        key: value.strip()
        for key, value in form.items()
        if isinstance(value, str) and value.strip() and key not in NOT_FIELDS
    }


def validate_form(model: type[ModelT], fields: Mapping[str, Any]) -> ModelT:
    """Pydantic validation of form fields; the first problem becomes a ToolInputError."""
    try:
        return model.model_validate(dict(fields))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "form"
        given = fields.get(field)
        suffix = f", got {given!r}" if given is not None else ""
        raise ToolInputError(field, f"{expected(first)}{suffix}") from None


def split_numbers(field: str, text: str | None) -> list[float] | None:
    """'0.3, 0.6, 1' -> [0.3, 0.6, 1.0]; None for a blank field."""
    if text is None or not text.strip():
        return None
    try:
        values = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ToolInputError(field, f"expected comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise ToolInputError(field, f"expected finite numbers, got {text!r}")
    return values


@dataclass
class PageResult:
    """What a results page shows: facts, titled tables and Plotly figures (as JSON), each
    figure optionally with a data-table twin for screen readers and copying."""

    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)

    def add_figure(
        self, key: str, figure: go.Figure, twin: pd.DataFrame | None = None, digits: int = 4
    ) -> None:
        self.figures.append(
            {
                "key": key,
                "json": figure_json(figure),
                "title": figure.layout.title.text or key,
                "twin": None if twin is None else table(twin, default=digits),
            }
        )


def figure_json(figure: go.Figure) -> str:
    """A figure as JSON safe inside <script type="application/json"> (no '</script>')."""
    text: str = figure.to_json()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _cell(value: Any, digits: int) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:,.{digits}f}"
    return str(value)


def table(frame: pd.DataFrame, digits: Mapping[str, int] | None = None, default: int = 4) -> dict:
    """A frame as formatted strings for templates: per column its code name, heading (label
    and unit, see `columns.COLUMNS`), whether it is numeric and whether it is a detail column
    hidden until the reader asks for all columns. `digits` (by code name) overrides the
    column's own rule, which overrides `default`."""
    digits = digits or {}
    codes = [str(c) for c in frame.columns]
    described = [column(c) for c in codes]
    places = [
        digits.get(c, default if d.digits is None else d.digits)
        for c, d in zip(codes, described, strict=True)
    ]
    rows = [
        [_cell(v.item() if hasattr(v, "item") else v, n) for n, v in
         zip(places, record, strict=True)]
        for record in frame.itertuples(index=False, name=None)
    ]  # fmt: skip
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]  # fmt: skip
    # A narrow table shows every column: hiding one of few would cost a click for nothing.
    detail = [d.detail and len(codes) > WIDE_TABLE for d in described]
    return {
        "codes": codes,
        "columns": [d.heading for d in described],
        "rows": rows,
        "numeric": numeric,
        "detail": detail,
        "has_detail": any(detail),
    }


def json_download(payload: Any, filename: str) -> Response:
    return Response(
        content=json.dumps(payload, indent=2, default=str, allow_nan=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def html_download(document: str, filename: str) -> Response:
    return Response(
        content=document.encode("utf-8"),
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@cache
def bundled_stylesheet_ids() -> tuple[str, ...]:
    """Ids of the <style> elements that the Plotly bundle injects at load time unless an
    element with that id already exists (the MapLibre map stylesheet; the tool pages draw no
    maps). Pages declare them as empty placeholders so that nothing inline is injected."""
    if not PLOTLY_JS_PATH.is_file():
        return ()
    text = PLOTLY_JS_PATH.read_text(encoding="utf-8", errors="replace")
    return tuple(sorted(set(re.findall(r'getElementById\("([0-9a-f]{64})"\)', text))))


def render_tool(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A tool page: the portal's base template plus the Plotly bundle URL, with a CSP that
    differs from the portal's only by allowing Plotly's empty <style> element."""
    response = render(
        request,
        template,
        {
            "plotly_js_url": PLOTLY_JS_URL,
            "plotly_style_placeholders": bundled_stylesheet_ids(),
            "max_mb": max_upload_mb(),
            **context,
        },
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = TOOLS_CSP
    return response
