"""Exact cohort members before disclosure control, on DuckDB and SQLite, against an
independent pandas reading of the same synthetic tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from federation_support import Region, make_node
from oracle import expected_members

from permedhub.federation.cohort import parse_cohort

REF = "2024-01-01"
COHORTS = [
    {"name": "everyone"},
    {"name": "T2DM", "inclusion": [{"domain": "condition", "concept_ids": [201826]}]},
    {"name": "T2DM on metformin, HbA1c >= 7, 40-70", "age": {"min": 40, "max": 70},
     "inclusion": [{"domain": "condition", "concept_ids": [201826]},
                   {"domain": "drug", "concept_ids": [1503297]},
                   {"domain": "measurement", "concept_ids": [3004410], "value": {"min": 7.0}}]},
    {"name": "women, hypertension or CKD, no MI", "sex": ["female"],
     "inclusion": [{"domain": "condition", "concept_ids": [320128, 46271022]}],
     "exclusion": [{"domain": "condition", "concept_ids": [4329847]}]},
    {"name": "HbA1c in a band, dated", "inclusion": [{"domain": "measurement",
     "concept_ids": [3004410], "value": {"min": 5.5, "max": 6.0}, "start": "2012-01-01",
     "end": "2020-12-31"}]},
    {"name": "observed 2018-2022", "observation": {"from": "2018-01-01", "to": "2022-12-31"},
     "inclusion": [{"domain": "drug", "concept_ids": [1308216, 1545958]}]},
    {"name": "men 18-30", "sex": ["male"], "age": {"min": 18, "max": 30}},
]  # fmt: skip


@pytest.mark.parametrize("region_name", ["north", "islands"])
@pytest.mark.parametrize("definition", COHORTS, ids=[c["name"] for c in COHORTS])
def test_the_node_selects_exactly_the_planted_people(
    regions: dict[str, Region], tmp_path: Path, region_name: str, definition: dict
) -> None:
    region = regions[region_name]
    cohort = parse_cohort(json.dumps({"reference_date": REF, **definition}))
    node = make_node(region, tmp_path)
    try:
        positions = node.members(cohort)
    finally:
        node.close()
    found = set(node.index.person_id[positions].tolist())
    assert found == expected_members(region.synthetic.tables, cohort)


def test_planted_counts_come_back_exactly(regions: dict[str, Region], tmp_path: Path) -> None:
    region = regions["north"]
    node = make_node(region, tmp_path)
    for key, concept in [("t2dm", 201826), ("heart_failure", 316139), ("ckd", 46271022)]:
        cohort = parse_cohort(json.dumps({"name": key, "reference_date": REF,
            "inclusion": [{"domain": "condition", "concept_ids": [concept]}]}))  # fmt: skip
        assert node.members(cohort).size == region.synthetic.planted[f"condition:{key}"]
    by_sex = parse_cohort(json.dumps({"name": "by sex", "reference_date": REF,
                                      "breakdown": ["sex"]}))  # fmt: skip
    table = node.exact_table(by_sex, node.members(by_sex))
    assert table.tolist() == [region.synthetic.planted["female"],
                              4000 - region.synthetic.planted["female"]]  # fmt: skip
    node.close()
