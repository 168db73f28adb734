"""`/api/...`: the knowledge graph as JSON. Each route calls one query of `graph.queries`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter

from permedhub.graph import queries
from permedhub.graph.schemas import InitiativeKind, OrganisationKind
from permedhub.graph.views import (
    CallView,
    CountryProfile,
    Counts,
    InitiativeDetail,
    InitiativeSummary,
    Network,
    OrganisationDetail,
    OrganisationSummary,
    Page,
    RegionProfile,
    RegionRef,
    Timeline,
    TopicView,
)
from permedhub.web.deps import EntityId, PlaceCode, RegionId, SessionDep

router = APIRouter(tags=["graph"])
PageNo = Annotated[int, Query(ge=1, description="1-based page number")]
PerPage = Annotated[int, Query(ge=1, le=queries.MAX_PER_PAGE)]
Kinds = Annotated[list[InitiativeKind] | None, Query(description="initiative kinds")]
Year = Annotated[int | None, Query(ge=1900, le=2200)]


def as_json(view: BaseModel | list[Any]) -> Response:
    """The view serialised once, by Pydantic's core.

    Returned as a model, FastAPI would dump it to dicts, validate those against the response
    model again and only then serialise: three passes, which for a network of thousands of
    edges cost more than the query. The routes keep `response_model` for the OpenAPI schema.
    """
    if isinstance(view, BaseModel):
        body = view.model_dump_json()
    else:
        body = LIST_ADAPTER.dump_json(view).decode()
    return Response(body, media_type="application/json")


LIST_ADAPTER: TypeAdapter[list[Any]] = TypeAdapter(list[Any])


@router.get("/initiatives", response_model=Page[InitiativeSummary])
def initiatives(
    session: SessionDep,
    kind: InitiativeKind | None = None,
    q: str | None = None,
    page: PageNo = 1,
    per_page: PerPage = 100,
) -> Response:
    return as_json(queries.list_initiatives(session, kind=kind, q=q, page=page, per_page=per_page))


@router.get("/initiatives/{initiative_id}", response_model=InitiativeDetail)
def initiative(
    session: SessionDep,
    initiative_id: EntityId,
    page: Annotated[int, Query(ge=1, description="page of the partners")] = 1,
    per_page: PerPage = queries.MAX_PER_PAGE,
) -> Response:
    return as_json(queries.get_initiative(session, initiative_id, page=page, per_page=per_page))


@router.get("/organisations", response_model=Page[OrganisationSummary])
def organisations(
    session: SessionDep,
    country: Annotated[
        str | None, Query(min_length=2, max_length=8, description="ISO 3166-1 or 3166-2 code")
    ] = None,
    kind: OrganisationKind | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> Response:
    return as_json(
        queries.list_organisations(
            session, country=country, kind=kind, q=q, page=page, per_page=per_page
        )
    )


@router.get("/organisations/{organisation_id}", response_model=OrganisationDetail)
def organisation(session: SessionDep, organisation_id: EntityId) -> Response:
    return as_json(queries.get_organisation(session, organisation_id))


@router.get("/countries/{code}", response_model=CountryProfile)
def country(
    session: SessionDep,
    code: PlaceCode,
    page: Annotated[int, Query(ge=1, description="page of the organisations (by name)")] = 1,
    per_page: PerPage = queries.COUNTRY_ORGANISATIONS_PER_PAGE,
) -> Response:
    return as_json(queries.country_profile(session, code, page=page, per_page=per_page))


@router.get("/regions", response_model=list[RegionRef])
def regions(session: SessionDep) -> Response:
    return as_json(queries.list_regions(session))


@router.get("/regions/{region_id}", response_model=RegionProfile)
def region(session: SessionDep, region_id: RegionId) -> Response:
    return as_json(queries.region_profile(session, region_id))


@router.get("/network", response_model=Network)
def network(
    session: SessionDep,
    kind: Kinds = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
    year_from: Year = None,
    year_to: Year = None,
    max_nodes: Annotated[int, Query(ge=10, le=20000)] = queries.NETWORK_MAX_NODES,
) -> Response:
    return as_json(
        queries.network(
            session,
            kinds=kind,
            region=region,
            year_from=year_from,
            year_to=year_to,
            max_nodes=max_nodes,
        )
    )


@router.get("/timeline", response_model=Timeline)
def timeline(session: SessionDep, kind: Kinds = None) -> Response:
    return as_json(queries.timeline(session, kinds=kind))


@router.get("/counts", response_model=Counts)
def counts(session: SessionDep) -> Response:
    return as_json(queries.counts(session))


@router.get("/topics", response_model=list[TopicView])
def topics(session: SessionDep) -> Response:
    return as_json(queries.topic_tree(session))


@router.get("/calls", response_model=list[CallView])
def calls(
    session: SessionDep, initiative: Annotated[str | None, Query(max_length=120)] = None
) -> Response:
    return as_json(queries.list_calls(session, initiative=initiative))
