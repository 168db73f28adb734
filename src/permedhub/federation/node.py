"""The node's HTTP service: `POST /queries` (a signed cohort -> disclosure-controlled counts)
and `GET /health`. Run it with `permedhub node serve`; it imports no portal code.

Every answer and every refusal is a JSON object; refusals are `{"refused": CODE, "detail": ...}`
with status 401 (unauthenticated, bad signature, stale or replayed), 403 (rejected by the
operator), 409 (repeat, differencing), 413 (body too large), 422 (invalid cohort, unknown
codes) or 429 (rate limit, budget). 202 means the operator must approve the query first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from permedhub.federation import signing
from permedhub.federation.answering import Node, NodeConfig, Refusal

MAX_BODY_BYTES = 64 * 1024


class _User(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: str = Field(min_length=signing.MIN_SECRET_CHARS)


class Credentials(BaseModel):
    """The node's credentials file (YAML): `users: {NAME: {secret: ...}}`, one secret per
    researcher, shared with that researcher's hub configuration only."""

    model_config = ConfigDict(extra="forbid")
    users: dict[str, _User] = Field(min_length=1)


def load_credentials(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = Credentials.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"credentials file {path}: cannot read it ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"credentials file {path}: {where}: {first['msg']}") from None
    return {name: user.secret for name, user in parsed.users.items()}


def _refused(status: int, code: str, detail: Any, query_id: str | None = None) -> JSONResponse:
    return JSONResponse({"refused": code, "detail": detail, "query_id": query_id}, status)


def create_node_app(config: NodeConfig) -> FastAPI:
    node = Node(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        node.close()

    app = FastAPI(title=f"PerMed Hub node {config.name}", docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)  # fmt: skip
    app.state.node = node

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"node": config.name, "status": "ok", "data": node.label,
                "synthetic": node.synthetic}  # fmt: skip

    @app.post("/queries")
    async def queries(request: Request) -> JSONResponse:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return _refused(413, "too_large", f"a cohort must be under {MAX_BODY_BYTES} bytes")
        try:
            user, nonce, _ = signing.verify(
                dict(request.headers), config.credentials, "POST", request.url.path, body
            )
        except signing.AuthError as exc:
            node.state.audit("refused", request.headers.get(signing.USER),
                             reason="unauthenticated", detail=str(exc))  # fmt: skip
            return _refused(401, "unauthenticated", str(exc))
        if not node.state.use_nonce(nonce, user, 2 * signing.MAX_SKEW_SECONDS):
            node.state.audit("refused", user, reason="replayed request", nonce=nonce)
            return _refused(401, "replayed", "this request's nonce was used before")
        try:
            answer = await run_in_threadpool(node.submit, user, body)
        except Refusal as refusal:
            return JSONResponse(refusal.body(), refusal.status)
        return JSONResponse(answer, 202 if answer["status"] == "pending_approval" else 200)

    return app
