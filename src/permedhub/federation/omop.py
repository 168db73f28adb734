"""The OMOP CDM v5.4 tables a feasibility query needs (a subset of each table's columns, with
the CDM's names and types), as SQLAlchemy Core tables: one definition for the DDL on every
backend and for the compiled cohort queries."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Float, Index, Integer, MetaData, String, Table

metadata = MetaData()

person = Table(
    "person", metadata,
    Column("person_id", BigInteger, primary_key=True),
    Column("gender_concept_id", Integer, nullable=False),
    Column("year_of_birth", Integer, nullable=False),
    Column("race_concept_id", Integer, nullable=False),
    Column("ethnicity_concept_id", Integer, nullable=False),
)  # fmt: skip

observation_period = Table(
    "observation_period", metadata,
    Column("observation_period_id", BigInteger, primary_key=True),
    Column("person_id", BigInteger, nullable=False),
    Column("observation_period_start_date", Date, nullable=False),
    Column("observation_period_end_date", Date, nullable=False),
    Column("period_type_concept_id", Integer, nullable=False),
)  # fmt: skip

condition_occurrence = Table(
    "condition_occurrence", metadata,
    Column("condition_occurrence_id", BigInteger, primary_key=True),
    Column("person_id", BigInteger, nullable=False),
    Column("condition_concept_id", Integer, nullable=False),
    Column("condition_start_date", Date, nullable=False),
    Column("condition_type_concept_id", Integer, nullable=False),
)  # fmt: skip

drug_exposure = Table(
    "drug_exposure", metadata,
    Column("drug_exposure_id", BigInteger, primary_key=True),
    Column("person_id", BigInteger, nullable=False),
    Column("drug_concept_id", Integer, nullable=False),
    Column("drug_exposure_start_date", Date, nullable=False),
    Column("drug_exposure_end_date", Date, nullable=False),
    Column("drug_type_concept_id", Integer, nullable=False),
)  # fmt: skip

measurement = Table(
    "measurement", metadata,
    Column("measurement_id", BigInteger, primary_key=True),
    Column("person_id", BigInteger, nullable=False),
    Column("measurement_concept_id", Integer, nullable=False),
    Column("measurement_date", Date, nullable=False),
    Column("measurement_type_concept_id", Integer, nullable=False),
    Column("value_as_number", Float),
    Column("unit_concept_id", Integer),
)  # fmt: skip

concept = Table(
    "concept", metadata,
    Column("concept_id", Integer, primary_key=True),
    Column("concept_name", String(255), nullable=False),
    Column("domain_id", String(20), nullable=False),
    Column("vocabulary_id", String(20), nullable=False),
    Column("concept_code", String(50), nullable=False),
)  # fmt: skip

cdm_source = Table(
    "cdm_source", metadata,
    Column("cdm_source_name", String(255), nullable=False),
    Column("cdm_source_abbreviation", String(25), nullable=False),
    Column("source_description", String(2000)),
    Column("cdm_version", String(10)),
)  # fmt: skip

# The event tables a criterion can name: (table, concept column, date column).
EVENTS = {
    "condition": (condition_occurrence, "condition_concept_id", "condition_start_date"),
    "drug": (drug_exposure, "drug_concept_id", "drug_exposure_start_date"),
    "measurement": (measurement, "measurement_concept_id", "measurement_date"),
}
# OMOP domain of each criterion kind, to refuse e.g. a drug id under "condition".
DOMAINS = {"condition": "Condition", "drug": "Drug", "measurement": "Measurement"}
# Indexes the cohort queries use on row stores (SQLite, PostgreSQL).
INDEXED = {
    "observation_period": ("person_id",),
    "condition_occurrence": ("condition_concept_id", "person_id"),
    "drug_exposure": ("drug_concept_id", "person_id"),
    "measurement": ("measurement_concept_id", "value_as_number", "person_id"),
}
for _name, _columns in INDEXED.items():
    _table = metadata.tables[_name]
    Index(f"ix_{_name}", *(_table.c[column] for column in _columns))
