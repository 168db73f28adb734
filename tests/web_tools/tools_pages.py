"""Reading the tool pages in tests: CSRF tokens, embedded figures, tables, error callouts."""

from __future__ import annotations

import base64
import html
import json
import re
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
