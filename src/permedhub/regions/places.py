"""Regions as places: the graph's sub-national places with their innovation group, density
class and participation in the family.

The graph's sub-national places are the ISO 3166-2 subdivisions its organisations are in
(`organisation.subdivision_code`), plus any subdivision that has a profile or survey answers.

Density class (documented rule, applied to sourced figures only):
    density = population / area_km2 (people per km²), or the density the source states;
    sparse        density < 12.5   the EU's threshold for a sparsely populated NUTS 3 region
                                    (Guidelines on regional State aid 2022-2027, 2021/C 153/01)
    low           12.5 <= density < 100
    intermediate  100 <= density < 300
    dense         density >= 300   300 people per km² is Eurostat's density threshold for urban
                                    clusters (degree of urbanisation); used here for a whole region
The 100 cut-off is this module's own, halfway on a log scale between the other two. A region
without sourced figures has no class (None): it is never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from permedhub.graph.models import Country, Organisation, Participation
from permedhub.regions.models import RegionProfile, SurveyResponse

DENSITY_CLASSES: tuple[tuple[str, float], ...] = (
    ("sparse", 12.5),
    ("low", 100.0),
    ("intermediate", 300.0),
    ("dense", float("inf")),
)
UNKNOWN = "unknown"  # the label analyses give a region without a group or class


def density(population: int | None, area_km2: float | None, stated: float | None) -> float | None:
    """People per km² from sourced figures: population over area, else the stated density."""
    if population is not None and area_km2:
        return population / area_km2
    return stated


def density_class(people_per_km2: float | None) -> str | None:
    """The class of a density by the rule in this module's docstring (None: no figures)."""
    if people_per_km2 is None:
        return None
    for name, upper in DENSITY_CLASSES:
        if people_per_km2 < upper:
            return name
    raise AssertionError("unreachable: the last class has no upper bound")


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    country: str
    ris_group: str | None
    ris_edition: int | None
    density: float | None
    density_class: str | None
    organisations: int
    initiatives: int
    sources: dict[str, str]
    uncertain: dict[str, str]
    notes: str | None


def places(session: Session) -> list[Place]:
    """Every sub-national place of the graph, by code, with its profile and family activity."""
    codes = union(
        select(Organisation.subdivision_code.label("code")).where(
            Organisation.subdivision_code.is_not(None)
        ),
        select(RegionProfile.code),
        select(SurveyResponse.region_code),
    ).subquery()
    organisations = (
        select(Organisation.subdivision_code, func.count().label("n"))
        .group_by(Organisation.subdivision_code)
        .subquery()
    )
    initiatives = (
        select(
            Organisation.subdivision_code,
            func.count(func.distinct(Participation.initiative_id)).label("n"),
        )
        .join(Participation, Participation.organisation_id == Organisation.id)
        .group_by(Organisation.subdivision_code)
        .subquery()
    )
    statement = (
        select(Country, RegionProfile, organisations.c.n, initiatives.c.n)
        .join(codes, codes.c.code == Country.code)
        .outerjoin(RegionProfile, RegionProfile.code == Country.code)
        .outerjoin(organisations, organisations.c.subdivision_code == Country.code)
        .outerjoin(initiatives, initiatives.c.subdivision_code == Country.code)
        .order_by(Country.code)
    )
    result = []
    for country, profile, n_organisations, n_initiatives in session.execute(statement):
        people = (
            density(profile.population, profile.area_km2, profile.stated_density)
            if profile
            else None
        )
        result.append(
            Place(
                code=country.code,
                name=country.name,
                country=country.parent_code or "",
                ris_group=profile.ris_group if profile else None,
                ris_edition=profile.ris_edition if profile else None,
                density=people,
                density_class=density_class(people),
                organisations=n_organisations or 0,
                initiatives=n_initiatives or 0,
                sources=_sources(profile),
                uncertain=dict(profile.uncertain or {}) if profile else {},
                notes=profile.notes if profile else None,
            )
        )
    return result


def _sources(profile: RegionProfile | None) -> dict[str, str]:
    """Field -> page, with the record's own source under "record"."""
    if profile is None:
        return {}
    sources = {str(k): str(v) for k, v in (profile.sources or {}).items()}
    if profile.source:
        sources.setdefault("record", profile.source)
    return sources


def places_frame(session: Session) -> pd.DataFrame:
    """`places` as a frame, one row per region (code as index)."""
    rows = [vars(place) for place in places(session)]
    columns = list(Place.__dataclass_fields__)
    return pd.DataFrame(rows, columns=columns).set_index("code")
