"""Reading the tool pages in tests: CSRF tokens, embedded figures, tables, error callouts."""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
FIGURE_DATA = re.compile(
    r'<script type="application/json" id="figure-data-([a-z-]+)">(.*?)</script>', re.S
)


def csrf_token(client: TestClient, path: str) -> str:
    """The CSRF token that the form on `path` carries for this client's session."""
    match = CSRF_INPUT.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def figures(page: str) -> dict[str, Any]:
    """The Plotly figures a page embeds, by key (figure-data-KEY)."""
    return {key: json.loads(text) for key, text in FIGURE_DATA.findall(page)}


def problem(page: str) -> str:
    """The text of the page's error callout."""
    match = re.search(
        r'<p class="callout callout-error" role="alert" id="problem">(.*?)</p>', page, re.S
    )
    assert match, "the page shows no problem"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).removeprefix("Cannot compute: ")


def table_rows(page: str, caption_start: str) -> list[list[str]]:
    """Cells of the table whose caption starts with `caption_start`."""
    for block in re.findall(r"<table.*?</table>", page, re.S):
        caption = re.search(r"<caption>(.*?)</caption>", block, re.S)
        if caption and html.unescape(caption.group(1)).strip().startswith(caption_start):
            body = re.search(r"<tbody>(.*?)</tbody>", block, re.S)
            assert body is not None
            return [
                [
                    html.unescape(re.sub(r"<[^>]+>", "", cell))
                    for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
                ]
                for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
            ]
    raise AssertionError(f"no table captioned {caption_start!r}")


def values(encoded: Any) -> np.ndarray:
    """Numbers of a Plotly figure field: a list, or Plotly's typed-array form
    {"dtype": "f8", "bdata": base64} that `Figure.to_json` writes for NumPy arrays."""
    if isinstance(encoded, dict) and "bdata" in encoded:
        array = np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=np.dtype(encoded["dtype"]))
        return array.reshape(encoded["shape"]) if "shape" in encoded else array
    return np.asarray(encoded, dtype=float)


def tool_pages() -> list[str]:
    """Every tool page with a form, from the routers: the GET routes under /tools/hecon/ and
    /tools/trials/ without path parameters (index pages and file downloads excluded)."""
    from fastapi.routing import APIRoute

    from permedhub.web.tools import hecon, trials

    return sorted(
        route.path
        for route in [*hecon.router.routes, *trials.router.routes]
        if isinstance(route, APIRoute)
        and "GET" in route.methods
        and route.path.startswith(("/tools/hecon/", "/tools/trials/"))
        and "{" not in route.path
        and not route.path.startswith("/tools/static/")
    )


@dataclass
class RenderedForm:
    """A tool form as the browser would submit it untouched: its method, action, the fields
    with their rendered defaults (and the first submit button's name/value), and file inputs."""

    method: str
    action: str
    enctype: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form: RenderedForm | None = None
        self.done = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._button_taken = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.form is None and a.get("action", "").startswith("/tools/"):
            self.form = RenderedForm(a.get("method", "get").lower(), a["action"],
                                     a.get("enctype", ""))  # fmt: skip
        if self.form is None or self.done or "disabled" in a:
            return
        name = a.get("name", "")
        kind = a.get("type", "text" if tag == "input" else "submit").lower()
        if tag == "input" and name:
            if kind == "file":
                self.form.files.append(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.form.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "reset"):
                self.form.fields.append((name, a.get("value", "")))
        elif tag == "button" and kind == "submit" and not self._button_taken:
            self._button_taken = True  # the page's run button is its first submit button
            if name:
                self.form.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.form is None or self.done:
            return
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            self.form.fields += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.form.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self.done = True


def rendered_form(page: str) -> RenderedForm:
    """The first form of a tool page that posts to /tools/..., with its default values."""
    parser = _FormParser()
    parser.feed(page)
    assert parser.form is not None, "the page has no tool form"
    return parser.form


def submit_rendered_form(client: TestClient, path: str) -> Any:
    """GET `path`, then submit its form exactly as rendered (defaults, first submit button)."""
    form = rendered_form(client.get(path).text)
    if form.method == "get":
        return client.get(form.action, params=form.fields)
    data: dict[str, list[str]] = {}
    for name, value in form.fields:
        data.setdefault(name, []).append(value)
    files = {name: ("", b"", "application/octet-stream") for name in form.files}
    return client.post(form.action, data=data, files=files or None)
