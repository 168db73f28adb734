"""The portal: server-rendered pages around the same library queries as the JSON API."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from permedhub import config
from permedhub.graph.queries import InvalidFilter, NotFound
from permedhub.web.auth import LoginRateLimiter, session_settings
from permedhub.web.pages import (
    adoption,
    atlas,
    calls,
    calls_manage,
    calls_public,
    calls_statistics,
    curator,
    helpdesk,
    public,
)
from permedhub.web.pages.cache import DownloadCache, PageCache
from permedhub.web.pages.rendering import STATIC_DIR, SecurityHeaders, render


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def install(app: FastAPI) -> None:
    """Add the pages, static files, sessions, security headers and HTML error pages to `app`."""
    app.state.login_limiter = LoginRateLimiter(app.state.engine)
    app.state.page_cache = PageCache()
    app.state.download_cache = DownloadCache()
    app.state.upload_dir = config.data_dir() / "uploads"
    # Before the call pages: their /calls/{call_id} would take /calls/statistics.
    app.include_router(calls_statistics.router)
    app.include_router(public.router)
    app.include_router(calls_public.router)
    # Before the curator area: its /curate/{plural}/{id} forms would take /curate/helpdesk/{id}.
    app.include_router(helpdesk.router)
    app.include_router(calls_manage.router)
    app.include_router(atlas.router)
    app.include_router(curator.router)
    app.include_router(adoption.router)
    app.include_router(calls.router)
    calls.install_workflow(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_middleware(SessionMiddleware, **session_settings())
    app.add_middleware(SecurityHeaders)
    _html_errors(app)


def _html_errors(app: FastAPI) -> None:
    """Pages answer errors with a page; the API keeps its JSON answers."""
    api_handlers: dict[Any, Any] = dict(app.exception_handlers)

    async def not_found(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            response: Response = await api_handlers[NotFound](request, exc)
            return response
        return _error_page(request, 404, "Not found", str(exc))

    async def invalid_filter(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            response: Response = await api_handlers[InvalidFilter](request, exc)
            return response
        return _error_page(request, 422, "Invalid filter", str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _is_api(request) or request.url.path.startswith("/static"):
            return await http_exception_handler(request, exc)
        titles = {401: "Please log in", 403: "Not allowed", 404: "Not found", 413: "Too large"}
        response = _error_page(
            request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail)
        )
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if _is_api(request):
            return await request_validation_exception_handler(request, exc)
        message = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()
        )
        return _error_page(request, 422, "Invalid request", message)

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(InvalidFilter, invalid_filter)
    app.add_exception_handler(StarletteHTTPException, http_error)


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message, "path": request.url.path},
        status_code=status,
    )
