"""A cohort as one SQL statement over the OMOP tables: `SELECT person_id FROM person WHERE ...`
with every value a bound parameter (SQLAlchemy Core builds the text; nothing is formatted in).

Each criterion becomes `person_id [NOT] IN (SELECT person_id FROM <event table> WHERE ...)`:
an uncorrelated subquery that SQLite, PostgreSQL and DuckDB all run as one semi-join over the
(concept, person) index or column, instead of one lookup per person.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select

from permedhub.federation import omop
from permedhub.federation.cohort import Cohort, CohortError, Criterion, Problem
from permedhub.federation.concepts import FEMALE, MALE

SEX_CONCEPTS = {"female": FEMALE, "male": MALE}


def check_concepts(cohort: Cohort, domains: dict[int, str]) -> None:
    """Refuse concept ids the node's vocabulary lacks or files under another domain."""
    problems = []
    for group in ("inclusion", "exclusion"):
        for i, criterion in enumerate(getattr(cohort, group)):
            expected = omop.DOMAINS[criterion.domain]
            for j, concept_id in enumerate(criterion.concept_ids):
                field = f"{group}[{i}].concept_ids[{j}]"
                found = domains.get(concept_id)
                if found is None:
                    problems.append(Problem(field, concept_id, "a concept id this node knows"))
                elif found != expected:
                    problems.append(
                        Problem(field, concept_id, f"a {expected} concept (it is a {found} one)")
                    )
    if problems:
        raise CohortError(problems)


def _criterion(criterion: Criterion) -> Select[Any]:
    table, concept_column, date_column = omop.EVENTS[criterion.domain]
    conditions: list[ColumnElement[bool]] = [
        table.c[concept_column].in_(sorted(set(criterion.concept_ids)))
    ]
    if criterion.start is not None:
        conditions.append(table.c[date_column] >= criterion.start)
    if criterion.end is not None:
        conditions.append(table.c[date_column] <= criterion.end)
    if criterion.value is not None:
        if criterion.value.min is not None:
            conditions.append(table.c.value_as_number >= criterion.value.min)
        if criterion.value.max is not None:
            conditions.append(table.c.value_as_number <= criterion.value.max)
    return select(table.c.person_id).where(and_(*conditions))


def cohort_statement(cohort: Cohort) -> Select[Any]:
    """The statement selecting the id of every person in the cohort (each once)."""
    person = omop.person
    where: list[ColumnElement[bool]] = []
    if cohort.sex:
        where.append(person.c.gender_concept_id.in_(sorted({SEX_CONCEPTS[s] for s in cohort.sex})))
    if cohort.age is not None:
        year = cohort.reference_date.year
        where.append(person.c.year_of_birth.between(year - cohort.age.max, year - cohort.age.min))
    if cohort.observation is not None:
        op = omop.observation_period
        where.append(
            person.c.person_id.in_(
                select(op.c.person_id).where(
                    op.c.observation_period_start_date <= cohort.observation.from_,
                    op.c.observation_period_end_date >= cohort.observation.to,
                )
            )
        )
    where += [person.c.person_id.in_(_criterion(c)) for c in cohort.inclusion]
    where += [person.c.person_id.not_in(_criterion(c)) for c in cohort.exclusion]
    return select(person.c.person_id).where(and_(True, *where))
