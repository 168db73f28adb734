"""Who is asking: session cookie, roles, CSRF tokens and login rate limiting for the portal."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from permedhub import config
from permedhub.db import writing
from permedhub.graph.curation import UserView, get_user, revoke_sessions, role_rank
from permedhub.graph.models import LoginFailure
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
        super().__init__(status_code=401, detail="Log in to use this page.")


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


@dataclass(frozen=True)
class LimitRule:
    """At most `allowed` failures in the window among those sharing the `by` columns."""

    by: tuple[Literal["name", "address"], ...]
    allowed: int


LOGIN_RULES = (
    LimitRule(("name", "address"), LOGIN_FAILURES_ALLOWED),  # guessing one account from one place
    LimitRule(("address",), 4 * LOGIN_FAILURES_ALLOWED),  # many accounts from one place
    LimitRule(("name",), 10 * LOGIN_FAILURES_ALLOWED),  # one account from many places
)


class LoginRateLimiter:
    """Failed logins counted in the database (so restarts and other workers see them) in a
    sliding window, under every rule of `rules`; a success clears its (name, address) count.

    The per-account rule is looser than the others so that a stranger cannot lock a curator
    out from one address; addresses are the client's as the server sees it (see
    PERMEDHUB_TRUSTED_PROXIES for proxies).
    """

    def __init__(
        self,
        engine: Engine,
        rules: tuple[LimitRule, ...] = LOGIN_RULES,
        window_s: float = LOGIN_WINDOW_S,
        clock: Callable[[], float] = time.time,
    ):
        if window_s <= 0 or not rules or any(rule.allowed < 1 for rule in rules):
            raise ValueError(
                f"rules={rules!r}, window_s={window_s!r}: expected rules allowing >= 1 failure "
                "and window_s > 0"
            )
        self.engine, self.rules, self.window_s, self.clock = engine, rules, window_s, clock

    def retry_after(self, name: str, address: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = self.clock()
        key = {"name": _folded(name), "address": address[:64]}
        wait = 0.0
        with Session(self.engine) as session:
            for rule in self.rules:
                times = (
                    session.execute(
                        select(LoginFailure.failed_at)
                        .where(LoginFailure.failed_at > now - self.window_s)
                        .where(
                            *(getattr(LoginFailure, column) == key[column] for column in rule.by)
                        )
                        .order_by(LoginFailure.failed_at.desc())
                        .limit(rule.allowed)
                    )
                    .scalars()
                    .all()
                )
                if len(times) >= rule.allowed:  # the oldest of the last `allowed` must expire
                    wait = max(wait, times[-1] + self.window_s - now)
        return 0 if wait <= 0 else max(1, int(wait) + 1)

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with writing(self.engine) as session:
            session.execute(
                delete(LoginFailure).where(LoginFailure.failed_at < now - self.window_s)
            )
            session.add(LoginFailure(name=_folded(name), address=address[:64], failed_at=now))

    def succeeded(self, name: str, address: str) -> None:
        with writing(self.engine) as session:
            session.execute(
                delete(LoginFailure)
                .where(LoginFailure.name == _folded(name))
                .where(LoginFailure.address == address[:64])
            )


def _folded(name: str) -> str:
    return name.strip().lower()[:120]


def rate_limiter(request: Request) -> LoginRateLimiter:
    limiter: LoginRateLimiter = request.app.state.login_limiter
    return limiter
