"""Organisations without coordinates of their own take their city's from the GeoNames
gazetteer (issue 11), marked approximate and sourced; a city it does not hold stays unplaced."""

from __future__ import annotations

import pytest

from permedhub.graph.gazetteer import GAZETTEER, folded, locate
from permedhub.graph.schemas import OrganisationIn


def test_a_city_is_found_by_its_names_in_several_languages() -> None:
    milan = locate("Milano", "IT")
    assert milan is not None and milan.name == "Milan"
    assert milan.latitude == pytest.approx(45.464, abs=0.01)
    assert milan.longitude == pytest.approx(9.190, abs=0.01)
    assert locate("Sao Paulo", "BR") == locate("São Paulo", "BR") is not None
    assert folded("  Málaga ") == "malaga"


def test_the_country_decides_which_city_is_meant() -> None:
    cork = locate("Cork", "IE")
    assert cork is not None and cork.longitude < 0
    assert locate("Cork", "FR") is None
    assert locate("Nowhere-on-Sea", "GB") is None


def test_an_organisation_takes_its_citys_coordinates_marked_and_sourced() -> None:
    record = OrganisationIn(id="ucc", name="University College Cork", country="IE", city="Cork")
    assert (record.latitude, record.longitude) == pytest.approx((51.898, -8.471), abs=0.01)
    assert record.sources["latitude"] == record.sources["longitude"] == GAZETTEER
    assert "centre of Cork" in record.approximate["latitude"]


def test_an_ambiguous_name_says_that_it_took_the_largest_place() -> None:
    record = OrganisationIn(id="f", name="F", country="DE", city="Frankfurt")
    assert record.latitude == pytest.approx(50.116, abs=0.01)  # am Main, not an der Oder
    assert "most populous of" in record.approximate["latitude"]


def test_coordinates_given_are_kept_and_an_unknown_city_stays_unplaced() -> None:
    given = OrganisationIn(id="a", name="A", country="IE", city="Cork", latitude=1, longitude=2)
    assert (given.latitude, given.longitude) == (1, 2) and not given.sources
    unknown = OrganisationIn(id="b", name="B", country="FR", city="Atlantis")
    assert unknown.latitude is None and "latitude" not in unknown.sources
    no_country = OrganisationIn(id="c", name="C", city="Cork")
    assert no_country.latitude is None


def test_every_seeded_organisation_with_a_city_is_placed() -> None:
    import yaml

    from permedhub.graph.seed import seed_files

    records = [
        OrganisationIn.model_validate(item)
        for path in seed_files()
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")).get("organisations") or [])
    ]
    with_city = [r for r in records if r.city and r.country]
    assert len(with_city) >= 30
    assert [r.id for r in with_city if r.latitude is None] == []


def test_coordinates_taken_from_the_city_follow_an_edited_city() -> None:
    cork = OrganisationIn(id="u", name="U", country="IE", city="Cork").model_dump()
    moved = OrganisationIn.model_validate({**cork, "city": "Dublin"})
    assert moved.latitude == pytest.approx(53.35, abs=0.05)
    assert "centre of Dublin" in moved.approximate["latitude"]
    gone = OrganisationIn.model_validate({**cork, "city": "Atlantis"})
    assert gone.latitude is None and "latitude" not in gone.sources
    assert "latitude" not in gone.approximate
