"""Transition rewards counted with the within-cycle correction, as in DARTH's time-dependent
Sick-Sicker model.

Alarid-Escudero F, Krijkamp EM, Enns EA, et al. A tutorial on time-dependent cohort
state-transition models in R using a cost-effectiveness analysis example. Med Decis Making
2023;43(1):21-41 (R code: DARTH-git/cohort-modeling-tutorial-timedep,
analysis/cSTM_time_dep_simulation.R). Rewards are y_t = sum(A_t * R_t) over the transition
dynamics array A_t = diag(m_{t-1}) P_t (A_0 = diag(m_0)), state rewards on the columns of
R_t and the transition rewards (H->S1: +$1,000 and -0.01 QALY; dying from H, S1, S2:
+$2,000) on its off-diagonal cells; the total is y . (v_dw * v_wcc) with gen_wcc
"Simpson1/3" weights and v_dw = (1 + d)^-t on point t. So the one-off rewards of cycle t get
the Simpson weight of point t: ``transition_reward_counting: weighted`` with counting
``simpson_darth`` and discount method ``point``.

Two checks: (1) the published base case, Table "Cost-effectiveness analysis results for the
simulation-time-dependent Sick-Sicker model" (costs to the dollar, QALYs to 3 decimals, as
printed); (2) an independent numpy transcription of the R code (transition dynamics array,
not the engine's flow tables), to 1e-10, for the totals and for the transition-reward part
alone (sum over cycles of flows[t] * reward * disc[t] * wcc[t]).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hecon_paths import SHARED

from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model

LIFE_TABLE = SHARED / "darth_LifeTable_USA_Mx_2015.csv"
AGE0, CYCLES, DISC = 25, 75, 0.03
# strategy: (treatment cost in S1 and S2, utility in S1, HR of S1->S2)
STRATEGIES = {
    "Standard of care": (0.0, 0.75, 1.0),
    "Strategy A": (12000.0, 0.95, 1.0),
    "Strategy B": (13000.0, 0.75, 0.6),
    "Strategy AB": (25000.0, 0.95, 0.6),
}
# the published table: cost ($), QALYs
PUBLISHED = {
    "Standard of care": (116374, 18.879),
    "Strategy A": (218789, 19.636),
    "Strategy B": (202536, 20.199),
    "Strategy AB": (296300, 21.097),
}


@pytest.fixture
def life_table() -> pd.DataFrame:
    if not LIFE_TABLE.is_file():
        pytest.skip(f"reference data {LIFE_TABLE} not available")
    return pd.read_csv(LIFE_TABLE)


def darth_document(transition_counting: str) -> dict[str, Any]:
    strategies = {
        name: {"parameters": {"c_trt": c, "u_S1": u, "hr_S1S2": hr}}
        for name, (c, u, hr) in STRATEGIES.items()
    }
    return {
        "name": "DARTH time-dependent Sick-Sicker",
        "settings": {
            "cycles": CYCLES,
            "cycle_length": 1,
            "discount_costs": DISC,
            "discount_outcomes": DISC,
            "discount_method": "point",
            "counting": "simpson_darth",
            "transition_reward_counting": transition_counting,
            "effect": "qaly",
        },
        "states": [{"name": "H"}, {"name": "S1"}, {"name": "S2"}, {"name": "D", "dead": True}],
        "parameters": {
            "mx": {"file": str(LIFE_TABLE), "key": "Age", "column": "Total", "method": "step"},
            "c_trt": 0,
            "u_S1": 0.75,
            "hr_S1S2": 1,
            "r_HD": f"mx({AGE0} + model_time - 1)",
            "p_HD": "rate_to_prob(r_HD)",
            "p_S1D": "rate_to_prob(3 * r_HD)",
            "p_S2D": "rate_to_prob(10 * r_HD)",
            "p_HS1": "rate_to_prob(0.15)",
            "p_S1H": "rate_to_prob(0.5)",
            "p_S1S2": "rate_to_prob(0.105 * hr_S1S2)",
        },
        "strategies": strategies,
        "transitions": {
            "H": {"H": "(1 - p_HD) * (1 - p_HS1)", "S1": "(1 - p_HD) * p_HS1", "D": "p_HD"},
            "S1": {
                "H": "(1 - p_S1D) * p_S1H",
                "S1": "(1 - p_S1D) * (1 - (p_S1H + p_S1S2))",
                "S2": "(1 - p_S1D) * p_S1S2",
                "D": "p_S1D",
            },
            "S2": {"S2": "1 - p_S2D", "D": "p_S2D"},
        },
        "initial": {"H": 1},
        "state_costs": {"care": {"H": 2000, "S1": "4000 + c_trt", "S2": "15000 + c_trt"}},
        "state_utilities": {"H": 1, "S1": "u_S1", "S2": 0.5},
        # transition costs in their own category so that their part can be read alone
        "transition_rewards": [
            {"from": "H", "to": "S1", "costs": {"events": 1000}, "qaly": -0.01},
            {"from": "H", "to": "D", "costs": {"events": 2000}},
            {"from": "S1", "to": "D", "costs": {"events": 2000}},
            {"from": "S2", "to": "D", "costs": {"events": 2000}},
        ],
    }


def gen_wcc_simpson(n_cycles: int) -> np.ndarray:
    """darthtools::gen_wcc(n_cycles, "Simpson1/3"), with R's 1-based v_cycles."""
    v_cycles = np.arange(1, n_cycles + 2)
    wcc = np.where(v_cycles % 2 == 0, 2 / 3, 4 / 3)
    wcc[0] = wcc[-1] = 1 / 3
    return wcc


