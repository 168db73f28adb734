"""`permedhub serve` as a real process on a free port, for tests that need a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(data_dir: Path, **environment: str) -> Iterator[int]:
    """The portal on an embedded database in `data_dir`, with extra environment variables;
    yields its port once /login answers."""
    port = free_port()
    env = {**os.environ, "PERMEDHUB_DATA_DIR": str(data_dir), "PERMEDHUB_INSECURE_COOKIES": "1",
           **environment}  # fmt: skip
    env.pop("PERMEDHUB_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "permedhub.cli.main", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)
