"""Budget impact: hand-computable cases (first principles, see the module docstring formula)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from permedhub.hecon.budget import budget_impact, budget_impact_difference
from permedhub.hecon.cea import AnalysisInputError

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
