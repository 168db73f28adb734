"""Breakdown cells: every person's finest cell (sex x 10-year age band at the cohort's
reference date) and the published cells of a query as sets of finest cells, which the
differencing check compares between queries."""

from __future__ import annotations

from typing import Any

import numpy as np

from permedhub.federation.cohort import Cohort
from permedhub.federation.concepts import FEMALE, MALE
from permedhub.federation.store import PersonIndex

SEXES = ("female", "male", "other")
BANDS = (*(f"{10 * b}-{10 * b + 9}" for b in range(9)), "90+")
FINEST = len(SEXES) * len(BANDS)
ALL = "all"


def sex_index(genders: np.ndarray) -> np.ndarray:
    return np.where(genders == FEMALE, 0, np.where(genders == MALE, 1, 2))


def finest_cells(index: PersonIndex, positions: np.ndarray, cohort: Cohort) -> np.ndarray:
    """The finest cell of each person at `positions` (age bands at the cohort's date)."""
    age = cohort.reference_date.year - index.year_of_birth[positions]
    band = np.clip(age // 10, 0, len(BANDS) - 1)
    return sex_index(index.gender_concept_id[positions]) * len(BANDS) + band


def categories(cohort: Cohort, has_other_sex: bool) -> dict[str, list[str]]:
    """The categories of each breakdown variable that the cohort can contain."""
    sexes: list[str] = list(cohort.sex) if cohort.sex else ["female", "male"] + (
        ["other"] if has_other_sex else [])  # fmt: skip
    low, high = (cohort.age.min, cohort.age.max) if cohort.age else (0, 130)
    bands = [
        name for b, name in enumerate(BANDS)
        if 10 * b <= high and (b == len(BANDS) - 1 or 10 * b + 9 >= low)
    ]  # fmt: skip
    return {"sex": sexes, "age_band": bands}


def cell_table(finest: np.ndarray, by: list[str], cats: dict[str, list[str]]) -> np.ndarray:
    """Counts of the cohort (its members' finest cells) by the breakdown variables (shape:
    one axis per variable)."""
    per_finest = np.bincount(finest, minlength=FINEST).reshape(len(SEXES), len(BANDS))
    sex_rows = [SEXES.index(s) for s in cats["sex"]]
    band_cols = [BANDS.index(b) for b in cats["age_band"]]
    if by == ["sex"]:
        return per_finest[sex_rows].sum(axis=1)
    if by == ["age_band"]:
        return per_finest[:, band_cols].sum(axis=0)
    table = per_finest[np.ix_(sex_rows, band_cols)]
    return table if by == ["sex", "age_band"] else table.T


def cell_keys(by: list[str], cats: dict[str, list[str]]) -> list[dict[str, str]]:
    """The keys of the cells of a table with margins, in `np.ndindex` order."""
    axes = [[*cats[name], ALL] for name in by]
    if len(axes) == 1:
        return [{by[0]: value} for value in axes[0]]
    return [{by[0]: a, by[1]: b} for a in axes[0] for b in axes[1]]


def cell_vector(keys: dict[str, Any]) -> np.ndarray:
    """The finest cells a published cell covers (a boolean vector of length FINEST)."""
    sex = keys.get("sex", ALL)
    band = keys.get("age_band", ALL)
    sexes = np.ones(len(SEXES), bool) if sex == ALL else np.array([s == sex for s in SEXES])
    bands = np.ones(len(BANDS), bool) if band == ALL else np.array([b == band for b in BANDS])
    return np.outer(sexes, bands).ravel()


def published_vectors(answer: dict[str, Any]) -> np.ndarray:
    """Rows: the finest-cell vectors of every count the answer published (total included)."""
    rows = [cell_vector({})] if answer.get("count") is not None else []
    for cell in (answer.get("breakdown") or {}).get("cells", []):
        if cell["count"] is not None:
            rows.append(cell_vector(cell))
    return np.array(rows, dtype=bool).reshape(len(rows), FINEST)
