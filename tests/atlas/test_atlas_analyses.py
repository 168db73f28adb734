"""Coverage, gaps, mutual interest and network figures on the hand-built world
(tests/atlas/conftest.py), each checked against values worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from permedhub.atlas.analyses import AtlasError, coverage, gaps, mutual
from permedhub.atlas.network import network
from permedhub.graph import curation
from permedhub.graph.loading import load

TOPICS = ["t1", "t2", "t3"]


def frame(rows: dict[str, list[int]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=TOPICS)


def test_coverage_by_country_is_the_hand_computed_matrices(world):
    result = coverage(world)
    rows = ["DE", "ES", "FR", "KE", "NG", "ZA"]
    # r2 sits in ES-CT and counts for Spain; r4 names only a region, so no country row has it.
    expected_records = frame(
        {
            "DE": [0, 0, 0],
            "ES": [1, 0, 0],
            "FR": [1, 1, 0],
            "KE": [0, 0, 0],
            "NG": [0, 0, 1],
            "ZA": [1, 0, 0],
        }
    )
    # i1 (t1): FR, DE, ZA one each; i2 (t1, t2): FR two (fr-a, fr-f), KE one; i3 has no topic.
    expected_participations = frame(
        {
            "DE": [1, 0, 0],
            "ES": [0, 0, 0],
            "FR": [3, 2, 0],
            "KE": [1, 1, 0],
            "NG": [0, 0, 0],
            "ZA": [1, 0, 0],
        }
    )
    expected_funders = frame({code: [0, 0, 0] for code in rows} | {"FR": [1, 1, 0]})
    for got, want in (
        (result.records, expected_records),
        (result.participations, expected_participations),
        (result.funders, expected_funders),
    ):
        assert list(got.index) == rows and list(got.columns) == TOPICS
        assert got.to_numpy().tolist() == want.loc[rows].to_numpy().tolist()


def test_coverage_of_a_region_lists_every_member_country_zeros_included(world):
    result = coverage(world, region="africa")
    assert "GH" in result.records.index and result.records.loc["GH"].sum() == 0
    assert result.records.loc["NG"].tolist() == [0, 0, 1]


def test_coverage_by_region_counts_each_record_once_and_region_records_too(world):
    result = coverage(world, by="region")
    assert result.records.loc["eu27"].tolist() == [2, 1, 0]  # r1 (FR), r2 (ES)
    assert result.records.loc["africa"].tolist() == [1, 1, 1]  # r5, r4 (the region), r3
    assert result.participations.loc["eu27"].tolist() == [4, 2, 0]


def test_gaps_of_africa(world):
    result = gaps(world, "africa")
    # t2: only r4 names it, with capacity none.
    assert result.topics_without_capacity.to_dict("records") == [
        {"id": "t2", "name": "Topic two", "records_without_capacity": 1}
    ]
    # Nigeria has an advanced record and takes part in nothing: the one to invite.
    assert list(result.to_invite["country_code"]) == ["NG"]
    absent = set(result.absent["country_code"])
    assert {"NG", "ZA", "KE"}.isdisjoint(absent)
    from permedhub.graph.geography import region_members

    assert absent == set(region_members()["africa"]) - {"NG", "ZA", "KE"}


def test_mutual_interest_of_eu27_and_africa_is_the_documented_score(world):
    result = mutual(world, "eu27", "africa")
    # s_eu = ([1, 1, 0] + [1, .5, 0]) / 2; s_af = ([1/3, 0, 1] + [1, .5, 0]) / 2
    s_eu, s_af = [1.0, 0.75, 0.0], [2 / 3, 0.25, 0.5]
    topics = result.topics.set_index("topic_id")
    assert topics["share_a"].tolist() == pytest.approx(s_eu)
    assert topics["share_b"].tolist() == pytest.approx(s_af)
    assert list(result.shared["topic_id"]) == ["t1", "t2"]
    assert result.shared["score"].tolist() == pytest.approx(
        [math.sqrt(2 / 3), math.sqrt(0.75 * 0.25)]
    )
    assert result.complementary[["topic_id", "stronger"]].values.tolist() == [
        ["t2", "eu27"],
        ["t3", "africa"],
    ]
    assert result.bridges[["organisation_id", "shared_initiatives"]].values.tolist() == [
        ["fr-a", 2],
        ["de-b", 1],
        ["fr-f", 1],
        ["ke-d", 1],
        ["za-c", 1],
    ]


def test_unknown_regions_are_refused_by_name(world):
    with pytest.raises(AtlasError, match=r"region 'atlantis': expected one of .*eu27"):
        gaps(world, "atlantis")
    with pytest.raises(AtlasError, match="two different regions"):
        mutual(world, "eu27", "eu27")


def test_network_figures(world):
    result = network(world, regions=("europe", "africa", "asia"))
    countries = result.countries.set_index("country_code")
    # FR-DE, FR-ZA, DE-ZA share i1; FR-KE share i2; CN shares nothing.
    assert countries.loc["FR", "partners"] == 3 and countries.loc["FR", "shared"] == 3
    assert countries.loc["CN", "partners"] == 0
    # FR is the only path from KE to the others: KE-FR-DE and KE-FR-ZA (2 of the 10 pairs
    # of five nodes, normalised by (n-1)(n-2)/2 = 6).
    assert countries.loc["FR", "betweenness"] == pytest.approx(2 / 6)
    links = result.regions.set_index(["region_a", "region_b"])
    assert links.loc[("europe", "africa"), "initiatives"] == 2
    assert links.loc[("europe", "asia"), "initiatives"] == 0
    assert (
        links.loc[("europe", "africa"), "strongest_a"],
        links.loc[("europe", "africa"), "strongest_b"],
    ) == ("DE", "ZA")
    organisations = result.organisations.set_index("organisation_id")
    assert organisations.loc["fr-a", "initiatives"] == 2
    assert result.organisations.iloc[0]["organisation_id"] == "fr-a"
    growth = result.growth.set_index("year")
    assert growth.loc[2019].tolist() == [1, 1, 3, 3, 3, 3]
    assert growth.loc[2020].tolist() == [2, 3, 4, 7, 3, 6]


def test_the_region_report_cites_the_region_records_sources(world):
    from permedhub.atlas.report import region_report

    report = region_report(world, "africa", other="eu27")
    # r3 (NG), r4 (the region itself), r5 (ZA); r1 (FR) and r2 (ES) are not African.
    assert [s for s in report.sources if s.startswith("https://example.org/")] == [
        "https://example.org/r3",
        "https://example.org/r4",
        "https://example.org/r5",
    ]
    assert "<script src=" not in report.html and "Mutual interest with eu27" in report.html


def test_coverage_follows_every_edit_of_the_graph_it_keeps_its_cells_for(world, tmp_path):
    """The participation cells are kept per graph revision: a curator's edit, its undo and a
    load each move the revision, and the next coverage reads the graph again."""
    assert "CN" not in coverage(world).participations.index  # i3 (cn-e) has no topic
    saved = curation.update_record(world, "initiative", "i3", {"topics": ["t3"]}, actor="test")
    assert coverage(world).participations.loc["CN"].tolist() == [0, 0, 1]
    curation.undo(world, saved.audit_id or 0, actor="test")
    assert "CN" not in coverage(world).participations.index
    parts = tmp_path / "participations.csv"
    parts.write_text("organisation,initiative,role\nde-b,i2,partner\n", encoding="utf-8")
    load(world, [parts])
    assert coverage(world).participations.loc["DE"].tolist() == [2, 1, 0]
