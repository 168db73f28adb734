"""A short-lived cache of the portal's aggregate views (counts, network, timeline, countries,
regions).

These few queries read the whole graph and every visitor of the home page asks the same ones, so
their answers are kept for `TTL_S` seconds. Writes made through the portal clear the cache at
once; a file loaded from the command line shows on the home page within `TTL_S` seconds.
Pages of one initiative or organisation are never cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from fastapi import Request

T = TypeVar("T")
TTL_S = 30.0
MAX_ENTRIES = 256


class PageCache:
    def __init__(self, ttl_s: float = TTL_S, clock: Callable[[], float] = time.monotonic):
        if ttl_s < 0:
            raise ValueError(f"ttl_s={ttl_s!r}: expected seconds >= 0")
        self.ttl_s, self.clock = ttl_s, clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = self.clock()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        value = compute()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self.ttl_s, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def page_cache(request: Request) -> PageCache:
    cache: PageCache = request.app.state.page_cache
    return cache
