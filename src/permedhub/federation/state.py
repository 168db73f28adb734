"""What a node remembers: the audit log, each user's queries (with the cohort's members as a
compressed bitmap, kept at the node for the differencing check) and the nonces it has seen.
One SQLite file in the node's state directory, separate from the clinical database, which the
node opens read-only."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, user TEXT, event TEXT NOT NULL,
    query_id TEXT, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS queries (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, at REAL NOT NULL, fingerprint TEXT NOT NULL,
    cohort TEXT NOT NULL, status TEXT NOT NULL, population INTEGER, members BLOB,
    answer TEXT);
CREATE INDEX IF NOT EXISTS ix_queries_user ON queries (user, at);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, user TEXT NOT NULL, at REAL NOT NULL);
"""
PENDING, APPROVED, REJECTED, ANSWERED, REFUSED = (
    "pending", "approved", "rejected", "answered", "refused")  # fmt: skip


@dataclass(frozen=True)
class QueryRecord:
    id: str
    user: str
    at: float
    fingerprint: str
    cohort: str
    status: str
    answer: dict[str, Any] | None


def pack(positions: np.ndarray) -> bytes:
    """Sorted member positions, delta-encoded and compressed (a few bytes a member)."""
    gaps = np.diff(positions, prepend=0).astype(np.uint32)
    return zlib.compress(gaps.tobytes(), 1)


def unpack(blob: bytes) -> np.ndarray:
    gaps = np.frombuffer(zlib.decompress(blob), dtype=np.uint32)
    return np.cumsum(gaps, dtype=np.int64)


class NodeState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL survives a crash of the node; only a power cut may lose
        # the last entries.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def audit(self, event: str, user: str | None, query_id: str | None = None,
              **detail: Any) -> None:  # fmt: skip
        with self._lock:
            self._db.execute(
                "INSERT INTO audit (at, user, event, query_id, detail) VALUES (?, ?, ?, ?, ?)",
                (time.time(), user, event, query_id, json.dumps(detail, default=str)),
            )

    def audit_log(self, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, at, user, event, query_id, detail FROM audit ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            {"id": i, "at": at, "user": u, "event": e, "query_id": q, "detail": json.loads(d)}
            for i, at, u, e, q, d in reversed(rows)
        ]

    def use_nonce(self, nonce: str, user: str, keep_seconds: float) -> bool:
        """Record a nonce; False if it was already used (a replay)."""
        now = time.time()
        with self._lock:
            self._db.execute("DELETE FROM nonces WHERE at < ?", (now - keep_seconds,))
            try:
                self._db.execute("INSERT INTO nonces VALUES (?, ?, ?)", (nonce, user, now))
            except sqlite3.IntegrityError:
                return False
        return True

    def new_query(self, user: str, fingerprint: str, cohort: str, status: str) -> str:
        query_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO queries (id, user, at, fingerprint, cohort, status) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (query_id, user, time.time(), fingerprint, cohort, status),
            )
        return query_id

    def set_status(self, query_id: str, status: str, *, members: np.ndarray | None = None,
                   population: int | None = None,
                   answer: dict[str, Any] | None = None) -> None:  # fmt: skip
        with self._lock:
            self._db.execute(
                "UPDATE queries SET status = ?, population = COALESCE(?, population), "
                "members = COALESCE(?, members), answer = COALESCE(?, answer) WHERE id = ?",
                (
                    status,
                    population,
                    None if members is None else pack(members),
                    None if answer is None else json.dumps(answer),
                    query_id,
                ),
            )

    def attempts_since(self, user: str, since: float) -> int:
        with self._lock:
            (count,) = self._db.execute(
                "SELECT count(*) FROM queries WHERE user = ? AND at >= ?", (user, since)
            ).fetchone()
        return int(count)

    def _records(self, where: str, params: tuple[Any, ...]) -> list[QueryRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, user, at, fingerprint, cohort, status, answer FROM queries "
                f"WHERE {where} ORDER BY at DESC",
                params,
            ).fetchall()
        return [
            QueryRecord(i, u, at, f, c, s, json.loads(a) if a else None)
            for i, u, at, f, c, s, a in rows
        ]

    def same_cohort(self, user: str, fingerprint: str) -> list[QueryRecord]:
        return self._records("user = ? AND fingerprint = ?", (user, fingerprint))

    def query(self, query_id: str) -> QueryRecord | None:
        found = self._records("id = ?", (query_id,))
        return found[0] if found else None

    def queries_with_status(self, status: str) -> list[QueryRecord]:
        return self._records("status = ?", (status,))

    def answered_members(
        self, user: str, population: int, limit: int
    ) -> list[tuple[str, np.ndarray, str, dict[str, Any]]]:
        """(id, member positions, cohort JSON, answer) of the user's last `limit` answered
        queries over a population of this size (a reloaded database of another size makes
        older positions meaningless)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, members, cohort, answer FROM queries WHERE user = ? AND status = ? "
                "AND population = ? ORDER BY at DESC LIMIT ?",
                (user, ANSWERED, population, limit),
            ).fetchall()
        return [(i, unpack(blob), cohort, json.loads(answer)) for i, blob, cohort, answer in rows]

    def close(self) -> None:
        self._db.close()
