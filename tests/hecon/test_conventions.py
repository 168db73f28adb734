"""Counting and discounting conventions: closed forms and properties (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permedhub.hecon.conventions import (
    COUNTING_METHODS,
    counting_weights,
    discount_weights,
    event_weights,
    occupancy_operator,
)
from permedhub.hecon.errors import ConventionError

cycles = st.integers(min_value=1, max_value=120)
rates = st.floats(min_value=0.0, max_value=0.2)


def _constant_stream_total(method: str, n: int, rate: float = 0.0, disc: str = "cycle_end"):
    """Total of a reward of 1 per cycle for a cohort that stays alive (m_k = 1 for all k)."""
    a, b = occupancy_operator(method, rate, disc, n, 1.0)
    return float((a + b).sum())


@settings(deadline=None)  # timing varies on a shared machine
@given(n=cycles)
def test_constant_stream_undiscounted_totals(n: int) -> None:
    """With nobody leaving, every exact rule counts T cycles. darthtools::gen_wcc
    "Simpson1/3" weights (1/3, 2/3, 4/3, 2/3, ..., 1/3; R source of darthtools) sum to
    T - 2/3 for even T and T - 1/3 for odd T."""
    for method in ("beginning", "end", "life_table", "half_cycle"):
        assert _constant_stream_total(method, n) == pytest.approx(n)
    if n % 2 == 0:
        assert _constant_stream_total("simpson", n) == pytest.approx(n)
        assert _constant_stream_total("simpson_darth", n) == pytest.approx(n - 2 / 3)
    else:
        with pytest.raises(ConventionError, match="even number of cycles"):
            _constant_stream_total("simpson", n)
        assert _constant_stream_total("simpson_darth", n) == pytest.approx(n - 1 / 3)


@settings(deadline=None)  # timing varies on a shared machine
@given(n=cycles, r=st.floats(min_value=0.001, max_value=0.2))
def test_discounted_constant_stream_closed_forms(n: int, r: float) -> None:
    """Annuity formulas: sum_{t=1..T} (1+r)^-t = (1 - (1+r)^-T)/r (first cycle discounted);
    times (1+r) when the first cycle is not discounted; continuous: (1 - e^{-rT})/r."""
    annuity = (1 - (1 + r) ** -n) / r
    assert _constant_stream_total("end", n, r, "cycle_end") == pytest.approx(annuity)
    assert _constant_stream_total("end", n, r, "cycle_start") == pytest.approx(annuity * (1 + r))
    assert _constant_stream_total("end", n, r, "continuous") == pytest.approx(
        (1 - np.exp(-r * n)) / r
    )
    # point discounting of half-cycle weights: trapezoid over discounted points
    pts = (1 + r) ** -np.arange(n + 1.0)
    assert _constant_stream_total("half_cycle", n, r, "point") == pytest.approx(
        pts.sum() - (pts[0] + pts[-1]) / 2
    )


@settings(deadline=None)  # timing varies on a shared machine
@given(n=cycles, r=rates)
def test_discount_factors_decrease_over_time_and_with_rate(n: int, r: float) -> None:
    for method in ("cycle_end", "cycle_start", "continuous", "point"):
        _prev, cur = discount_weights(r, method, n, 1.0)
        assert np.all(np.diff(cur) <= 1e-15)
        assert np.all(cur <= 1 + 1e-15)
        _higher_prev, higher = discount_weights(r + 0.01, method, n, 1.0)
        assert np.all(higher <= cur + 1e-15)


@settings(deadline=None, max_examples=40)  # timing varies on a shared machine
@given(n=cycles, data=st.data())
def test_life_table_is_average_of_beginning_and_end(n: int, data) -> None:
    """For any trace and rewards, life-table counting = (beginning + end) / 2."""
    trace = np.asarray(data.draw(st.lists(st.floats(0, 1), min_size=n + 1, max_size=n + 1)))
    reward = np.asarray(data.draw(st.lists(st.floats(0, 100), min_size=n, max_size=n)))

    def total(method: str) -> float:
        a, b = counting_weights(method, n)
        return float((reward * (a * trace[:-1] + b * trace[1:])).sum())

    assert total("life_table") == pytest.approx((total("beginning") + total("end")) / 2, abs=1e-9)


def test_half_cycle_and_life_table_agree_for_constant_rewards() -> None:
    """Half-cycle correction puts 1/2 m_0 and -1/2 m_T in the first/last cycle: with constant
    undiscounted rewards the total equals the life-table (trapezoid) total."""
    trace = np.array([1.0, 0.8, 0.5, 0.3, 0.1])
    a1, b1 = counting_weights("half_cycle", 4)
    a2, b2 = counting_weights("life_table", 4)
    assert (a1 * trace[:-1] + b1 * trace[1:]).sum() == pytest.approx(
        (a2 * trace[:-1] + b2 * trace[1:]).sum()
    )


def test_darth_simpson_weights_as_published() -> None:
    """darthtools::gen_wcc(4, "Simpson1/3") = c(1/3, 2/3, 4/3, 2/3, 1/3)."""
    a, b = counting_weights("simpson_darth", 4)
    np.testing.assert_allclose(np.r_[a[0], b], np.array([1, 2, 4, 2, 1]) / 3)


def test_weighted_transition_rewards_take_the_weight_of_the_cycle_end_point() -> None:
    """gen_wcc(5, "Simpson1/3") = (1/3, 2/3, 4/3, 2/3, 4/3, 1/3): the flows of cycles 1..5
    end at points 1..5; end_of_cycle leaves every cycle at 1."""
    np.testing.assert_allclose(
        event_weights("simpson_darth", "weighted", 5), np.array([2, 4, 2, 4, 1]) / 3
    )
    np.testing.assert_array_equal(event_weights("simpson_darth", "end_of_cycle", 5), np.ones(5))
    np.testing.assert_array_equal(event_weights("end", "weighted", 5), np.ones(5))
    np.testing.assert_allclose(event_weights("half_cycle", "weighted", 3), [1, 1, 0.5])
    with pytest.raises(ConventionError, match="expected one of end_of_cycle, weighted"):
        event_weights("half_cycle", "midpoint", 3)


def test_simpson_textbook_weights() -> None:
    """Simpson's 1/3 rule over 4 intervals: (1, 4, 2, 4, 1)/3 (e.g. Elbasha & Chhatwal 2016)."""
    a, b = counting_weights("simpson", 4)
    np.testing.assert_allclose(np.r_[a[0], b], np.array([1, 4, 2, 4, 1]) / 3)


