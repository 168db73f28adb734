"""The ASGI application: `create_app()` builds it around one database engine."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from permedhub import __version__
from permedhub.db import ensure_ready, make_engine
from permedhub.graph.queries import InvalidFilter, NotFound
from permedhub.regions.seed import ensure_seeded as ensure_regions_seeded
from permedhub.search.query import SearchQueryError
from permedhub.web import api_docs, experts, federation, match
from permedhub.web.api import graph as graph_api
from permedhub.web.api import search as search_api
from permedhub.web.body_limit import FORM_BYTES, UPLOAD_BODY_BYTES
from permedhub.web.pages import install as install_pages
from permedhub.web.tools import router as tools_router


def create_app(engine: Engine | None = None, *, prepare_database: bool = True) -> FastAPI:
    """The app on `engine` (default: the configured database), migrated and seeded when empty."""
    owns_engine = engine is None
    engine = engine or make_engine()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_engine:  # close the pool of an engine this app made; callers close their own
            engine.dispose()

    if prepare_database:
        if ensure_ready(engine):  # a first start: the services' sourced seeds come with it
            from permedhub.atlas.seed import seed as seed_atlas
            from permedhub.helpdesk.seed import seed as seed_helpdesk

            seed_helpdesk(engine)
            seed_atlas(engine)
        ensure_regions_seeded(engine)  # regions/' profiles and events, on a first start
    app = FastAPI(
        title="PerMed Hub",
        version=__version__,
        description="The ICPerMed family's knowledge graph: initiatives, organisations, "
        "countries, regions, links and calls, with their sources.",
        lifespan=lifespan,
        docs_url=None,  # served from the package by api_docs below, not from a CDN
        redoc_url=None,
        max_body_size=FORM_BYTES,
    )
    app.state.engine = engine
    app.include_router(graph_api.router, prefix="/api")
    app.include_router(search_api.router, prefix="/api")
    app.include_router(tools_router, max_body_size=UPLOAD_BODY_BYTES)
    app.include_router(api_docs.router)
    app.include_router(federation.router)
    app.include_router(match.router)
    app.include_router(experts.router)
    _add_error_handlers(app)
    install_pages(app)
    _freeze_startup_objects()
    return app


def _freeze_startup_objects() -> None:
    """Take the objects alive at start-up out of the garbage collector's full passes.

    Importing the app (SQLAlchemy, pandas, SciPy, the tools) leaves some 200,000 long-lived
    objects; every full (generation 2) collection walked them all, 100-150 ms on the benchmark
    machine, and pages and API answers that build thousands of view objects set one off every
    few requests: that was most of their p95. Frozen, they are never walked again (nor freed:
    they live as long as the process anyway). Done once per process, after collecting what is
    garbage now.
    """
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(
            status_code=404,
            content={"detail": str(exc), "entity": exc.entity, "id": exc.key},
        )

    @app.exception_handler(InvalidFilter)
    async def invalid_filter(_request: Request, exc: InvalidFilter) -> JSONResponse:
        return JSONResponse(
            status_code=422,
            content={
                "detail": [
                    {
                        "loc": ["query", exc.field],
                        "input": exc.value,
                        "msg": f"expected {exc.expected}",
                    }
                ]
            },
        )

    @app.exception_handler(SearchQueryError)
    async def bad_query(_request: Request, exc: SearchQueryError) -> JSONResponse:
        return JSONResponse(
            status_code=422, content={"detail": [{"loc": ["query", "q"], "msg": str(exc)}]}
        )
