"""Countries, ISO 3166-2 subdivisions and region memberships, from maintained classifications.

Countries and subdivisions come from `pycountry` (ISO 3166-1 and 3166-2), and a point inside
each subdivision (to mark sub-national funders on the map) from the `iso3166-2` package's data
file. Region memberships come from `country_converter`'s classification table. CELAC and the
African Union are not columns there, so they are derived by the explicit rules in `REGIONS`
(DESIGN.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd
import pycountry

CELAC_UN_REGIONS = {"South America", "Central America", "Caribbean"}


@dataclass(frozen=True)
class RegionRule:
    id: str
    name: str
    rule: str
    members: Callable[[pd.DataFrame], pd.Series]


def _un_member(table: pd.DataFrame) -> pd.Series:
    return table["UNmember"] != ""


REGIONS: tuple[RegionRule, ...] = (
    RegionRule(
        "eu27",
        "European Union (EU27)",
        "country_converter column EU27",
        lambda t: t["EU27"] == "EU27",
    ),
    RegionRule(
        "eea", "European Economic Area", "country_converter column EEA", lambda t: t["EEA"] == "EEA"
    ),
    RegionRule(
        "europe",
        "Europe",
        "country_converter continent = Europe",
        lambda t: t["continent"] == "Europe",
    ),
    RegionRule(
        "celac",
        "Latin America and the Caribbean (CELAC)",
        "UN members in the UN regions South America, Central America and Caribbean",
        lambda t: _un_member(t) & t["UNregion"].isin(CELAC_UN_REGIONS),
    ),
    RegionRule(
        "african-union",
        "African Union",
        "UN members on the African continent, plus Western Sahara (ESH)",
        lambda t: (_un_member(t) & (t["continent"] == "Africa")) | (t["ISO3"] == "ESH"),
    ),
    RegionRule(
        "africa",
        "Africa",
        "country_converter continent = Africa",
        lambda t: t["continent"] == "Africa",
    ),
    RegionRule(
        "asia", "Asia", "country_converter continent = Asia", lambda t: t["continent"] == "Asia"
    ),
    RegionRule(
        "americas",
        "Americas",
        "country_converter continent = America",
        lambda t: t["continent"] == "America",
    ),
    RegionRule(
        "oceania",
        "Oceania",
        "country_converter continent = Oceania",
        lambda t: t["continent"] == "Oceania",
    ),
    RegionRule(
        "oecd",
        "OECD members",
        "country_converter column OECD (year of accession)",
        lambda t: t["OECD"] != "",
    ),
)


@cache
def classification_table() -> pd.DataFrame:
    """country_converter's table, read as text.

    Read directly because its own loader turns Namibia's code "NA" into a missing value under
    pandas 3; `keep_default_na=False` keeps every code as written.
    """
    path = resources.files("country_converter") / "country_data.tsv"
    with path.open(encoding="utf-8") as handle:
        return pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False)


def region_members() -> dict[str, list[str]]:
    """Region id -> sorted ISO alpha-2 codes of its member countries."""
    # Joined on ISO3: the table's ISO2 column holds regexes for some rows (Greece: "^GR$|^EL$").
    alpha2_by_alpha3 = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
    table = classification_table()
    table = table[table["ISO3"].isin(alpha2_by_alpha3)]
    alpha2 = table["ISO3"].map(alpha2_by_alpha3)
    return {r.id: sorted(alpha2[r.members(table)]) for r in REGIONS}


def country_rows() -> list[dict[str, str | None]]:
    """Every ISO 3166-1 country, then every ISO 3166-2 subdivision (parent = its country)."""
    rows: list[dict[str, str | None]] = [
        {
            "code": c.alpha_2,
            "name": getattr(c, "common_name", None) or c.name,
            "official_name": getattr(c, "official_name", None),
            "alpha3": c.alpha_3,
            "subdivision_type": None,
            "parent_code": None,
        }
        for c in pycountry.countries
    ]
    rows.extend(
        {
            "code": s.code,
            "name": s.name,
            "official_name": None,
            "alpha3": None,
            "subdivision_type": s.type,
            "parent_code": s.country_code,
        }
        for s in pycountry.subdivisions
    )
    return rows


@cache
def known_codes() -> frozenset[str]:
    return frozenset(str(row["code"]) for row in country_rows())


def normalise_country_code(value: str) -> str:
    """Upper-case ISO code; accepts alpha-3 for countries ("ESP" -> "ES")."""
    code = value.strip().upper()
    if len(code) == 3 and "-" not in code:
        country = pycountry.countries.get(alpha_3=code)
        if country is not None:
            return str(country.alpha_2)
    return code


@cache
def subdivision_points() -> dict[str, tuple[float, float]]:
    """ISO 3166-2 code -> (latitude, longitude) of a point in that subdivision.

    Read from the data file of the `iso3166-2` package directly: importing the package would
    pull in its search and download helpers, which this needs none of.
    """
    path = resources.files("iso3166_2") / "iso3166-2.json"
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    return {
        code: (float(entry["latLng"][0]), float(entry["latLng"][1]))
        for subdivisions in data.values()
        for code, entry in subdivisions.items()
        if isinstance(entry.get("latLng"), list) and len(entry["latLng"]) == 2
    }


def numeric_code(alpha2: str) -> str | None:
    """A country's ISO numeric code, the key of the shipped world-atlas outlines."""
    country = pycountry.countries.get(alpha_2=alpha2)
    return str(country.numeric) if country is not None else None
