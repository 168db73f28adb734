"""Request dependencies: one database session per request, and the path parameters that name
records (their lengths are those of the columns)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    with Session(engine_of(request), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
EntityId = Annotated[str, Path(max_length=120)]  # an initiative's or organisation's id
RegionId = Annotated[str, Path(max_length=40)]
PlaceCode = Annotated[str, Path(min_length=2, max_length=8)]  # ISO 3166-1 or 3166-2
