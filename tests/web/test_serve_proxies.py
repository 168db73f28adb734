"""`permedhub serve` as a real process: X-Forwarded-For is believed only from the proxies
named in PERMEDHUB_TRUSTED_PROXIES, so a client cannot dodge the login limiter by rotating it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["", "127.0.0.1"], ids=["no trusted proxy", "trusted 127.0.0.1"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    port = _free_port()
    env = {**os.environ, "PERMEDHUB_DATA_DIR": str(tmp_path), "PERMEDHUB_INSECURE_COOKIES": "1",
           "PERMEDHUB_TRUSTED_PROXIES": request.param}  # fmt: skip
    env.pop("PERMEDHUB_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "permedhub.cli.main", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        yield base, request.param
    finally:
        process.terminate()
        process.wait(timeout=20)


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