def darth_reference(mx: np.ndarray, strategy: str) -> dict[str, float]:
    """cSTM_time_dep_simulation.R in numpy: a_P, a_A = diag(m_t) P_t, a_R, y = sum(A * R)."""
    c_trt, u_s1, hr = STRATEGIES[strategy]
    p_hd, p_s1d, p_s2d = (1 - np.exp(-k * mx) for k in (1, 3, 10))
    p_hs1, p_s1h, p_s1s2 = (1 - np.exp(-r) for r in (0.15, 0.5, 0.105 * hr))
    a_p = np.zeros((CYCLES, 4, 4))
    a_p[:, 0, :] = np.c_[(1 - p_hd) * (1 - p_hs1), (1 - p_hd) * p_hs1, 0 * p_hd, p_hd]
    a_p[:, 1, :] = np.c_[
        (1 - p_s1d) * p_s1h, (1 - p_s1d) * (1 - (p_s1h + p_s1s2)), (1 - p_s1d) * p_s1s2, p_s1d
    ]
    a_p[:, 2, 2], a_p[:, 2, 3], a_p[:, 3, 3] = 1 - p_s2d, p_s2d, 1.0
    m = np.array([1.0, 0, 0, 0])
    a_a = np.zeros((CYCLES + 1, 4, 4))
    a_a[0] = np.diag(m)
    for t in range(CYCLES):
        a_a[t + 1] = np.diag(m) @ a_p[t]
        m = m @ a_p[t]
    state_c = np.tile([2000, 4000 + c_trt, 15000 + c_trt, 0.0], (4, 1))
    state_u = np.tile([1.0, u_s1, 0.5, 0.0], (4, 1))
    trans_c = np.zeros((4, 4))
    trans_c[0, 1] = 1000
    trans_c[:3, 3] = 2000
    trans_u = np.zeros((4, 4))
    trans_u[0, 1] = -0.01
    weight = (1 + DISC) ** -np.arange(CYCLES + 1.0) * gen_wcc_simpson(CYCLES)

    def total(reward: np.ndarray, w: np.ndarray) -> float:
        return float((a_a * reward).sum(axis=(1, 2)) @ w)

    disc_only = (1 + DISC) ** -np.arange(CYCLES + 1.0)  # the default: no wcc on events
    return {
        "cost": total(state_c + trans_c, weight),
        "qaly": total(state_u + trans_u, weight),
        "cost_events": total(trans_c, weight),
        "cost_events_end_of_cycle": total(trans_c, disc_only),
    }


@pytest.fixture
def mx(life_table: pd.DataFrame) -> np.ndarray:
    return life_table.set_index("Age")["Total"].loc[AGE0 : AGE0 + CYCLES - 1].to_numpy()


def test_published_base_case_with_weighted_transition_rewards(mx: np.ndarray) -> None:
    res = MarkovModel(load_model(darth_document("weighted"))).run().mean()
    for strategy, (cost, qaly) in PUBLISHED.items():
        assert res.loc[strategy, "cost"] == pytest.approx(cost, abs=0.5), strategy
        assert res.loc[strategy, "qaly"] == pytest.approx(qaly, abs=5e-4), strategy


def test_matches_the_transition_dynamics_array_to_1e10(mx: np.ndarray) -> None:
    weighted = MarkovModel(load_model(darth_document("weighted"))).run().mean()
    end = MarkovModel(load_model(darth_document("end_of_cycle"))).run().mean()
    for strategy in STRATEGIES:
        ref = darth_reference(mx, strategy)
        got = weighted.loc[strategy]
        assert got["cost"] == pytest.approx(ref["cost"], rel=1e-10)
        assert got["qaly"] == pytest.approx(ref["qaly"], rel=1e-10)
        # the transition-reward part alone: sum_t flows[t] * reward * disc[t] * wcc[t]
        assert got["cost_events"] == pytest.approx(ref["cost_events"], rel=1e-10)
        # the default counts each flow once (no wcc weight): a different, documented figure
        assert end.loc[strategy, "cost_events"] == pytest.approx(
            ref["cost_events_end_of_cycle"], rel=1e-10
        )
        assert end.loc[strategy, "cost_care"] == pytest.approx(got["cost_care"], rel=1e-14)
        assert abs(end.loc[strategy, "cost_events"] - got["cost_events"]) > 1.0
