"""The atlas pages: a region's (or the world's) coverage heatmap of mapping records per country
and topic, a choropleth of one topic on the shipped map outlines, and the region's gaps.

Each route parses its query, calls the atlas's library functions and renders their frames; the
heatmap is an HTML table (the map's table twin too), shaded by classes (the CSP allows no
inline styles).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Connection

from permedhub.atlas import data
from permedhub.atlas.analyses import AtlasError, Coverage, coverage, gaps
from permedhub.atlas.choropleth import country_counts, shade
from permedhub.atlas.report import region_report
from permedhub.web.deps import engine_of
from permedhub.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
RegionQuery = Annotated[str | None, Query(max_length=40)]
TopicQuery = Annotated[str | None, Query(max_length=120)]
# The report carries its own inline styles and Plotly's inline script and loads nothing, so its
# policy admits inline code and no origin at all (not even the portal's own).
REPORT_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
SHADES = 5  # heat-1 .. heat-5 in site.css; heat-0 is an empty cell


def _blank(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _coverage(connection: Connection, region: str | None) -> Coverage:
    try:
        return coverage(connection, region=region)
    except AtlasError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


def _heatmap(result: Coverage) -> dict[str, Any]:
    matrix = result.records
    active = [p for p in matrix.index if matrix.loc[p].sum() > 0]
    used = [t for t in matrix.columns if matrix[t].sum() > 0]
    most = int(matrix.to_numpy().max()) if matrix.size else 0
    names = dict(zip(result.topics["id"], result.topics["name"], strict=True))
    return {
        "topics": [{"id": t, "name": names.get(t, t)} for t in used],
        "rows": [
            {
                "code": place,
                "name": result.names.get(place, place),
                "cells": [
                    {
                        "value": int(matrix.at[place, t]),
                        "shade": shade(int(matrix.at[place, t]), most, SHADES),
                    }
                    for t in used
                ],
                "total": int(matrix.loc[place].sum()),
            }
            for place in active
        ],
    }


@router.get("/atlas", response_class=HTMLResponse)
def atlas_page(
    request: Request, region: RegionQuery = None, topic: TopicQuery = None
) -> HTMLResponse:
    region, topic = _blank(region), _blank(topic)
    with engine_of(request).connect() as connection:
        result = _coverage(connection, region)
        gap = gaps(connection, region) if region else None
        regions = data.regions(connection).to_dict("records")
    topics = result.topics[["id", "name"]].to_dict("records")
    if topic is not None and topic not in set(result.topics["id"]):
        raise HTTPException(status_code=404, detail=f"topic {topic!r}: not in the taxonomy")
    query = "&".join(f"{k}={v}" for k, v in (("region", region), ("topic", topic)) if v is not None)
    return render(
        request,
        "atlas.html",
        {
            "region": region,
            "topic": topic,
            "regions": regions,
            "topics": topics,
            "heat": _heatmap(result),
            "gaps": gap.as_dict() if gap else None,
            "map_source": "/atlas/map.json" + (f"?{query}" if query else ""),
        },
    )


@router.get("/atlas/map.json")
def atlas_map_json(
    request: Request, region: RegionQuery = None, topic: TopicQuery = None
) -> JSONResponse:
    """Mapping records per country (of one topic, or of all), keyed by ISO numeric code as in
    the world-atlas outlines, for map.js (which shades the `participations` value)."""
    region, topic = _blank(region), _blank(topic)
    with engine_of(request).connect() as connection:
        result = _coverage(connection, region)
    if topic is not None and topic not in result.records.columns:
        raise HTTPException(status_code=404, detail=f"topic {topic!r}: not in the taxonomy")
    countries = [
        {"code": c.code, "name": c.name, "numeric": c.numeric, "participations": c.count,
         "url": f"/countries/{c.code}"}
        for c in country_counts(result.records, result.names, topic)
    ]  # fmt: skip
    return JSONResponse(
        {"measure": "mapping records", "measure_one": "mapping record", "countries": countries}
    )


@router.get("/atlas/report.html")
def atlas_region_report(
    request: Request, region: RegionQuery = None, other: RegionQuery = None
) -> Response:
    """The region's self-contained report (`atlas.report.region_report`), the same document
    `permedhub atlas report` writes; `download=1` saves it instead of showing it."""
    region, other = _blank(region), _blank(other)
    engine = engine_of(request)
    with engine.connect() as connection:
        known = set(data.regions(connection)["id"])
    for field, value in (("region", region), ("other", other)):
        if value is not None and value not in known:
            raise HTTPException(
                status_code=404, detail=f"{field} = {value!r}: not a region of the graph"
            )
    if region is None:
        raise HTTPException(status_code=422, detail="region: a region of the graph is required")
    report = region_report(engine, region, other=other)
    disposition = "attachment" if request.query_params.get("download") else "inline"
    return Response(
        report.html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": REPORT_POLICY,
            "Content-Disposition": f'{disposition}; filename="region-report-{region}.html"',
        },
    )
