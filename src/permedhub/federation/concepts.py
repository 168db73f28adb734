"""The OMOP standard concepts the synthetic regions use (ids from the OHDSI vocabularies).

A node knows the concepts of its own `concept` table; this list is what the generator writes
there, so a synthetic node accepts exactly these ids.
"""

from __future__ import annotations

from dataclasses import dataclass

MALE = 8507
FEMALE = 8532
EHR = 32817  # type concept: "EHR"


@dataclass(frozen=True)
class Concept:
    concept_id: int
    name: str
    domain_id: str  # OMOP domain: Condition, Drug, Measurement, Gender, Unit, Type Concept
    vocabulary_id: str
    concept_code: str


T2DM = Concept(201826, "Type 2 diabetes mellitus", "Condition", "SNOMED", "44054006")
HYPERTENSION = Concept(320128, "Essential hypertension", "Condition", "SNOMED", "59621000")
MI = Concept(4329847, "Myocardial infarction", "Condition", "SNOMED", "22298006")
COPD = Concept(255573, "Chronic obstructive lung disease", "Condition", "SNOMED", "13645005")
BREAST_CANCER = Concept(4112853, "Malignant tumor of breast", "Condition", "SNOMED", "254837009")
CKD = Concept(46271022, "Chronic kidney disease", "Condition", "SNOMED", "709044004")
HEART_FAILURE = Concept(316139, "Heart failure", "Condition", "SNOMED", "84114007")

METFORMIN = Concept(1503297, "metformin", "Drug", "RxNorm", "6809")
LISINOPRIL = Concept(1308216, "lisinopril", "Drug", "RxNorm", "29046")
ATORVASTATIN = Concept(1545958, "atorvastatin", "Drug", "RxNorm", "83367")
TRASTUZUMAB = Concept(1387104, "trastuzumab", "Drug", "RxNorm", "224905")
TAMOXIFEN = Concept(1436678, "tamoxifen", "Drug", "RxNorm", "10324")

HBA1C = Concept(3004410, "Hemoglobin A1c/Hemoglobin.total in Blood", "Measurement", "LOINC",
                "4548-4")  # fmt: skip
SYSTOLIC_BP = Concept(3004249, "Systolic blood pressure", "Measurement", "LOINC", "8480-6")
CREATININE = Concept(3016723, "Creatinine [Mass/volume] in Serum or Plasma", "Measurement",
                     "LOINC", "2160-0")  # fmt: skip

PERCENT = Concept(8554, "percent", "Unit", "UCUM", "%")
MMHG = Concept(8876, "millimeter mercury column", "Unit", "UCUM", "mm[Hg]")
MG_PER_DL = Concept(8840, "milligram per deciliter", "Unit", "UCUM", "mg/dL")

GENDERS = (Concept(MALE, "MALE", "Gender", "Gender", "M"),
           Concept(FEMALE, "FEMALE", "Gender", "Gender", "F"))  # fmt: skip

VOCABULARY: tuple[Concept, ...] = (
    T2DM, HYPERTENSION, MI, COPD, BREAST_CANCER, CKD, HEART_FAILURE,
    METFORMIN, LISINOPRIL, ATORVASTATIN, TRASTUZUMAB, TAMOXIFEN,
    HBA1C, SYSTOLIC_BP, CREATININE, PERCENT, MMHG, MG_PER_DL, *GENDERS,
    Concept(EHR, "EHR", "Type Concept", "Type Concept", "OMOP4976890"),
)  # fmt: skip
