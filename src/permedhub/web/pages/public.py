"""The public pages: home, initiatives, organisations, countries, regions and search (the
calls' pages are in `calls_public`).

Each route reads its query parameters, calls one library query, and renders the result (as HTML,
as a CSV table, or as JSON for the home page's network and map).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Hashable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from permedhub.graph import queries, revision
from permedhub.graph.export import initiative_json_ld
from permedhub.graph.geography import numeric_code
from permedhub.graph.layout import (
    count_subnational_organisations,
    network_layout,
    node_sizes,
    subnational_organisations,
    subnational_places,
    timeline_axis,
)
from permedhub.graph.queries.initiatives import PartnerRow
from permedhub.graph.schemas import InitiativeKind
from permedhub.graph.views import (
    Counts,
    Network,
    Timeline,
    TopicView,
)
from permedhub.search.query import SearchFilters, SearchQueryError, SearchResults, search
from permedhub.web.deps import EntityId, PlaceCode, RegionId, SessionDep, engine_of
from permedhub.web.pages import tables
from permedhub.web.pages.cache import download_cache, page_cache
from permedhub.web.pages.rendering import (
    csv_bytes,
    csv_download,
    csv_response,
    json_script,
    render,
)

T = TypeVar("T")
router = APIRouter(include_in_schema=False)
Kinds = Annotated[list[InitiativeKind] | None, Query()]
# Years come as text: a filter form sends an empty field for "any year".
Year = Annotated[str | None, Query(max_length=4, pattern=r"^\d{0,4}$")]
Region = Annotated[str | None, Query(max_length=40)]
INITIATIVE_KINDS: tuple[str, ...] = InitiativeKind.__args__  # type: ignore[attr-defined]
SEARCH_TYPES = ("initiative", "organisation", "topic", "call")
TWIN_ROWS = 500  # the page lists this many connections; the CSV has them all
INITIATIVES_PAGE = 100  # the list of initiatives shows this many a page; its CSV has them all
PARTNER_ROWS = 100  # an initiative page lists this many partners a page; its CSV has them all
TIMELINE_BARS = 150  # the home page draws this many initiatives; the CSV lists them all
SUBNATIONAL_LISTED = 8  # the home page lists this many sub-national organisations
SUBNATIONAL_PAGE = 100  # the page of all sub-national organisations shows this many at a time
NETWORK_SEED = 20161101  # ICPerMed's start: any fixed seed gives the same picture every visit
# The home network at first leaves out funded projects: each brings a consortium of its own,
# and together they bury the family's programmes and their partners. Ticking "project" adds them.
DEFAULT_NETWORK_KINDS = tuple(k for k in INITIATIVE_KINDS if k != "project")
# A request with none of these has not chosen filters yet (the form always sends "filtered").
NETWORK_FILTER_PARAMS = ("kind", "region", "year_from", "year_to", "filtered")
# What the home page's script asks /network.json for on a first visit.
HOME_NETWORK_QUERY = urlencode([("filtered", 1), *(("kind", k) for k in DEFAULT_NETWORK_KINDS)])


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _year(field: str, value: str | None) -> int | None:
    if not value:
        return None
    year = int(value)
    if not 1900 <= year <= 2200:
        raise queries.InvalidFilter(field, value, "a year from 1900 to 2200")
    return year


@dataclasses.dataclass(frozen=True)
class NetworkFilters:
    """The home network's filters, checked: a bad year or region is refused by the page itself,
    not later by the fetch that draws the network. Hashable: it keys the page cache."""

    kind: tuple[str, ...]
    region: str | None
    year_from: int | None
    year_to: int | None


def network_filters(
    kind: Kinds = None, region: Region = None, year_from: Year = None, year_to: Year = None
) -> NetworkFilters:
    return NetworkFilters(
        tuple(sorted(set(kind or ()))),
        _blank_to_none(region),
        _year("year_from", year_from),
        _year("year_to", year_to),
    )


NetworkFiltersDep = Annotated[NetworkFilters, Depends(network_filters)]


def _home_filters(request: Request, filters: NetworkFilters) -> tuple[NetworkFilters, bool]:
    """The filters the home page starts from: the default kinds until the visitor chooses."""
    if any(name in request.query_params for name in NETWORK_FILTER_PARAMS):
        return filters, False
    return dataclasses.replace(filters, kind=DEFAULT_NETWORK_KINDS), True


def _query_of(filters: NetworkFilters) -> str:
    """The filters as the form sends them, for links that work without scripts."""
    pairs: list[tuple[str, Any]] = [("filtered", 1), *(("kind", k) for k in filters.kind)]
    pairs += [
        (name, value)
        for name, value in (
            ("region", filters.region),
            ("year_from", filters.year_from),
            ("year_to", filters.year_to),
        )
        if value is not None
    ]
    return urlencode(pairs)


def _cached(
    request: Request, session: Session, key: Hashable, compute: Callable[[Session], T]
) -> T:
    """An aggregate from the page cache (see `cache.py`), computed on `session` if absent."""
    return page_cache(request).get(key, compute, session=session, engine=engine_of(request))


def _network_query(session: Session, filters: NetworkFilters) -> Network:
    return queries.network(
        session,
        kinds=list(filters.kind) or None,
        region=filters.region,
        year_from=filters.year_from,
        year_to=filters.year_to,
    )


def _network(request: Request, session: Session, filters: NetworkFilters) -> Network:
    return _cached(request, session, ("network", filters), lambda s: _network_query(s, filters))


def _counts(request: Request, session: Session) -> Counts:
    return _cached(request, session, "counts", queries.counts)


def _timeline(request: Request, session: Session) -> Timeline:
    return _cached(request, session, "timeline", lambda s: queries.timeline(s))


def _timeline_by_call(request: Request, session: Session) -> Timeline:
    return _cached(
        request,
        session,
        "timeline-by-call",
        lambda s: queries.timeline_by_call(s, _timeline(request, s)),
    )


# ---------------------------------------------------------------- home


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    filters: NetworkFiltersDep,
) -> HTMLResponse:
    filters, by_default = _home_filters(request, filters)
    counts = _counts(request, session)
    timeline = _timeline_by_call(request, session)
    regions = queries.list_regions(session)
    if filters.region and filters.region not in {r.id for r in regions}:
        raise queries.InvalidFilter("region", filters.region, "a region id such as eu27 or celac")
    shown = Timeline(today=timeline.today, items=timeline.items[:TIMELINE_BARS])
    return render(
        request,
        "home.html",
        {
            "counts": counts,
            "axis": timeline_axis(shown),
            "timeline_total": len(timeline.items),
            "timeline_truncated": len(timeline.items) > TIMELINE_BARS,
            "timeline_undated": [i for i in shown.items if i.start is None],
            "filters": filters,
            "filters_by_default": by_default,
            "filters_query": _query_of(filters),
            "kinds": INITIATIVE_KINDS,
            "regions": regions,
            "countries": tables.countries(counts).to_dict("records"),
            "subnational": _cached(
                request,
                session,
                "subnational-first",
                lambda s: subnational_organisations(s, limit=SUBNATIONAL_LISTED),
            ),
            "subnational_total": _cached(
                request, session, "subnational-total", count_subnational_organisations
            ),
        },
    )


@router.get("/subnational", response_class=HTMLResponse)
def subnational_page(
    request: Request, session: SessionDep, page: Annotated[int, Query(ge=1)] = 1
) -> HTMLResponse:
    """Every organisation of a region or province, a page at a time."""
    total = count_subnational_organisations(session)
    return render(
        request,
        "subnational.html",
        {
            "items": subnational_organisations(
                session, limit=SUBNATIONAL_PAGE, offset=(page - 1) * SUBNATIONAL_PAGE
            ),
            "total": total,
            "page": page,
            "pages": max(1, -(-total // SUBNATIONAL_PAGE)),
        },
    )


@router.get("/partials/network-table", response_class=HTMLResponse)
def network_table(
    request: Request,
    session: SessionDep,
    filters: NetworkFiltersDep,
) -> HTMLResponse:
    network = _network(request, session, filters)
    return render(
        request,
        "partials/network_table.html",
        {
            "network": network,
            "edges": tables.network_edges(network).head(TWIN_ROWS).to_dict("records"),
        },
    )


@router.get("/network.json", response_class=Response)
def network_json(
    request: Request,
    session: SessionDep,
    filters: NetworkFiltersDep,
) -> Response:
    """The network with server-computed, seeded positions, for the home page's drawing."""

    def payload(s: Session) -> bytes:
        network = _network_query(s, filters)
        positions = network_layout(network, seed=NETWORK_SEED)
        # The browser draws each node at the size the layout kept it clear of the others at.
        sizes = node_sizes(network)
        data: dict[str, Any] = network.model_dump()
        for node in data["nodes"]:
            node["x"], node["y"] = positions[node["id"]]
            node["size"] = sizes[node["id"]]
        # Kept encoded: a big network takes longer to serialise than to send.
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    body = _cached(request, session, ("network.json", filters), payload)
    return Response(body, media_type="application/json")


