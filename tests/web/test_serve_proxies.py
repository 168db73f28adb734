"""`permedhub serve` as a real process: X-Forwarded-For is believed only from the proxies
named in PERMEDHUB_TRUSTED_PROXIES, so a client cannot dodge the login limiter by rotating it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from serving import serving


@pytest.fixture(params=["", "127.0.0.1"], ids=["no trusted proxy", "trusted 127.0.0.1"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with serving(tmp_path, PERMEDHUB_TRUSTED_PROXIES=request.param) as port:
        yield f"http://127.0.0.1:{port}", request.param


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(server: tuple[str, str]) -> None:
    base, trusted = server
    with httpx.Client(base_url=base) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        statuses = [
            client.post(
                "/login",
                data={"csrf_token": token.group(1), "name": "vera", "password": "wrong"},
                headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
            ).status_code
            for attempt in range(7)
        ]
    assert statuses[:5] == [401] * 5
    # Untrusted: every try is 127.0.0.1's and the sixth is refused; trusted: seven addresses.
    assert statuses[5:] == ([401, 401] if trusted else [429, 429])
