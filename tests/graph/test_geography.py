"""Countries and regions come from pycountry and country_converter, with CELAC and the African
Union derived by the rules written in DESIGN.md."""

from permedhub.graph import geography
from permedhub.graph.geography import country_rows, normalise_country_code, region_members


def test_celac_is_the_33_un_members_of_latin_america_and_the_caribbean():
    celac = region_members()["celac"]
    assert len(celac) == 33
    assert {"BR", "MX", "AR", "CU", "TT", "PA", "UY"} <= set(celac)
    assert "PR" not in celac  # Puerto Rico: in the Caribbean, not a UN member


def test_african_union_is_the_54_un_members_in_africa_plus_western_sahara():
    au = region_members()["african-union"]
    assert len(au) == 55
    assert "EH" in au
    assert {"EG", "KE", "TZ", "NA", "ZA"} <= set(au)  # Namibia's "NA" is not a missing value


def test_eu27_and_eea():
    members = region_members()
    assert len(members["eu27"]) == 27 and "GR" in members["eu27"] and "GB" not in members["eu27"]
    assert set(members["eea"]) == set(members["eu27"]) | {"IS", "LI", "NO"}


def test_every_iso_country_and_the_funding_regions_are_known():
    codes = {row["code"] for row in country_rows()}
    assert len([c for c in codes if "-" not in c]) == 249
    assert {"ES-CT", "ES-NC", "IT-25", "IT-52", "DE-SN", "CA-QC", "BE-VLG"} <= codes


def test_alpha3_codes_are_accepted():
    assert normalise_country_code("esp") == "ES"
    assert normalise_country_code(" it-25 ") == "IT-25"


def test_every_subdivision_of_the_family_seed_has_a_point_inside_its_country():
    points = geography.subdivision_points()
    assert len(points) > 4500  # nearly all of ISO 3166-2
    # Tuscany, Navarre, Flanders, Northern Ireland, Saxony, Lower Silesia, Quebec
    assert 42 < points["IT-52"][0] < 45 and 9 < points["IT-52"][1] < 13
    assert 41 < points["ES-NC"][0] < 44 and -3 < points["ES-NC"][1] < 0
    assert 50 < points["BE-VLG"][0] < 52 and 2 < points["BE-VLG"][1] < 6
    assert 54 < points["GB-NIR"][0] < 56 and -9 < points["GB-NIR"][1] < -5
    assert 50 < points["DE-SN"][0] < 52 and 11 < points["DE-SN"][1] < 16
    assert 50 < points["PL-02"][0] < 52 and 14 < points["PL-02"][1] < 18
    assert 45 < points["CA-QC"][0] < 63 and -80 < points["CA-QC"][1] < -57
    assert "DE" not in points  # countries are drawn as shapes, not points
