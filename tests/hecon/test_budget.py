"""Budget impact: hand-computable cases (first principles, see the module docstring formula)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from permedhub.hecon.budget import budget_impact, budget_impact_difference
from permedhub.hecon.budget_spec import (
    budget_examples,
    budget_json,
    load_budget_document,
    parse_budget_document,
    run_budget,
)
from permedhub.hecon.cea import AnalysisInputError
from permedhub.hecon.errors import HeconError

SHARES = {"A": [1.0, 0.5, 0.0], "B": [0.0, 0.5, 1.0]}
COSTS = {"A": [1000.0, 500.0], "B": [2000.0]}


def _by(frame: pd.DataFrame, column: str) -> dict[tuple[int, str], float]:
    return {(int(r.year), str(r.strategy)): float(getattr(r, column)) for r in frame.itertuples()}


def test_cohorts_follow_their_own_time_since_entry() -> None:
    # Cohorts: year 1 = 100 prevalent + 10 incident, years 2 and 3 = 10 incident.
    # A takes cohort 1 whole and half of cohort 2; B half of cohort 2 and all of cohort 3.
    # A costs 1000 in a patient's first year, 500 in the second, nothing after ("zero").
    # B costs 2000 in the first year; with beyond_profile="zero" nothing after.
    frame = budget_impact(3, 100, 10, SHARES, COSTS, beyond_profile="zero")
    cost = _by(frame, "cost")
    assert cost[(1, "A")] == 110 * 1000
    assert cost[(2, "A")] == 110 * 500 + 5 * 1000
    assert cost[(3, "A")] == 5 * 500  # cohort 1 has finished, cohort 2 is in its 2nd year
    assert cost[(1, "B")] == 0
    assert cost[(2, "B")] == 5 * 2000
    assert cost[(3, "B")] == 10 * 2000  # cohort 2's B patients are past their profile
    patients = _by(frame, "patients")
    assert patients[(3, "A")] == 115
    new = _by(frame, "new_patients")
    assert new[(1, "A")] == 110 and new[(2, "B")] == 5 and new[(3, "B")] == 10


def test_repeat_last_continues_the_profile() -> None:
    frame = budget_impact(3, 100, 10, SHARES, COSTS, beyond_profile="repeat_last")
    assert _by(frame, "cost")[(3, "A")] == 110 * 500 + 5 * 500
    assert _by(frame, "cost")[(3, "B")] == 5 * 2000 + 10 * 2000


def test_persistence_and_discounting() -> None:
    frame = budget_impact(
        3,
        0,
        [100, 0, 0],
        {"A": 1.0},
        {"A": [10.0]},
        beyond_profile="repeat_last",
        persistence=[1.0, 0.5],
        discount_rate=0.05,
    )
    np.testing.assert_allclose(frame["patients"], [100, 50, 50])
    np.testing.assert_allclose(frame["cost"], [1000, 500, 500])
    np.testing.assert_allclose(frame["discounted_cost"], [1000, 500 / 1.05, 500 / 1.05**2])
    first_discounted = budget_impact(
        1,
        0,
        100,
        {"A": 1.0},
        {"A": [10.0]},
        beyond_profile="zero",
        discount_rate=0.05,
        discount_first_year=True,
    )
    assert first_discounted["discounted_cost"].item() == pytest.approx(1000 / 1.05)


def test_budget_impact_is_the_difference_between_scenarios() -> None:
    new_world = budget_impact(3, 100, 10, SHARES, COSTS, beyond_profile="zero")
    old_world = budget_impact(3, 100, 10, {"A": 1.0, "B": 0.0}, COSTS, beyond_profile="zero")
    impact = budget_impact_difference(new_world, old_world)
    # Old world: everyone on A. Year 3: cohort 2 (10 in year 2) and cohort 3 (10) on A.
    assert impact["cost_reference"].tolist() == [110_000, 110 * 500 + 10_000, 10 * 500 + 10_000]
    np.testing.assert_allclose(
        impact["budget_impact"], impact["cost_scenario"] - impact["cost_reference"]
    )
    assert impact["budget_impact"].iloc[2] == (2500 + 20_000) - 15_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_years": 0}, "horizon_years: expected an integer >= 1"),
        ({"prevalent": -1}, "prevalent: expected a finite count >= 0"),
        ({"incident": [1, 2]}, "incident: expected 1 or 3 values, got 2"),
        ({"incident": float("nan")}, "incident: expected finite values >= 0"),
        ({"market_shares": {"A": [1, 0.6, 0], "B": [0, 0.5, 1]}}, "year 2 sums to 1.1"),
        ({"market_shares": {"A": 1.0, "C": 0.0}}, "do not match market_shares"),
        ({"annual_costs": {"A": [-1.0], "B": [1.0]}}, "annual_costs\\['A'\\]: expected finite"),
        ({"beyond_profile": "forever"}, "beyond_profile: expected 'zero' or 'repeat_last'"),
        ({"persistence": [1.0, 1.5]}, "persistence: expected shares in \\[0, 1\\]"),
        ({"discount_rate": -0.1}, "discount_rate"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "horizon_years": 3,
        "prevalent": 100,
        "incident": 10,
        "market_shares": SHARES,
        "annual_costs": COSTS,
        "beyond_profile": "zero",
    }
    arguments.update(kwargs)
    with pytest.raises(AnalysisInputError, match=message):
        budget_impact(**arguments)  # type: ignore[arg-type]


def test_shares_are_named_as_the_caller_calls_them() -> None:
    shares = {"A": [1, 0.6, 0], "B": [0, 0.5, 1]}
    with pytest.raises(AnalysisInputError, match=r"^scenario_shares: .*year 2 sums to 1\.1"):
        budget_impact(
            3, 100, 10, shares, COSTS, beyond_profile="zero", shares_name="scenario_shares"
        )


# --------------------------------------------------------------------------- documents

EXAMPLE = budget_examples()["budget_impact"]


def test_the_shipped_example_matches_a_hand_calculation() -> None:
    run = run_budget(load_budget_document(EXAMPLE))
    by_year = run.difference.set_index("year")
    # Year 1: 1,200 prevalent + 400 incident. Reference: all on chemotherapy at 12,000.
    # Scenario: 20% (320) on test + targeted at 31,000, 1,280 on chemotherapy.
    assert by_year.loc[1, "cost_reference"] == 1600 * 12_000
    assert by_year.loc[1, "cost_scenario"] == 1280 * 12_000 + 320 * 31_000
    # Year 2: cohort 1 at 70% persistence in its 2nd year (3,000 / 18,000); cohort 2 (400) in
    # its 1st year with the year-2 shares 0.6 / 0.4.
    reference_2 = 1600 * 0.7 * 3_000 + 400 * 12_000
    scenario_2 = 1280 * 0.7 * 3_000 + 320 * 0.7 * 18_000 + 240 * 12_000 + 160 * 31_000
    assert by_year.loc[2, "budget_impact"] == pytest.approx(scenario_2 - reference_2, rel=1e-12)
    assert run.total == pytest.approx(by_year["budget_impact"].sum())
    assert run.total_discounted == run.total  # the example is undiscounted
    patients = run.scenario_by_strategy("patients")
    assert list(patients.columns) == ["year", "chemotherapy", "test_and_targeted"]
    assert patients.iloc[0, 1:].tolist() == [1280, 320]


def test_the_document_run_is_the_difference_of_two_engine_runs() -> None:
    document = load_budget_document(EXAMPLE).model_copy(update={"discount_rate": 0.035})
    run = run_budget(document)
    common = {
        "beyond_profile": document.beyond_profile,
        "persistence": document.persistence,
        "discount_rate": 0.035,
    }
    args = (document.horizon_years, document.prevalent, document.incident)
    reference = budget_impact(*args, document.reference_shares, document.annual_costs, **common)
    scenario = budget_impact(*args, document.scenario_shares, document.annual_costs, **common)
    pd.testing.assert_frame_equal(run.difference, budget_impact_difference(scenario, reference))
    assert run.total_discounted < run.total
    payload = json.loads(json.dumps(budget_json(run), allow_nan=False))
    assert payload["total_budget_impact"] == pytest.approx(run.total)
    assert [row["year"] for row in payload["by_year"]] == [1, 2, 3, 4, 5]
    assert payload["document"]["discount_rate"] == 0.035


def _edited(old: str, new: str) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "horizon_years: 5",
            "horizon_years: five",
            "invalid budget document: horizon_years: Input should be a valid integer, unable to "
            "parse string as an integer, got 'five'",
        ),
        (
            "  chemotherapy: 1.0",
            "  chemotherapy: lots",
            "invalid budget document: reference_shares.chemotherapy: Input should be a valid "
            "number, unable to parse string as a number or a valid list, got 'lots'",
        ),
        (
            "discount_rate: 0.0",
            "discount_rate: 0.0\nhorizon: 3",
            "invalid budget document: horizon: Extra inputs are not permitted, got 3",
        ),
        (
            "incident: 400 ",
            "incident: [400, 400\n",
            "not valid YAML/JSON: line 6, column 1: expected ',' or ']', but got '?' (while "
            "parsing a flow sequence from line 4, column 11)",
        ),
    ],
)
def test_a_bad_document_names_the_place_and_the_value(old: str, new: str, message: str) -> None:
    with pytest.raises(HeconError) as err:
        parse_budget_document(_edited(old, new))
    assert str(err.value) == message


def test_shares_not_summing_to_one_name_the_document_key() -> None:
    document = parse_budget_document(
        _edited("test_and_targeted: [0.2,", "test_and_targeted: [0.3,")
    )
    with pytest.raises(
        AnalysisInputError, match=r"^scenario_shares: shares must sum to 1 in every"
    ):
        run_budget(document)


def test_reading_a_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "budget.yaml"
    bad.write_text(_edited("prevalent: 1200", "prevalent: -5"))
    with pytest.raises(HeconError) as err:
        load_budget_document(bad)
    assert str(err.value) == (
        f"budget file {bad}: invalid budget document: prevalent: Input should be greater than "
        "or equal to 0, got -5"
    )
    with pytest.raises(HeconError) as err:
        load_budget_document(tmp_path / "no.yaml")
    assert str(err.value) == f"budget file {tmp_path / 'no.yaml'}: no such file"
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(HeconError) as err:
        load_budget_document(listing)
    assert str(err.value) == (
        f"budget file {listing}: a budget document must be a mapping (YAML/JSON object), got list"
    )