@router.get("/network.csv")
def network_csv(
    request: Request,
    session: SessionDep,
    filters: NetworkFiltersDep,
) -> Response:
    network = _network(request, session, filters)
    return csv_response(tables.network_edges(network), "network.csv")


@router.get("/map.json")
def map_json(request: Request, session: SessionDep) -> JSONResponse:
    """Participations per country, keyed by ISO numeric code as in the world-atlas outlines,
    and the sub-national regions that take part, with a point to mark each."""
    counts = _counts(request, session)
    return JSONResponse(
        {
            "measure": "participations",
            "measure_one": "participation",
            "countries": [
                {**c.model_dump(), "numeric": numeric_code(c.code), "url": f"/countries/{c.code}"}
                for c in counts.by_country
            ],
            "places": [
                {**dataclasses.asdict(p), "url": f"/countries/{p.code}"}
                for p in subnational_places(session)
            ],
        }
    )


@router.get("/countries.csv")
def countries_csv(request: Request, session: SessionDep) -> Response:
    return csv_response(tables.countries(_counts(request, session)), "countries.csv")


@router.get("/regions.csv")
def regions_csv(request: Request, session: SessionDep) -> Response:
    return csv_response(tables.regions(_counts(request, session)), "regions.csv")


@router.get("/timeline.csv")
def timeline_csv(request: Request, session: SessionDep) -> Response:
    return csv_response(tables.timeline(_timeline(request, session)), "timeline.csv")


