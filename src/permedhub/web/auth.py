"""Who is asking: session cookie, roles, CSRF tokens and login rate limiting for the portal."""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from permedhub import config
from permedhub.graph.curation import UserView, get_user, revoke_sessions, role_rank
from permedhub.web.deps import engine_of

SECRET_ENV = "PERMEDHUB_SECRET_KEY"
INSECURE_COOKIE_ENV = "PERMEDHUB_INSECURE_COOKIES"  # "1" only for plain-http development
SECRET_FILE = "session-secret"
SESSION_COOKIE = "permedhub_session"
SESSION_MAX_AGE_S = 8 * 3600
LOGIN_FAILURES_ALLOWED = 5
LOGIN_WINDOW_S = 300.0


def session_secret() -> str:
    """`PERMEDHUB_SECRET_KEY`, else a random secret kept (mode 600) in the data dir."""
    configured = os.environ.get(SECRET_ENV)
    if configured:
        return configured
    path: Path = config.data_dir() / SECRET_FILE
    if not path.exists():
        # Written to a private temporary file and linked into place, so that two processes
        # starting at once agree on one secret and nobody reads a half-written file.
        temporary = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def session_settings() -> dict[str, Any]:
    """Keyword arguments for Starlette's SessionMiddleware (signed, httponly, SameSite)."""
    return {
        "secret_key": session_secret(),
        "session_cookie": SESSION_COOKIE,
        "max_age": SESSION_MAX_AGE_S,
        "same_site": "strict",
        "https_only": os.environ.get(INSECURE_COOKIE_ENV) != "1",
    }


# ---------------------------------------------------------------- users and roles


def current_user(request: Request) -> UserView | None:
    """The logged-in user, read afresh from the database (a changed role applies at once)."""
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        return None
    with Session(engine_of(request)) as session:
        user = get_user(session, user_id)
    if user is None or request.session.get("session_version") != user.session_version:
        request.session.clear()  # the account is gone, or this session was logged out
        return None
    return user


class NotAuthenticated(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=401, detail="Log in to use the curator area.")


def require_role(role: str) -> Callable[[Request], UserView]:
    """A dependency: the current user when their role is at least `role`; else 401 / 403."""
    needed = role_rank(role)

    def dependency(request: Request) -> UserView:
        user = current_user(request)
        if user is None:
            raise NotAuthenticated()
        if role_rank(user.role) < needed:
            raise HTTPException(
                status_code=403,
                detail=f"This needs the {role} role; {user.name} is a {user.role}.",
            )
        return user

    return dependency


Viewer = Annotated[UserView, Depends(require_role("viewer"))]
Curator = Annotated[UserView, Depends(require_role("curator"))]
Admin = Annotated[UserView, Depends(require_role("admin"))]


def log_in(request: Request, user: UserView) -> None:
    request.session.clear()  # a fresh session (and CSRF token) on every login
    request.session["user_id"] = user.id
    request.session["session_version"] = user.session_version
    request.session["csrf"] = secrets.token_urlsafe(32)


def log_out(request: Request) -> None:
    """End this account's sessions on the server too: a saved copy of the cookie is refused."""
    user_id = request.session.get("user_id")
    if isinstance(user_id, int):
        revoke_sessions(engine_of(request), user_id)
    request.session.clear()


# ---------------------------------------------------------------- CSRF


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use (embedded in every form)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """A dependency for every POST: the form's `csrf_token` must match the session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise HTTPException(
            status_code=403,
            detail="The form's security token is missing or out of date; reload the page and "
            "try again.",
        )


CsrfChecked = Depends(check_csrf)
# As a parameter placed after the user, so that the role is checked before the token.
CsrfOk = Annotated[None, Depends(check_csrf)]


# ---------------------------------------------------------------- login rate limiting


class LoginRateLimiter:
    """At most `allowed` failed logins per (name, client address) in a sliding window."""

    def __init__(
        self,
        allowed: int = LOGIN_FAILURES_ALLOWED,
        window_s: float = LOGIN_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        if allowed < 1 or window_s <= 0:
            raise ValueError(
                f"allowed={allowed!r}, window_s={window_s!r}: expected allowed >= 1 and "
                "window_s > 0"
            )
        self.allowed, self.window_s, self.clock = allowed, window_s, clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures[key]
        cutoff = self.clock() - self.window_s
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures

    def retry_after(self, name: str, address: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        key = (name.strip().lower(), address)
        with self._lock:
            failures = self._recent(key)
            if len(failures) < self.allowed:
                return 0
            return max(1, int(failures[0] + self.window_s - self.clock()) + 1)

    def failed(self, name: str, address: str) -> None:
        with self._lock:
            self._recent((name.strip().lower(), address)).append(self.clock())

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop((name.strip().lower(), address), None)


def rate_limiter(request: Request) -> LoginRateLimiter:
    limiter: LoginRateLimiter = request.app.state.login_limiter
    return limiter