def test_simpson_integrates_a_cubic_exactly() -> None:
    """Simpson's rule is exact for cubics: occupancy m(t) = 1 - t^3/1000 on [0, 10]."""
    t = np.arange(11.0)
    m = 1 - t**3 / 1000
    a, b = counting_weights("simpson", 10)
    assert (a * m[:-1] + b * m[1:]).sum() == pytest.approx(10 - 10**4 / 4000)


def test_unknown_methods_are_rejected_with_the_options() -> None:
    with pytest.raises(ConventionError, match="expected one of"):
        counting_weights("midpoint", 5)
    with pytest.raises(ConventionError, match="expected one of"):
        discount_weights(0.03, "annual", 5, 1.0)
    assert set(COUNTING_METHODS) >= {"half_cycle", "simpson", "simpson_darth"}


@settings(max_examples=20, deadline=None)
@given(r=st.floats(0.0, 0.1), length=st.sampled_from([1 / 12, 0.25, 0.5, 1.0, 2.0]))
def test_cycle_length_other_than_a_year(r: float, length: float) -> None:
    """Discounting is by calendar time: with cycles of L years, cycle t ends at t L years."""
    n = round(4 / length)
    _, cur = discount_weights(r, "cycle_end", n, length)
    assert cur[-1] == pytest.approx((1 + r) ** -4.0)
