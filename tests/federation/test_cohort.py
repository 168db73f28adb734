"""Cohort definitions: validation with errors that name the field, and the compiled query."""

from __future__ import annotations

import json

import pytest

from permedhub.federation.cohort import CohortError, parse_cohort
from permedhub.federation.compile import check_concepts, cohort_statement
from permedhub.federation.concepts import VOCABULARY
from permedhub.federation.store import _sqlite_sql

DOMAINS = {concept.concept_id: concept.domain_id for concept in VOCABULARY}
BASE = {"name": "t", "reference_date": "2024-01-01"}


def problems(data: object) -> list[tuple[str, object]]:
    with pytest.raises(CohortError) as caught:
        parse_cohort(data if isinstance(data, str) else json.dumps(data))
    return [(p.field, p.value) for p in caught.value.problems]


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(CohortError) as caught:
        parse_cohort('{"name": "t",\n "reference_date": }')
    assert caught.value.problems[0].field == "JSON line 2 column 20"


def test_a_cohort_must_be_an_object() -> None:
    assert problems("[1, 2]") == [("cohort", [1, 2])]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"inclusion": [{"domain": "condition", "concept_ids": []}]}, "inclusion[0].concept_ids"),
        ({"inclusion": [{"domain": "procedure", "concept_ids": [1]}]}, "inclusion[0].domain"),
        ({"inclusion": [{"domain": "drug", "concept_ids": ["x"]}]}, "inclusion[0].concept_ids[0]"),
        ({"inclusion": [{"domain": "drug", "concept_ids": [1], "value": {"min": 1}}]},
         "inclusion[0]"),
        ({"exclusion": [{"domain": "measurement", "concept_ids": [1],
                         "value": {"min": 9, "max": 1}}]}, "exclusion[0].value"),
        ({"age": {"min": 70, "max": 40}}, "age"),
        ({"age": {"min": -1}}, "age.min"),
        ({"sex": ["unknown"]}, "sex[0]"),
        ({"breakdown": ["sex", "sex"]}, "cohort"),
        ({"colour": "blue"}, "colour"),
        ({"observation": {"from": "2024-01-01", "to": "2020-01-01"}}, "observation"),
    ],
)  # fmt: skip
def test_each_malformed_part_is_named(change: dict[str, object], field: str) -> None:
    assert field in [f for f, _ in problems({**BASE, **change})]


def test_missing_required_fields_are_each_listed() -> None:
    assert {f for f, _ in problems({})} == {"name", "reference_date"}


def test_unknown_codes_and_wrong_domains_are_named() -> None:
    cohort = parse_cohort(json.dumps({**BASE, "inclusion": [
        {"domain": "condition", "concept_ids": [201826, 999999999]},
        {"domain": "drug", "concept_ids": [201826]}]}))  # fmt: skip
    with pytest.raises(CohortError) as caught:
        check_concepts(cohort, DOMAINS)
    found = [(p.field, p.value, p.expected) for p in caught.value.problems]
    assert found == [
        ("inclusion[0].concept_ids[1]", 999999999, "a concept id this node knows"),
        ("inclusion[1].concept_ids[0]", 201826, "a Drug concept (it is a Condition one)"),
    ]


def test_values_travel_as_bound_parameters_never_in_the_sql_text() -> None:
    cohort = parse_cohort(json.dumps({**BASE, "sex": ["female"], "age": {"min": 41, "max": 69},
        "inclusion": [{"domain": "measurement", "concept_ids": [3004410],
                       "value": {"min": 7.25}, "start": "2016-03-04"}],
        "exclusion": [{"domain": "condition", "concept_ids": [46271022]}]}))  # fmt: skip
    sql, params = _sqlite_sql(cohort_statement(cohort))
    for value in ("3004410", "7.25", "46271022", "2016", "8532", "1955", "1983"):
        assert value not in sql
    assert {3004410, 7.25, 46271022, 8532, 1955, 1983} <= set(params)
    assert sql.count("?") == len(params)


def test_the_fingerprint_ignores_name_and_order_but_not_meaning() -> None:
    one = parse_cohort(
        json.dumps(
            {
                **BASE,
                "inclusion": [
                    {"domain": "condition", "concept_ids": [1, 2]},
                    {"domain": "drug", "concept_ids": [3]},
                ],
            }
        )
    )
    two = parse_cohort(
        json.dumps(
            {
                **BASE,
                "name": "other",
                "inclusion": [
                    {"domain": "drug", "concept_ids": [3]},
                    {"domain": "condition", "concept_ids": [2, 1]},
                ],
            }
        )
    )
    three = parse_cohort(json.dumps({**BASE, "inclusion": [
        {"domain": "drug", "concept_ids": [3]}]}))  # fmt: skip
    assert one.fingerprint() == two.fingerprint() != three.fingerprint()
