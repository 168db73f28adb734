"""SYNTHETIC OMOP CDM v5.4 regions with planted prevalences and correlations.

Nothing here describes real patients. Every region says so in its `cdm_source` row, and the
node repeats that label in each answer. The generator is vectorised (NumPy), seeded (the same
spec gives identical tables) and plants *exact* numbers: a condition of prevalence p is given to
exactly round(p * persons) people, a treatment share s to exactly round(s * patients), so tests
can assert counts and a benchmark can make a million persons a region in seconds.

Planted structure (per region, `RegionSpec`):
- type 2 diabetes, weighted towards older people; metformin for a share of the diabetics and a
  few others; every diabetic has two HbA1c measurements around 7.8 %, a share of the others one
  around 5.4 %;
- essential hypertension (older people), lisinopril for a share, systolic pressure around 150
  (hypertensive) or 122 mmHg;
- chronic kidney disease, three times as likely with diabetes, with raised creatinine;
- breast cancer (women only), trastuzumab and tamoxifen for shares of them;
- myocardial infarction, COPD; atorvastatin for a share of the cardiometabolic patients;
- heart failure for an exact, possibly small, number of people (`heart_failure_count`), so that
  disclosure control has small cells to suppress.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from permedhub.federation import concepts as c

SYNTHETIC_LABEL = "SYNTHETIC data from the PerMed Hub generator: no real patients"
OBSERVATION_START = np.datetime64("2005-01-01")
OBSERVATION_END = np.datetime64("2024-06-30")


@dataclass(frozen=True)
class RegionSpec:
    name: str
    persons: int
    seed: int
    female_share: float = 0.51
    mean_age: float = 45.0
    t2dm: float = 0.09
    hypertension: float = 0.22
    ckd: float = 0.04
    breast_cancer_in_women: float = 0.012
    mi: float = 0.025
    copd: float = 0.05
    heart_failure_count: int = 7
    metformin_in_t2dm: float = 0.7
    metformin_others: float = 0.004
    lisinopril_in_hypertension: float = 0.6
    statin_in_cardiometabolic: float = 0.4
    trastuzumab_in_breast_cancer: float = 0.2
    tamoxifen_in_breast_cancer: float = 0.5
    hba1c_others: float = 0.3
    systolic_others: float = 0.5
    creatinine_others: float = 0.4


# Five regions of differing profiles, for tests and the benchmark (persons set by the caller).
REGION_PROFILES: dict[str, dict[str, Any]] = {
    "north": {"t2dm": 0.07, "hypertension": 0.20, "mean_age": 47.0},
    "south": {"t2dm": 0.12, "hypertension": 0.27, "mean_age": 44.0},
    "east": {"t2dm": 0.10, "ckd": 0.06, "copd": 0.08},
    "west": {"t2dm": 0.08, "breast_cancer_in_women": 0.015, "female_share": 0.53},
    "islands": {"t2dm": 0.11, "heart_failure_count": 3, "mean_age": 50.0},
}


def region_spec(name: str, persons: int, seed: int) -> RegionSpec:
    """The spec of a named profile (`REGION_PROFILES`), or the default profile for another name."""
    return RegionSpec(name=name, persons=persons, seed=seed, **REGION_PROFILES.get(name, {}))


@dataclass
class SyntheticRegion:
    spec: RegionSpec
    tables: dict[str, pd.DataFrame]
    planted: dict[str, int] = field(default_factory=dict)  # exact number of people per fact


def _pick(rng: np.random.Generator, weights: np.ndarray, count: int) -> np.ndarray:
    """`count` distinct indices drawn with probability proportional to `weights` (Gumbel
    top-k: one vectorised pass instead of sequential sampling without replacement)."""
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    available = int(np.count_nonzero(weights > 0))
    if count > available:
        raise ValueError(f"cannot plant {count} people among {available} eligible")
    with np.errstate(divide="ignore"):
        keys = np.log(weights) - np.log(-np.log(rng.random(weights.size)))
    return np.sort(np.argpartition(-keys, count - 1)[:count])


def _subset(rng: np.random.Generator, members: np.ndarray, share: float) -> np.ndarray:
    """Exactly round(share * len(members)) of `members`, at random."""
    count = round(share * members.size)
    return np.sort(rng.choice(members, size=count, replace=False)) if count else members[:0]


def _days_within(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    span = (end - start).astype(np.int64)
    return start + (rng.random(start.size) * (span + 1)).astype(np.int64).astype("timedelta64[D]")


def generate(spec: RegionSpec) -> SyntheticRegion:
    """The region's OMOP tables (pandas frames keyed by table name) and its planted counts."""
    rng = np.random.default_rng(spec.seed)
    n = spec.persons
    person_id = np.arange(1, n + 1, dtype=np.int64)
    female = rng.random(n) < spec.female_share
    age = np.clip(np.rint(rng.normal(spec.mean_age, 20.0, n)), 0, 99).astype(np.int64)
    year_of_birth = 2024 - age

    born = (year_of_birth - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    offset = rng.integers(0, 3650, n).astype("timedelta64[D]")
    obs_start = np.maximum(OBSERVATION_START + offset, born)
    length = rng.integers(3 * 365, 18 * 365, n).astype("timedelta64[D]")
    obs_end = np.minimum(obs_start + length, OBSERVATION_END)

    older = np.exp((age - 45) / 15.0)
    ones = np.ones(n)
    people: dict[str, np.ndarray] = {}
    people["t2dm"] = _pick(rng, older, round(spec.t2dm * n))
    people["hypertension"] = _pick(rng, older, round(spec.hypertension * n))
    is_t2dm = np.zeros(n, dtype=bool)
    is_t2dm[people["t2dm"]] = True
    people["ckd"] = _pick(rng, np.where(is_t2dm, 3.0, 1.0), round(spec.ckd * n))
    people["breast_cancer"] = _pick(
        rng, female.astype(float), round(spec.breast_cancer_in_women * int(female.sum()))
    )
    people["mi"] = _pick(rng, older, round(spec.mi * n))
    people["copd"] = _pick(rng, ones, round(spec.copd * n))
    people["heart_failure"] = _pick(rng, ones, spec.heart_failure_count)

    conditions = {
        "t2dm": c.T2DM, "hypertension": c.HYPERTENSION, "ckd": c.CKD,
        "breast_cancer": c.BREAST_CANCER, "mi": c.MI, "copd": c.COPD,
        "heart_failure": c.HEART_FAILURE,
    }  # fmt: skip
    onset: dict[str, np.ndarray] = {}
    condition_rows = []
    for key, concept in conditions.items():
        who = people[key]
        onset[key] = _days_within(rng, obs_start[who], obs_end[who])
        condition_rows.append((who, concept.concept_id, onset[key]))

    non_t2dm = np.flatnonzero(~is_t2dm)
    cardiometabolic = np.union1d(np.union1d(people["t2dm"], people["hypertension"]), people["mi"])
    treated = {
        "metformin": np.union1d(
            _subset(rng, people["t2dm"], spec.metformin_in_t2dm),
            _subset(rng, non_t2dm, spec.metformin_others),
        ),
        "lisinopril": _subset(rng, people["hypertension"], spec.lisinopril_in_hypertension),
        "atorvastatin": _subset(rng, cardiometabolic, spec.statin_in_cardiometabolic),
        "trastuzumab": _subset(rng, people["breast_cancer"], spec.trastuzumab_in_breast_cancer),
        "tamoxifen": _subset(rng, people["breast_cancer"], spec.tamoxifen_in_breast_cancer),
    }
    drugs = {"metformin": c.METFORMIN, "lisinopril": c.LISINOPRIL,
             "atorvastatin": c.ATORVASTATIN, "trastuzumab": c.TRASTUZUMAB,
             "tamoxifen": c.TAMOXIFEN}  # fmt: skip
    drug_rows = []
    for key, concept in drugs.items():
        who = treated[key]
        start = _days_within(rng, obs_start[who], obs_end[who])
        end = start + rng.integers(30, 365, who.size).astype("timedelta64[D]")
        drug_rows.append((who, concept.concept_id, start, end))

    measurement_rows = []

    def measure(who: np.ndarray, concept: c.Concept, unit: c.Concept, mean: float, sd: float,
                low: float, high: float, decimals: int) -> None:  # fmt: skip
        values = np.round(np.clip(rng.normal(mean, sd, who.size), low, high), decimals)
        when = _days_within(rng, obs_start[who], obs_end[who])
        measurement_rows.append((who, concept.concept_id, when, values, unit.concept_id))

    t2dm = people["t2dm"]
    measure(t2dm, c.HBA1C, c.PERCENT, 7.8, 1.1, 4.0, 15.0, 1)
    measure(t2dm, c.HBA1C, c.PERCENT, 7.6, 1.1, 4.0, 15.0, 1)  # a second result each
    measure(_subset(rng, non_t2dm, spec.hba1c_others), c.HBA1C, c.PERCENT, 5.4, 0.35, 4.0, 6.4, 1)
    is_htn = np.zeros(n, dtype=bool)
    is_htn[people["hypertension"]] = True
    measure(people["hypertension"], c.SYSTOLIC_BP, c.MMHG, 150, 12, 110, 220, 0)
    measure(_subset(rng, np.flatnonzero(~is_htn), spec.systolic_others), c.SYSTOLIC_BP, c.MMHG,
            122, 10, 85, 139, 0)  # fmt: skip
    is_ckd = np.zeros(n, dtype=bool)
    is_ckd[people["ckd"]] = True
    measure(people["ckd"], c.CREATININE, c.MG_PER_DL, 2.1, 0.5, 1.3, 6.0, 2)
    measure(_subset(rng, np.flatnonzero(~is_ckd), spec.creatinine_others), c.CREATININE,
            c.MG_PER_DL, 0.9, 0.2, 0.4, 1.25, 2)  # fmt: skip

    tables = {
        "person": pd.DataFrame({
            "person_id": person_id,
            "gender_concept_id": np.where(female, c.FEMALE, c.MALE).astype(np.int32),
            "year_of_birth": year_of_birth.astype(np.int32),
            "race_concept_id": np.zeros(n, dtype=np.int32),
            "ethnicity_concept_id": np.zeros(n, dtype=np.int32),
        }),
        "observation_period": pd.DataFrame({
            "observation_period_id": person_id,
            "person_id": person_id,
            "observation_period_start_date": obs_start,
            "observation_period_end_date": obs_end,
            "period_type_concept_id": np.full(n, c.EHR, dtype=np.int32),
        }),
        "condition_occurrence": _events(
            condition_rows, person_id,
            ["condition_concept_id", "condition_start_date"], "condition_occurrence_id",
            {"condition_type_concept_id": c.EHR},
        ),
        "drug_exposure": _events(
            drug_rows, person_id,
            ["drug_concept_id", "drug_exposure_start_date", "drug_exposure_end_date"],
            "drug_exposure_id", {"drug_type_concept_id": c.EHR},
        ),
        "measurement": _events(
            measurement_rows, person_id,
            ["measurement_concept_id", "measurement_date", "value_as_number", "unit_concept_id"],
            "measurement_id", {"measurement_type_concept_id": c.EHR},
        ),
        "concept": pd.DataFrame([vars(concept) for concept in c.VOCABULARY]).rename(
            columns={"name": "concept_name"}
        ),
        "cdm_source": pd.DataFrame([{
            "cdm_source_name": f"{SYNTHETIC_LABEL} (region {spec.name}, seed {spec.seed})",
            "cdm_source_abbreviation": f"SYN-{spec.name}"[:25],
            "source_description": SYNTHETIC_LABEL,
            "cdm_version": "v5.4",
        }]),
    }  # fmt: skip
    planted = {f"condition:{key}": int(who.size) for key, who in people.items()}
    planted |= {f"drug:{key}": int(who.size) for key, who in treated.items()}
    planted["persons"] = n
    planted["female"] = int(female.sum())
    return SyntheticRegion(spec=spec, tables=tables, planted=planted)


def _events(rows: list[tuple[Any, ...]], person_id: np.ndarray, columns: list[str],
            id_column: str, constants: dict[str, int]) -> pd.DataFrame:  # fmt: skip
    """One frame from (person indices, concept id, columns...) groups, sorted by person."""
    who = np.concatenate([row[0] for row in rows])
    data: dict[str, Any] = {"person_id": person_id[who]}
    data[columns[0]] = np.concatenate(
        [np.full(row[0].size, row[1], dtype=np.int32) for row in rows]
    )
    for position, name in enumerate(columns[1:], start=2):
        values = [row[position] for row in rows]
        if all(np.isscalar(v) for v in values):
            data[name] = np.concatenate(
                [np.full(row[0].size, row[position], dtype=np.int32) for row in rows]
            )
        else:
            data[name] = np.concatenate(values)
    frame = pd.DataFrame(data)
    for name, value in constants.items():
        frame[name] = np.int32(value)
    frame = frame.sort_values("person_id", kind="stable", ignore_index=True)
    frame.insert(0, id_column, np.arange(1, len(frame) + 1, dtype=np.int64))
    return frame
