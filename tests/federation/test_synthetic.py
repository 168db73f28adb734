"""The synthetic regions: seeded, labelled, and with exactly the planted numbers."""

from __future__ import annotations

import pandas as pd

from permedhub.federation import concepts as c
from permedhub.federation.synthetic import SYNTHETIC_LABEL, generate, region_spec


def _people_with(tables: dict[str, pd.DataFrame], table: str, column: str, concept: int) -> set:
    rows = tables[table]
    return set(rows.loc[rows[column] == concept, "person_id"])


def test_the_same_seed_gives_identical_tables_and_another_seed_others() -> None:
    first = generate(region_spec("south", 3000, seed=5)).tables
    again = generate(region_spec("south", 3000, seed=5)).tables
    other = generate(region_spec("south", 3000, seed=6)).tables
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame, again[name])
    assert not first["person"].equals(other["person"])


def test_planted_prevalences_are_exact() -> None:
    spec = region_spec("south", 5000, seed=1)
    region = generate(spec)
    tables = region.tables
    diabetics = _people_with(tables, "condition_occurrence", "condition_concept_id",
                             c.T2DM.concept_id)  # fmt: skip
    assert len(diabetics) == round(spec.t2dm * spec.persons) == region.planted["condition:t2dm"]
    hf = _people_with(tables, "condition_occurrence", "condition_concept_id",
                      c.HEART_FAILURE.concept_id)  # fmt: skip
    assert len(hf) == spec.heart_failure_count
    on_metformin = _people_with(tables, "drug_exposure", "drug_concept_id",
                                c.METFORMIN.concept_id)  # fmt: skip
    assert len(on_metformin & diabetics) == round(spec.metformin_in_t2dm * len(diabetics))


def test_planted_correlations_hold() -> None:
    tables = generate(region_spec("east", 20000, seed=2)).tables
    person = tables["person"].set_index("person_id")
    breast = _people_with(tables, "condition_occurrence", "condition_concept_id",
                          c.BREAST_CANCER.concept_id)  # fmt: skip
    assert breast and set(person.loc[list(breast), "gender_concept_id"]) == {c.FEMALE}
    hba1c = tables["measurement"][tables["measurement"]["measurement_concept_id"] == 3004410]
    diabetics = _people_with(tables, "condition_occurrence", "condition_concept_id", 201826)
    of_diabetics = hba1c["person_id"].isin(diabetics)
    assert hba1c.loc[of_diabetics, "value_as_number"].mean() > 7.0
    assert hba1c.loc[~of_diabetics, "value_as_number"].max() < 6.5
    # every diabetic has two HbA1c results (so counting must count people, not rows)
    assert (hba1c.loc[of_diabetics].groupby("person_id").size() == 2).all()
    ages = 2024 - person["year_of_birth"]
    assert ages[list(diabetics)].mean() > ages.mean() + 5  # planted towards older people


def test_every_region_is_labelled_synthetic() -> None:
    source = generate(region_spec("west", 100, seed=3)).tables["cdm_source"]
    assert source.loc[0, "cdm_source_name"].startswith(SYNTHETIC_LABEL)
    assert "SYNTHETIC" in SYNTHETIC_LABEL and source.loc[0, "cdm_version"] == "v5.4"
