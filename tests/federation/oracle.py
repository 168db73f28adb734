"""An independent reading of a cohort over the synthetic tables (pandas, no SQL), to check the
node's compiled query against."""

from __future__ import annotations

import pandas as pd

from permedhub.federation.cohort import Cohort, Criterion

EVENT = {
    "condition": ("condition_occurrence", "condition_concept_id", "condition_start_date"),
    "drug": ("drug_exposure", "drug_concept_id", "drug_exposure_start_date"),
    "measurement": ("measurement", "measurement_concept_id", "measurement_date"),
}


def _people(tables: dict[str, pd.DataFrame], criterion: Criterion) -> set[int]:
    name, concept, when = EVENT[criterion.domain]
    rows = tables[name]
    keep = rows[concept].isin(criterion.concept_ids)
    if criterion.start:
        keep &= rows[when] >= pd.Timestamp(criterion.start)
    if criterion.end:
        keep &= rows[when] <= pd.Timestamp(criterion.end)
    if criterion.value is not None:
        if criterion.value.min is not None:
            keep &= rows["value_as_number"] >= criterion.value.min
        if criterion.value.max is not None:
            keep &= rows["value_as_number"] <= criterion.value.max
    return set(rows.loc[keep, "person_id"].tolist())


def expected_members(tables: dict[str, pd.DataFrame], cohort: Cohort) -> set[int]:
    person = tables["person"]
    keep = pd.Series(True, index=person.index)
    if cohort.sex:
        wanted = {"female": 8532, "male": 8507}
        keep &= person["gender_concept_id"].isin([wanted[s] for s in cohort.sex])
    if cohort.age:
        age = cohort.reference_date.year - person["year_of_birth"]
        keep &= (age >= cohort.age.min) & (age <= cohort.age.max)
    people = set(person.loc[keep, "person_id"].tolist())
    if cohort.observation:
        op = tables["observation_period"]
        covering = (
            op["observation_period_start_date"] <= pd.Timestamp(cohort.observation.from_)
        ) & (op["observation_period_end_date"] >= pd.Timestamp(cohort.observation.to))
        people &= set(op.loc[covering, "person_id"].tolist())
    for criterion in cohort.inclusion:
        people &= _people(tables, criterion)
    for criterion in cohort.exclusion:
        people -= _people(tables, criterion)
    return people
