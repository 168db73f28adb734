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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A command that serves, and the URL that answers 200 once it is ready."""

    command: list[str]
    ready_url: str
    verify: Any = True


@contextmanager
def serving_processes(
    served: list[Served], env: dict[str, str], attempts: int = 600
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start every command at once, wait until each is ready, stop them all after. A
    process's stderr is shown if it exits or never becomes ready."""
    processes = [
        subprocess.Popen(item.command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for item in served
    ]
    try:
        for item, process in zip(served, processes, strict=True):
            _wait_until_ready(item, process, attempts)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


def _wait_until_ready(item: Served, process: subprocess.Popen[bytes], attempts: int) -> None:
    for _ in range(attempts):
        if process.poll() is not None:
            assert process.stderr is not None
            pytest.fail(f"{item.command} exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(item.ready_url, timeout=1, verify=item.verify).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{item.command} did not start")


@contextmanager
def serving_process(
    command: list[str], ready_url: str, env: dict[str, str], verify: Any = True
) -> Iterator[subprocess.Popen[bytes]]:
    with serving_processes([Served(command, ready_url, verify)], env) as (process,):
        yield process


def permedhub_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "permedhub.cli.main", *arguments]


@contextmanager
def serving(data_dir: Path, **environment: str) -> Iterator[int]:
    """The portal on an embedded database in `data_dir`, with extra environment variables;
    yields its port once /login answers."""
    port = free_port()
    env = {**os.environ, "PERMEDHUB_DATA_DIR": str(data_dir), "PERMEDHUB_INSECURE_COOKIES": "1",
           **environment}  # fmt: skip
    env.pop("PERMEDHUB_DATABASE_URL", None)
    command = permedhub_command("serve", "--port", str(port))
    with serving_process(command, f"http://127.0.0.1:{port}/login", env):
        yield port
