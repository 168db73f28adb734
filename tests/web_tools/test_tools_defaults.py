"""A first-time user presses a tool page's run button without changing anything: every page
opens on a worked example that computes (issue 16)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tools_pages import submit_rendered_form, tool_pages

TOOL_PAGES = tool_pages()


def test_the_routers_list_every_tool_page() -> None:
    # a guard on tool_pages() itself: it must find the pages, not an empty list that would
    # make the test below pass vacuously
    assert {"/tools/hecon/model", "/tools/hecon/psa", "/tools/trials/simulate"} <= set(TOOL_PAGES)
    assert len(TOOL_PAGES) >= 13


@pytest.mark.parametrize("path", TOOL_PAGES)
def test_the_form_as_rendered_computes_a_result(client: TestClient, path: str) -> None:
    response = submit_rendered_form(client, path)
    assert response.status_code == 200, response.text[-2000:]
    assert "Cannot compute" not in response.text
    assert 'id="results"' in response.text
    assert "<table" in response.text.split('id="results"', 1)[1]