@router.get("/subnational.csv")
def subnational_csv(session: SessionDep) -> Response:
    return csv_response(
        tables.subnational(subnational_organisations(session, limit=None)),
        "subnational-organisations.csv",
    )


# ---------------------------------------------------------------- initiatives


@router.get("/initiatives", response_class=HTMLResponse)
def initiatives_page(
    request: Request, session: SessionDep, page: Annotated[int, Query(ge=1)] = 1
) -> HTMLResponse:
    listed = queries.list_initiatives(session, page=page, per_page=INITIATIVES_PAGE)
    return render(request, "initiatives.html", {"page": listed})


@router.get("/initiatives.csv")
def initiatives_csv(session: SessionDep) -> Response:
    """Every initiative, read a page at a time (the list pages show one of them)."""
    first = queries.list_initiatives(session, per_page=queries.MAX_PER_PAGE)
    items = list(first.items)
    for page in range(2, first.pages + 1):
        items += queries.list_initiatives(session, page=page, per_page=queries.MAX_PER_PAGE).items
    return csv_response(tables.initiatives(items), "initiatives.csv")


@router.get("/initiatives/{initiative_id}", response_class=HTMLResponse)
def initiative_page(
    request: Request,
    session: SessionDep,
    initiative_id: EntityId,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    detail = queries.get_initiative(session, initiative_id, page=page, per_page=PARTNER_ROWS)
    return render(
        request,
        "initiative.html",
        {
            "i": detail,
            "json_ld": json_script(
                initiative_json_ld(session.connection(), detail.id, max_roles=PARTNER_ROWS)
            ),
            "partner_countries": [(c.code, c.name) for c in detail.countries if c.partners],
        },
    )


@router.get("/initiatives/{initiative_id}/partners.csv")
def partners_csv(request: Request, session: SessionDep, initiative_id: EntityId) -> Response:
    """Every partner; the body is kept until the graph changes (an initiative of the
    benchmark graph has 8,000 partners, and the same download is asked for again and again)."""
    seen = revision.current(session.connection())
    body = download_cache(request).get(
        ("partners.csv", initiative_id),
        seen,
        lambda: csv_bytes(PartnerRow._fields, queries.initiative_partners(session, initiative_id)),
    )
    return csv_download(body, f"{initiative_id}-partners.csv")


@router.get("/initiatives/{initiative_id}/calls.csv")
def calls_csv(session: SessionDep, initiative_id: EntityId) -> Response:
    detail = queries.get_initiative(session, initiative_id, per_page=1)
    return csv_response(tables.calls(detail), f"{detail.id}-calls.csv")


@router.get("/initiatives/{initiative_id}/projects.csv")
def projects_csv(session: SessionDep, initiative_id: EntityId) -> Response:
    detail = queries.get_initiative(session, initiative_id, per_page=1)
    return csv_response(tables.projects(detail), f"{detail.id}-projects.csv")


@router.get("/initiatives/{initiative_id}/map.json")
def initiative_map_json(session: SessionDep, initiative_id: EntityId) -> JSONResponse:
    """The initiative's countries for its map: partners per country (declared ones count 0)."""
    detail = queries.get_initiative(session, initiative_id, per_page=1)
    return JSONResponse(
        {
            "measure": "partners",
            "measure_one": "partner",
            "countries": [
                {
                    "code": c.code,
                    "name": c.name,
                    "numeric": numeric_code(c.code),
                    "participations": c.partners,
                    "declared": "declared" in c.via,
                    "url": f"/countries/{c.code}",
                }
                for c in detail.countries
            ],
        }
    )


def _find_topic(
    forest: list[TopicView], topic_id: str, trail: tuple[TopicView, ...] = ()
) -> tuple[TopicView, tuple[TopicView, ...]] | None:
    for topic in forest:
        if topic.id == topic_id:
            return topic, trail
        found = _find_topic(topic.children, topic_id, (*trail, topic))
        if found:
            return found
    return None


@router.get("/topics/{topic_id}", response_class=HTMLResponse)
def topic_page(request: Request, session: SessionDep, topic_id: EntityId) -> HTMLResponse:
    """A topic of the ICPerMed taxonomy with its place in the tree."""
    found = _find_topic(queries.topic_tree(session), topic_id)
    if found is None:
        raise queries.NotFound("topic", topic_id)
    topic, trail = found
    return render(request, "topic.html", {"t": topic, "trail": trail})


# ---------------------------------------------------------------- organisations


@router.get("/organisations", response_class=HTMLResponse)
def organisations_page(
    request: Request,
    session: SessionDep,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    result = queries.list_organisations(session, page=page, per_page=100)
    return render(request, "organisations.html", {"page": result})


@router.get("/organisations.csv")
def organisations_csv(session: SessionDep, page: Annotated[int, Query(ge=1)] = 1) -> Response:
    result = queries.list_organisations(session, page=page, per_page=queries.MAX_PER_PAGE)
    return csv_response(tables.organisations(result.items), f"organisations-{page}.csv")


@router.get("/organisations/{organisation_id}", response_class=HTMLResponse)
def organisation_page(
    request: Request,
    session: SessionDep,
    organisation_id: EntityId,
) -> HTMLResponse:
    detail = queries.get_organisation(session, organisation_id)
    return render(request, "organisation.html", {"o": detail})


@router.get("/organisations/{organisation_id}/participations.csv")
def participations_csv(session: SessionDep, organisation_id: EntityId) -> Response:
    detail = queries.get_organisation(session, organisation_id)
    return csv_response(tables.participations(detail), f"{detail.id}-participations.csv")


# ---------------------------------------------------------------- countries and regions


@router.get("/countries/{code}", response_class=HTMLResponse)
def country_page(
    request: Request,
    session: SessionDep,
    code: PlaceCode,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    profile = _cached(
        request,
        session,
        ("country", code.upper(), page),
        lambda s: queries.country_profile(s, code, page=page),
    )
    return render(request, "country.html", {"c": profile})


@router.get("/countries/{code}/organisations.csv")
def country_organisations_csv(session: SessionDep, code: PlaceCode) -> Response:
    organisations = queries.country_organisations(session, code)
    return csv_response(tables.organisations(organisations), f"{code.upper()}-orgs.csv")


@router.get("/countries/{code}/initiatives.csv")
def country_initiatives_csv(session: SessionDep, code: PlaceCode) -> Response:
    # Every initiative (the page shows the most active ones); one organisation is enough.
    profile = queries.country_profile(session, code, per_page=1, initiatives_limit=100_000)
    return csv_response(tables.country_initiatives(profile), f"{profile.code}-initiatives.csv")


@router.get("/regions", response_class=HTMLResponse)
def regions_page(request: Request, session: SessionDep) -> HTMLResponse:
    counts = _counts(request, session)
    return render(request, "regions.html", {"regions": counts.by_region})


@router.get("/regions/{region_id}", response_class=HTMLResponse)
def region_page(request: Request, session: SessionDep, region_id: RegionId) -> HTMLResponse:
    profile = _cached(
        request, session, ("region", region_id), lambda s: queries.region_profile(s, region_id)
    )
    return render(request, "region.html", {"r": profile})


@router.get("/regions/{region_id}/map.json")
def region_map_json(request: Request, session: SessionDep, region_id: RegionId) -> JSONResponse:
    """The region's member countries for its map, which is fitted to them (`focus`)."""
    profile = _cached(
        request, session, ("region", region_id), lambda s: queries.region_profile(s, region_id)
    )
    countries = [
        {
            "code": m.code,
            "name": m.name,
            "numeric": numeric_code(m.code),
            "participations": m.participations,
            "declared": m.declared_only > 0,
            "member": True,
            "url": f"/countries/{m.code}",
        }
        for m in profile.members
    ]
    return JSONResponse(
        {
            "measure": "participations",
            "measure_one": "participation",
            "countries": countries,
            "focus": [c["numeric"] for c in countries if c["numeric"]],
        }
    )


@router.get("/regions/{region_id}/members.csv")
def region_members_csv(session: SessionDep, region_id: RegionId) -> Response:
    profile = queries.region_profile(session, region_id)
    return csv_response(tables.region_members(profile), f"{profile.id}-members.csv")


# ---------------------------------------------------------------- search


SearchText = Annotated[str | None, Query(max_length=200)]
Types = Annotated[list[str] | None, Query()]
Code = Annotated[str | None, Query(max_length=8)]
Kind = Annotated[str | None, Query(max_length=40)]


@dataclasses.dataclass(frozen=True)
class SearchRequest:
    """A search as the search form sends it (echoed back into the form) and as it is run."""

    q: str
    type: tuple[str, ...]
    country: str
    region: str
    kind: str

    def run(self, session: Session) -> tuple[SearchResults | None, str | None]:
        """The results (None without a query) or the query's problem, said to the user."""
        if not self.q:
            return None, None
        filters = SearchFilters(
            entity_types=tuple(t for t in self.type if t in SEARCH_TYPES),
            country=self.country or None,
            region=self.region or None,
            kind=self.kind or None,
        )
        try:
            return search(session, self.q, filters, limit=50), None
        except SearchQueryError as exc:
            return None, str(exc)


def search_request(
    q: SearchText = None,
    type: Types = None,
    country: Code = None,
    region: Region = None,
    kind: Kind = None,
) -> SearchRequest:
    return SearchRequest(
        (q or "").strip(),
        tuple(type or ()),
        _blank_to_none(country) or "",
        _blank_to_none(region) or "",
        _blank_to_none(kind) or "",
    )


SearchRequestDep = Annotated[SearchRequest, Depends(search_request)]


def _search_context(found: SearchResults | None, problem: str | None) -> dict[str, Any]:
    return {
        "hits": found.hits if found else [],
        "total": found.total if found else 0,
        "total_exact": found.total_exact if found else True,
        "ranked_within": found.ranked_within if found else None,
        "partial": found.partial if found else False,
        "matched": found.matched if found else [],
        "matched_count": found.matched_count if found else 0,
        "unmatched": found.unmatched if found else [],
        "named_countries": found.countries if found else [],
        "unfiltered_total": found.unfiltered_total if found else None,
        "problem": problem,
    }


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: SessionDep,
    asked: SearchRequestDep,
) -> HTMLResponse:
    found, problem = asked.run(session)
    counts = _counts(request, session)
    return render(
        request,
        "search.html",
        {
            "q": asked.q,
            **_search_context(found, problem),
            "selected": asked,
            "types": SEARCH_TYPES,
            "countries": sorted(counts.by_country, key=lambda c: c.name),
            "regions": queries.list_regions(session),
            "kinds": INITIATIVE_KINDS,
        },
    )


@router.get("/search/results", response_class=HTMLResponse)
def search_results(
    request: Request,
    session: SessionDep,
    asked: SearchRequestDep,
) -> HTMLResponse:
    found, problem = asked.run(session)
    response = render(
        request, "partials/search_results.html", {"q": asked.q, **_search_context(found, problem)}
    )
    # The address bar follows the search as it is typed, so it can be bookmarked or shared.
    response.headers["HX-Replace-Url"] = "/search" + (
        f"?{request.url.query}" if request.url.query else ""
    )
    return response


@router.get("/search.csv")
def search_csv(
    session: SessionDep,
    asked: SearchRequestDep,
) -> Response:
    found, _problem = asked.run(session)
    return csv_response(tables.search_hits(found.hits if found else []), "search.csv")
