"""`/api/search`: ranked full-text search with facets."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from permedhub.search.query import SearchFilters, SearchHit, search
from permedhub.web.deps import get_session

router = APIRouter(tags=["search"])
EntityType = Literal["initiative", "organisation", "topic", "call"]


class SearchResults(BaseModel):
    query: str
    total: int = Field(
        description="matches; when total_exact is false, a lower bound (a broad query)"
    )
    total_exact: bool = True
    ranked_within: int | None = Field(
        None,
        description="a broad query's hits are the best of this many matches (in index order); "
        "null: of all matches",
    )
    partial: bool = Field(
        False, description="no record has every word; the hits have `matched_count` of them"
    )
    matched_count: int = 0
    matched: list[str] = Field(default_factory=list, description="words the hits have")
    unmatched: list[str] = Field(default_factory=list, description="words no record has")
    countries: list[str] = Field(
        default_factory=list, description="ISO codes of the countries the query names"
    )
    page: int
    per_page: int
    hits: list[SearchHit]


@router.get("/search", response_model=SearchResults)
def search_route(
    session: Annotated[Session, Depends(get_session)],
    q: Annotated[str, Query(min_length=1, max_length=200, description="words or acronyms")],
    type: Annotated[list[EntityType] | None, Query(description="entity types")] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=8)] = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResults:
    filters = SearchFilters(
        entity_types=tuple(type or ()), country=country, region=region, kind=kind
    )
    found = search(session, q, filters, limit=per_page, offset=(page - 1) * per_page)
    return SearchResults(
        query=q,
        total=found.total,
        total_exact=found.total_exact,
        ranked_within=found.ranked_within,
        partial=found.partial,
        matched_count=found.matched_count,
        matched=found.matched,
        unmatched=found.unmatched,
        countries=[code for _, code, _ in found.countries],
        page=page,
        per_page=per_page,
        hits=found.hits,
    )
