"""Countries and regions come from pycountry and country_converter, with CELAC and the African
Union derived by the rules written in DESIGN.md."""

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
