"""The portal's two caches: a short-lived one of the aggregate views (counts, network,
timeline, countries, regions), refreshed in the background, and one of prepared downloads, kept
until the graph changes.

`PageCache`: these queries read much of the graph and every visitor asks the same ones. An
answer is fresh for `TTL_S` seconds; after that the next visitor still gets it at once while a
background thread recomputes it (stale-while-revalidate), so only the very first visitor after
start-up or after a portal write waits for the query. Writes made through the portal clear the
cache at once; a file loaded from the command line shows within about `TTL_S` seconds (plus the
refresh time).

`DownloadCache`: a few big downloads (an initiative's partners.csv, thousands of rows) are
kept as the bytes sent, each with the graph revision it was built from (`graph.revision`), and
served only while the graph is at that revision: the first download after any write (a
curator's edit or upload, an import from the command line) is built anew, so none is stale.

Pages of one initiative or organisation are never cached.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

T = TypeVar("T")
TTL_S = 30.0
MAX_ENTRIES = 256
# The downloads kept: the biggest initiative's partners.csv of the benchmark graph is about
# a megabyte, so a few dozen of them stay well inside this.
MAX_DOWNLOADS = 32
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


class PageCache:
    def __init__(self, ttl_s: float = TTL_S, clock: Callable[[], float] = time.monotonic):
        if ttl_s < 0:
            raise ValueError(f"ttl_s={ttl_s!r}: expected seconds >= 0")
        self.ttl_s, self.clock = ttl_s, clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._refreshing: dict[Hashable, threading.Thread] = {}
        self._generation = 0  # bumped by clear(): a refresh started before it is discarded
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        compute: Callable[[Session], T],
        *,
        session: Session,
        engine: Engine | None,
    ) -> T:
        """The cached answer for `key`; computed now on `session` when there is none at all."""
        now = self.clock()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None:
            if hit[0] <= now:
                self._refresh(key, compute, engine)
            value: T = hit[1]
            return value
        with self._lock:
            generation = self._generation
        value = compute(session)
        self._store(key, value, generation)
        return value

    def _store(self, key: Hashable, value: Any, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (self.clock() + self.ttl_s, value)

    def _refresh(
        self, key: Hashable, compute: Callable[[Session], Any], engine: Engine | None
    ) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            generation = self._generation

            def run() -> None:
                try:
                    with Session(engine) as session:
                        value = compute(session)
                except Exception:
                    with self._lock:  # the next visitor recomputes and sees the error
                        self._entries.pop(key, None)
                else:
                    self._store(key, value, generation)
                finally:
                    with self._lock:
                        self._refreshing.pop(key, None)

            thread = threading.Thread(target=run, name=f"page-cache-{key!r}", daemon=True)
            self._refreshing[key] = thread
        thread.start()

    def wait_for_refreshes(self, timeout_s: float = 30.0) -> None:
        """Block until background refreshes end (for tests and orderly shutdown)."""
        with self._lock:
            threads = list(self._refreshing.values())
        for thread in threads:
            thread.join(timeout_s)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1


class DownloadCache:
    """Download bodies by key, each valid for the graph revision it was built from; the least
    recently used go first past `max_entries` or `max_bytes` in all."""

    def __init__(self, max_entries: int = MAX_DOWNLOADS, max_bytes: int = MAX_DOWNLOAD_BYTES):
        if max_entries < 1 or max_bytes < 1:
            raise ValueError(
                f"max_entries={max_entries!r}, max_bytes={max_bytes!r}: expected both >= 1"
            )
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, revision: int, build: Callable[[], bytes]) -> bytes:
        """The body kept for `key` if it was built at `revision`; else `build()`, kept.

        The caller reads `revision` before what `build` reads: a write in between then only
        makes the kept body newer than its revision says, never older."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == revision:
                self._entries.move_to_end(key)
                return hit[1]
        body = build()
        with self._lock:
            self._drop(key)
            if len(body) <= self.max_bytes:
                self._entries[key] = (revision, body)
                self._bytes += len(body)
                while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                    self._drop(next(iter(self._entries)))
        return body

    def _drop(self, key: Hashable) -> None:
        gone = self._entries.pop(key, None)
        if gone is not None:
            self._bytes -= len(gone[1])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def page_cache(request: Request) -> PageCache:
    cache: PageCache = request.app.state.page_cache
    return cache


def download_cache(request: Request) -> DownloadCache:
    cache: DownloadCache = request.app.state.download_cache
    return cache
