"""What the browser tests share: Debian's Chromium (required under CI), the app served by uvicorn
in a background thread on a copy of a database, a Playwright browser, and tabs that may reach
only the test server.

A module of its own (not conftest), imported by tests/web and tests/web_tools.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_or_skip(chromium: str = CHROMIUM) -> None:
    """Skip without Chromium or Playwright, except under CI (CI=true), where it is a failure."""
    problem = None
    if not (Path(chromium).exists() or shutil.which("chromium")):
        problem = f"Chromium is not installed at {chromium} (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright Python package is not installed"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run under CI: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """`app` on 127.0.0.1 at a free port, by uvicorn in a background thread; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start within 20 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


def screenshot(page: Any, name: str) -> None:
    """A full-page PNG in test-artifacts/ for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@contextmanager
def served_copy(template: Path, folder: Path, secret: str) -> Iterator[tuple[str, Any, Any]]:
    """The app on a copy of the SQLite database `template` (so tests may write), with its data
    dir and session secret in `folder`; yields (url, engine, app)."""
    from permedhub.db import make_engine
    from permedhub.web.app import create_app

    shutil.copyfile(template, folder / "portal.sqlite")
    engine = make_engine(f"sqlite:///{folder / 'portal.sqlite'}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PERMEDHUB_SECRET_KEY", secret)
        patch.setenv("PERMEDHUB_DATA_DIR", str(folder / "data"))
        app = create_app(engine, prepare_database=False)
    try:
        with serve(app) as url:
            yield url, engine, app
    finally:
        engine.dispose()


@dataclass
class Tab:
    """A page of a fresh browser context, and what it did that a test must not allow."""

    page: Any
    base: str
    outside_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        screenshot(self.page, name)


@contextmanager
def guarded_tab(browser: Any, base: str, timeout_ms: int) -> Iterator[Tab]:
    """A fresh context (no cookies) whose requests may reach only `base`. Afterwards a request
    elsewhere, a console error (Content-Security-Policy violations included) or a dialog
    opened by a script fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(timeout_ms)
    page = context.new_page()
    tab = Tab(page, base)

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(base) or url.startswith("data:"):
            request_route.continue_()
        else:
            tab.outside_requests.append(url)
            request_route.abort()

    def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
    page.on("pageerror", lambda e: tab.errors.append(str(e)))
    page.on("dialog", on_dialog)
    yield tab
    context.close()
    assert not tab.outside_requests, f"requests left the test server: {tab.outside_requests}"
    assert not tab.errors, f"browser console errors: {tab.errors}"
    assert not tab.dialogs, f"a script ran and opened a dialog: {tab.dialogs}"


@dataclass
class LiveServer:
    url: str
    engine: Engine
    app: Any

    def edit(self, entity_type: str, entity_id: str, changes: dict[str, Any]) -> None:
        """Change a record behind the portal's back (and drop its cached aggregates)."""
        from permedhub.graph.curation import update_record

        update_record(self.engine, entity_type, entity_id, changes, actor="test")
        self.app.state.page_cache.clear()
