"""PerMed Hub commands that serve (`permedhub serve`, `permedhub node serve`) as real processes
on free 127.0.0.1 ports, for tests that need a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving_process(
    arguments: list[str], ready_url: str, env: dict[str, str], verify: Any = True,
    attempts: int = 600,
) -> Iterator[subprocess.Popen[bytes]]:  # fmt: skip
    """`python -m permedhub.cli.main ARGUMENTS` until `ready_url` answers 200; stopped after.
    The process's stderr is shown if it never becomes ready."""
    process = subprocess.Popen(
        [sys.executable, "-m", "permedhub.cli.main", *arguments],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(attempts):
            if process.poll() is not None:
                pytest.fail(f"{arguments[0]} exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(ready_url, timeout=1, verify=verify).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"{arguments[0]} did not start")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def serving(data_dir: Path, **environment: str) -> Iterator[int]:
    """The portal on an embedded database in `data_dir`, with extra environment variables;
    yields its port once /login answers."""
    port = free_port()
    env = {**os.environ, "PERMEDHUB_DATA_DIR": str(data_dir), "PERMEDHUB_INSECURE_COOKIES": "1",
           **environment}  # fmt: skip
    env.pop("PERMEDHUB_DATABASE_URL", None)
    with serving_process(["serve", "--port", str(port)], f"http://127.0.0.1:{port}/login", env):
        yield port
