"""Markov cash flows feed the budget-impact module (hecon.budget)."""

from __future__ import annotations

import numpy as np
import pytest

from permedhub.hecon import budget_impact
from permedhub.hecon.markov import MarkovModel


def test_annual_costs_profile_feeds_budget_impact(hiv_model) -> None:
    """Year-k cost per starting patient of the Briggs HIV model (annual cycles, end-of-cycle
    counting): year 1 = the cohort's cost in cycle 1, etc.; a single incident cohort of 100
    patients then costs 100 x profile in budget_impact."""
    res = MarkovModel(hiv_model).run(keep_cashflows=True)
    mono = res.annual_costs("monotherapy")
    trace = res.trace[res.trace.strategy == "monotherapy"].set_index("cycle")
    cost_a = 1701 + 1055 + 2278
    assert mono[0] == pytest.approx(
        trace.loc[1, "A"] * cost_a
        + trace.loc[1, "B"] * (1774 + 1278 + 2278)
        + trace.loc[1, "C"] * (6948 + 2059 + 2278)
    )
    assert len(mono) == 20
    profiles = {s: list(res.annual_costs(s)) for s in res.strategies}
    bia = budget_impact(
        3,
        prevalent=0,
        incident=[100, 0, 0],
        market_shares={"monotherapy": 1, "combination": 0},
        annual_costs=profiles,
        beyond_profile="zero",
    )
    cost = bia[bia.strategy == "monotherapy"].cost.to_numpy()
    np.testing.assert_allclose(cost, 100 * mono[:3])
    with pytest.raises(ValueError, match="keep_cashflows"):
        MarkovModel(hiv_model).run().annual_costs("monotherapy")
