"""Signed requests between the hub and a node: HMAC-SHA256 with a per-node, per-user secret.

The hub signs `METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n SHA256(BODY)`; the node recomputes
the signature, refuses a timestamp more than `MAX_SKEW_SECONDS` away from its clock and
refuses a nonce it has seen (the node keeps nonces for twice that window, so a replayed call
is refused both while its timestamp is fresh and after). The secret never travels.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

USER = "X-PerMed-User"
TIMESTAMP = "X-PerMed-Timestamp"
NONCE = "X-PerMed-Nonce"
SIGNATURE = "X-PerMed-Signature"
MAX_SKEW_SECONDS = 300
NONCE_PATTERN = re.compile(r"[0-9a-f]{32}")
MIN_SECRET_CHARS = 32


class AuthError(Exception):
    """The request is not signed by a known user, or is stale, or is a replay."""


def _message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), path, timestamp, nonce, digest]).encode()


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str,
              body: bytes) -> str:  # fmt: skip
    message = _message(method, path, timestamp, nonce, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(user: str, secret: str, method: str, path: str, body: bytes,
         now: float | None = None) -> dict[str, str]:  # fmt: skip
    """The headers that authenticate one request."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {
        USER: user,
        TIMESTAMP: timestamp,
        NONCE: nonce,
        SIGNATURE: signature(secret, method, path, timestamp, nonce, body),
    }


def verify(headers: dict[str, str], secrets_by_user: dict[str, str], method: str, path: str,
           body: bytes, now: float | None = None) -> tuple[str, str, int]:  # fmt: skip
    """(user, nonce, timestamp) of a correctly signed, fresh request, else AuthError.
    The caller must still check that the nonce is new (`guard.NodeState.use_nonce`)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    missing = [name for name in (USER, TIMESTAMP, NONCE, SIGNATURE) if name.lower() not in lowered]
    if missing:
        raise AuthError(f"unsigned request: missing header(s) {', '.join(missing)}")
    user, stamp = lowered[USER.lower()], lowered[TIMESTAMP.lower()]
    nonce, given = lowered[NONCE.lower()], lowered[SIGNATURE.lower()]
    secret = secrets_by_user.get(user)
    if secret is None:
        raise AuthError(f"unknown user {user!r}")
    if not stamp.isdigit():
        raise AuthError(f"{TIMESTAMP} (value {stamp!r}): expected Unix seconds")
    if not NONCE_PATTERN.fullmatch(nonce):
        raise AuthError(f"{NONCE} (value {nonce!r}): expected 32 lowercase hex digits")
    expected = signature(secret, method, path, stamp, nonce, body)
    if not hmac.compare_digest(expected, given):
        raise AuthError("bad signature")
    skew = abs((time.time() if now is None else now) - int(stamp))
    if skew > MAX_SKEW_SECONDS:
        raise AuthError(f"stale request: timestamp {skew:.0f} s away from the node's clock")
    return user, nonce, int(stamp)
