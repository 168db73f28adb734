"""Population-level payment summaries: discounted spend, equivalent up-front price, and the
value of a study's information as the decision horizon grows."""

import numpy as np
import pytest

from permedhub.hecon import payment, voi
from permedhub.hecon.errors import HeconError


def test_a_single_list_price_comes_back_as_the_equivalent_price():
    patients = [100.0, 120.0, 150.0]
    spend = np.array([[30_000.0 * n for n in patients]])
    summary = payment.discounted_spend_summary({"list": spend}, patients, 0.035)
    assert summary.loc[0, "equivalent up-front price per patient"] == pytest.approx(30_000.0)


def test_discounting_by_hand_and_spread_over_draws():
    spend = np.array([[100.0, 110.0], [300.0, 330.0]])
    summary = payment.discounted_spend_summary({"scheme": spend}, [1.0, 1.0], 0.10)
    present = spend[:, 0] + spend[:, 1] / 1.1  # year 1 undiscounted
    assert summary.loc[0, "expected discounted spend"] == pytest.approx(present.mean())
    assert summary.loc[0, "sd"] == pytest.approx(present.std(ddof=1))
    assert summary.loc[0, "discounted patients"] == pytest.approx(1 + 1 / 1.1)


def test_value_of_a_study_by_horizon_ends_at_the_population_evsi():
    frame = payment.evsi_by_horizon(12.5, 1_000.0, 10, 0.035, 50_000.0)
    last = frame.iloc[-1]
    population = voi.population_multiplier(1_000.0, 10, 0.035)
    assert last["population EVSI so far"] == pytest.approx(12.5 * population)
    assert last["net gain so far"] == pytest.approx(12.5 * population - 50_000.0)
    assert (np.diff(frame["population EVSI so far"]) > 0).all()


def test_bad_rates_and_horizons_are_named():
    with pytest.raises(HeconError, match="discount_rate"):
        payment.discounted_spend_summary({"x": np.ones((1, 2))}, [1.0, 1.0], -0.1)
    with pytest.raises(HeconError, match="horizon_years"):
        payment.evsi_by_horizon(1.0, 10.0, 0, 0.0, 0.0)
