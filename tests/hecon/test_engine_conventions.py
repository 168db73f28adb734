"""The engine applies each counting/discounting convention exactly as documented, and
transition rewards are one-off values on flows (checked against hand formulas)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from permedhub.hecon.conventions import COUNTING_METHODS, DISCOUNT_METHODS
from permedhub.hecon.errors import ConventionError, HeconError
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model

Q, T, R, L = 0.1, 12, 0.04, 0.5


def _doc(counting: str, discount: str) -> dict:
    return {
        "name": "alive-dead",
        "settings": {
            "cycles": T,
            "cycle_length": L,
            "discount_costs": R,
            "discount_outcomes": R,
            "discount_method": discount,
            "counting": counting,
            "effect": "ly",
        },
        "states": [{"name": "alive"}, {"name": "dead", "dead": True}],
        "parameters": {"q": Q},
        "strategies": {"s": {}},
        "transitions": {"alive": {"alive": "C", "dead": "q"}},
        "initial": {"alive": 1},
        "state_costs": {"care": {"alive": "100 * model_time"}},
        "transition_rewards": [
            {"from": "alive", "to": "dead", "costs": {"care": 5000}, "qaly": -0.25}
        ],
        "state_utilities": {"alive": 0.8},
    }


def _weights(counting: str) -> tuple[np.ndarray, np.ndarray]:
    t = T
    if counting == "beginning":
        return np.ones(t), np.zeros(t)
    if counting == "end":
        return np.zeros(t), np.ones(t)
    if counting == "life_table":
        return np.full(t, 0.5), np.full(t, 0.5)
    if counting == "half_cycle":
        w = np.r_[0.5, np.ones(t - 1), 0.5]
    elif counting == "simpson":
        w = np.r_[1, np.tile([4, 2], t // 2)[:-1], 1] / 3
    else:  # darthtools::gen_wcc "Simpson1/3": 2/3 on odd, 4/3 on even interior points
        w = np.r_[1, np.tile([2, 4], t // 2)[:-1], 1] / 3
    a = np.zeros(t)
    a[0] = w[0]
    return a, w[1:]


def _discount(method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(1, T + 1)
    start, end = (1 + R) ** (-(t - 1) * L), (1 + R) ** (-t * L)
    if method == "cycle_end":
        return end, end, end
    if method == "cycle_start":
        return start, start, start
    if method == "point":
        return start, end, end
    avg = (np.exp(-R * (t - 1) * L) - np.exp(-R * t * L)) / (R * L)
    return avg, avg, avg


@pytest.mark.parametrize(
    ("counting", "discount"), list(itertools.product(COUNTING_METHODS, DISCOUNT_METHODS))
)
def test_every_convention_against_its_formula(counting: str, discount: str) -> None:
    res = MarkovModel(load_model(_doc(counting, discount))).run().mean().loc["s"]
    alive = (1 - Q) ** np.arange(T + 1.0)
    a, b = _weights(counting)
    dp, dc, ev = _discount(discount)
    counted = a * dp * alive[:-1] + b * dc * alive[1:]
    cost_state = 100 * np.arange(1, T + 1)
    deaths = alive[:-1] * Q
    assert res["ly"] == pytest.approx(L * counted.sum(), rel=1e-12)
    assert res["cost"] == pytest.approx(
        (cost_state * counted).sum() + 5000 * (deaths * ev).sum(), rel=1e-12
    )
    assert res["qaly"] == pytest.approx(
        0.8 * L * counted.sum() - 0.25 * (deaths * ev).sum(), rel=1e-12
    )


WEIGHTED_COUNTINGS = ("end", "half_cycle", "simpson", "simpson_darth")


@pytest.mark.parametrize(
    ("counting", "discount"), list(itertools.product(WEIGHTED_COUNTINGS, DISCOUNT_METHODS))
)
def test_weighted_transition_rewards_get_the_point_weight_of_their_cycle(
    counting: str, discount: str
) -> None:
    """transition_reward_counting 'weighted': the deaths of cycle t are counted with the point
    weight w_t of trace point t (DARTH's A_t * R_t weighted by v_wcc[t]); state rewards are
    unchanged."""
    doc = _doc(counting, discount)
    doc["settings"]["transition_reward_counting"] = "weighted"
    res = MarkovModel(load_model(doc)).run().mean().loc["s"]
    default = MarkovModel(load_model(_doc(counting, discount))).run().mean().loc["s"]
    alive = (1 - Q) ** np.arange(T + 1.0)
    a, b = _weights(counting)
    dp, dc, ev = _discount(discount)
    counted = a * dp * alive[:-1] + b * dc * alive[1:]
    w = b  # for point-weight rules b_t is the weight of point t (and 1 for 'end')
    deaths = alive[:-1] * Q
    cost_state = 100 * np.arange(1, T + 1)
    assert res["ly"] == default["ly"]
    assert res["cost"] == pytest.approx(
        (cost_state * counted).sum() + 5000 * (deaths * ev * w).sum(), rel=1e-12
    )
    assert res["qaly"] == pytest.approx(
        0.8 * L * counted.sum() - 0.25 * (deaths * ev * w).sum(), rel=1e-12
    )
    assert res["cost_undiscounted"] == pytest.approx(
        (cost_state * (a * alive[:-1] + b * alive[1:])).sum() + 5000 * (deaths * w).sum(),
        rel=1e-12,
    )
    if counting != "end":
        assert res["cost"] != pytest.approx(default["cost"], rel=1e-9)


def test_weighted_transition_rewards_cash_flows_carry_the_weights() -> None:
    doc = _doc("half_cycle", "cycle_end")
    doc["settings"]["transition_reward_counting"] = "weighted"
    res = MarkovModel(load_model(doc)).run(keep_cashflows=True)
    alive = (1 - Q) ** np.arange(T + 1.0)
    w = np.r_[np.ones(T - 1), 0.5]
    state = 100 * np.arange(1, T + 1) * alive[1:]  # half-cycle: point weights 1/2, 1, .., 1/2
    state[0] += 100 * 0.5 * alive[0]
    state[-1] *= 0.5
    expected = state + 5000 * alive[:-1] * Q * w
    np.testing.assert_allclose(res.cashflows["s"]["care"][0, 1:], expected, rtol=1e-12)


@pytest.mark.parametrize("counting", ["beginning", "life_table"])
def test_weighted_transition_rewards_need_point_weights(counting: str) -> None:
    doc = _doc(counting, "cycle_end")
    doc["settings"]["transition_reward_counting"] = "weighted"
    with pytest.raises(ConventionError, match=rf"counting '{counting}'.*end_of_cycle"):
        MarkovModel(load_model(doc))


def test_unknown_transition_reward_counting_names_the_field_and_options() -> None:
    doc = _doc("half_cycle", "cycle_end")
    doc["settings"]["transition_reward_counting"] = "midpoint"
    with pytest.raises(HeconError, match=r"transition_reward_counting.*end_of_cycle.*weighted"):
        load_model(doc)
