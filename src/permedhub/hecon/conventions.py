"""Counting (within-cycle correction) and discounting conventions: explicit named options.

Notation: cycles t = 1..T of length L years; the trace has points m_0..m_T (m_k = state
occupancy at time kL). A state reward c_t (evaluated at ``model_time = t``) is counted in
cycle t against the *counted occupancy*

    m~_t = a_t * m_{t-1} + b_t * m_t

with (a_t, b_t) given by the counting method:

==================  ====================================================================
``beginning``       a_t = 1, b_t = 0                      (occupancy at start of cycle)
``end``             a_t = 0, b_t = 1                      (occupancy at end of cycle)
``life_table``      a_t = b_t = 1/2                       (trapezoid per cycle)
``half_cycle``      end counting plus 1/2 m_0 in cycle 1 and minus 1/2 m_T in cycle T:
                    point weights (1/2, 1, ..., 1, 1/2) (Sonnenberg & Beck 1993)
``simpson``         Simpson's 1/3 rule, textbook weights (1, 4, 2, 4, ..., 2, 4, 1)/3 on the
                    points m_0..m_T; requires an even number of cycles (else an error)
``simpson_darth``   the weights of ``darthtools::gen_wcc(n, "Simpson1/3")`` as published:
                    1/3 at both ends, 2/3 at odd and 4/3 at even interior points (R's 1-based
                    ``v_cycles %% 2`` puts 2/3 on point 1, the reverse of the textbook), for
                    any T; the weights sum to T - 2/3 (T even) or T - 1/3 (T odd), so a
                    constant stream is not integrated exactly -- kept to reproduce DARTH
==================  ====================================================================

For the point-weight rules (half_cycle, simpson, simpson_darth) weight w_k of point k >= 1
goes to cycle k (b_k = w_k) and w_0 to cycle 1 (a_1 = w_0).

Discounting at annual rate r, as a factor on each point of the counted occupancy:

==================  ====================================================================
``cycle_end``       delta_t = (1 + r)^(-t L)  on the whole cycle (first cycle discounted)
``cycle_start``     delta_t = (1 + r)^(-(t-1) L) (first cycle not discounted)
``continuous``      delta_t = (1/L) * integral_{(t-1)L}^{tL} exp(-r s) ds
                    = (exp(-r(t-1)L) - exp(-r t L)) / (r L)  (r = instantaneous rate)
``point``           each trace point discounted at its own time: m_k gets (1 + r)^(-k L)
                    (DARTH's convention); transition rewards at the end of the cycle
==================  ====================================================================

Transition rewards (one-off events on flows during cycle t) use delta_t for the cycle methods
and (1 + r)^(-t L) for ``point``. The setting ``transition_reward_counting`` says whether the
counting weights apply to them too:

==================  ====================================================================
``end_of_cycle``    (default) the flow of cycle t counts once, with weight 1
``weighted``        the flow of cycle t is attached to trace point t and gets its point
                    weight w_t, as in DARTH's transition-dynamics array (Alarid-Escudero
                    et al., MDM 2023: y_t = sum(A_t * R_t), weighted by v_wcc[t] v_dw[t]).
                    Needs a counting method with point weights: ``half_cycle``,
                    ``simpson``, ``simpson_darth``, or ``end`` (every w_t = 1, the same as
                    ``end_of_cycle``); ``beginning`` and ``life_table`` weight each cycle's
                    two end points, which gives no single weight to a flow, so they are
                    refused
==================  ====================================================================
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from permedhub.hecon.errors import ConventionError

CountingMethod = Literal["beginning", "end", "life_table", "half_cycle", "simpson", "simpson_darth"]
DiscountMethod = Literal["cycle_end", "cycle_start", "continuous", "point"]
TransitionRewardCounting = Literal["end_of_cycle", "weighted"]
COUNTING_METHODS: tuple[str, ...] = get_args(CountingMethod)
DISCOUNT_METHODS: tuple[str, ...] = get_args(DiscountMethod)
TRANSITION_REWARD_COUNTINGS: tuple[str, ...] = get_args(TransitionRewardCounting)
_POINT_WEIGHTED = ("end", "half_cycle", "simpson", "simpson_darth")


def point_weights(method: str, n_cycles: int) -> np.ndarray:
    """Weights on the trace points m_0..m_T for the point-weight rules (see module doc)."""
    t = n_cycles
    if method == "half_cycle":
        w = np.ones(t + 1)
        w[0] = w[-1] = 0.5
        return w
    if method == "simpson":
        if t % 2:
            raise ConventionError(
                f"counting 'simpson' (textbook 1/3 rule) needs an even number of cycles, got {t}; "
                "use an even number of cycles or another counting method"
            )
        w = np.where(np.arange(t + 1) % 2 == 1, 4.0, 2.0) / 3
        w[0] = w[-1] = 1 / 3
        return w
    if method == "simpson_darth":
        # darthtools: v_cycles = 1..n+1; even v_cycles (odd points k) get 2/3, odd get 4/3
        w = np.where(np.arange(t + 1) % 2 == 1, 2.0, 4.0) / 3
        w[0] = w[-1] = 1 / 3
        return w
    raise ConventionError(f"{method!r} is not a point-weight counting method")


def counting_weights(method: str, n_cycles: int) -> tuple[np.ndarray, np.ndarray]:
    """(a_t, b_t), t = 1..T: weights of m_{t-1} and m_t in the counted occupancy of cycle t."""
    if method not in COUNTING_METHODS:
        raise ConventionError(
            f"counting method {method!r} unknown; expected one of {', '.join(COUNTING_METHODS)}"
        )
    if n_cycles < 1:
        raise ConventionError(f"number of cycles must be >= 1, got {n_cycles}")
    t = n_cycles
    if method == "beginning":
        return np.ones(t), np.zeros(t)
    if method == "end":
        return np.zeros(t), np.ones(t)
    if method == "life_table":
        return np.full(t, 0.5), np.full(t, 0.5)
    w = point_weights(method, t)
    a = np.zeros(t)
    a[0] = w[0]
    return a, w[1:].copy()


def discount_weights(
    rate: float, method: str, n_cycles: int, cycle_length: float
) -> tuple[np.ndarray, np.ndarray]:
    """Discount factors (on m_{t-1}, on m_t) for each cycle t = 1..T (see module doc)."""
    if method not in DISCOUNT_METHODS:
        raise ConventionError(
            f"discount method {method!r} unknown; expected one of {', '.join(DISCOUNT_METHODS)}"
        )
    if not (np.isfinite(rate) and rate > -1):
        raise ConventionError(f"discount rate must be > -1, got {rate!r}")
    if not cycle_length > 0:
        raise ConventionError(f"cycle length must be > 0 years, got {cycle_length!r}")
    t = np.arange(1, n_cycles + 1, dtype=float)
    start = (1 + rate) ** (-(t - 1) * cycle_length)
    end = (1 + rate) ** (-t * cycle_length)
    if method == "cycle_end":
        return end, end
    if method == "cycle_start":
        return start, start
    if method == "point":
        return start, end
    # continuous: average of exp(-r s) over the cycle
    if rate == 0:
        ones = np.ones(n_cycles)
        return ones, ones
    # exp(-r(t-1)L) * (1 - exp(-rL)) / (rL), written with expm1 to stay exact for tiny r
    avg = (
        np.exp(-rate * (t - 1) * cycle_length)
        * (-np.expm1(-rate * cycle_length))
        / (rate * cycle_length)
    )
    return avg, avg


def event_discount(rate: float, method: str, n_cycles: int, cycle_length: float) -> np.ndarray:
    """Discount factor for one-off transition rewards in cycle t = 1..T."""
    prev, cur = discount_weights(rate, method, n_cycles, cycle_length)
    return cur if method == "point" else prev


def event_weights(counting: str, transition_counting: str, n_cycles: int) -> np.ndarray:
    """Counting weight of the transition rewards of cycle t = 1..T (see module doc)."""
    if transition_counting not in TRANSITION_REWARD_COUNTINGS:
        raise ConventionError(
            f"transition_reward_counting {transition_counting!r} unknown; expected one of "
            f"{', '.join(TRANSITION_REWARD_COUNTINGS)}"
        )
    if transition_counting == "end_of_cycle" or counting == "end":
        return np.ones(n_cycles)
    if counting not in _POINT_WEIGHTED:
        raise ConventionError(
            f"transition_reward_counting 'weighted' needs a counting method with weights on "
            f"trace points ({', '.join(_POINT_WEIGHTED)}), got counting {counting!r}; use "
            "transition_reward_counting 'end_of_cycle' or another counting method"
        )
    return point_weights(counting, n_cycles)[1:]


def occupancy_operator(
    counting: str, rate: float, discount: str, n_cycles: int, cycle_length: float
) -> tuple[np.ndarray, np.ndarray]:
    """Combined (A_prev, A_cur): discounted counted occupancy of cycle t is
    A_prev[t] m_{t-1} + A_cur[t] m_t."""
    a, b = counting_weights(counting, n_cycles)
    dp, dc = discount_weights(rate, discount, n_cycles, cycle_length)
    return a * dp, b * dc
