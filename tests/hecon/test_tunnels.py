"""Tunnel states (state-residence time) equal an explicitly expanded Markov model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model

SETTINGS = {
    "cycles": 15,
    "cycle_length": 1,
    "discount_costs": 0.035,
    "discount_outcomes": 0.035,
    "discount_method": "cycle_end",
    "counting": "life_table",
    "effect": "qaly",
}

TUNNEL = {
    "name": "tunnel",
    "settings": SETTINGS,
    "states": [
        {"name": "well"},
        {"name": "sick", "tunnel": 3},
        {"name": "dead", "dead": True},
    ],
    "parameters": {
        "p_ws": "0.05 + 0.01 * model_time",
        "p_sd": "where(state_time == 1, 0.3, where(state_time == 2, 0.2, 0.1))",
        "p_sw": 0.1,
        "c_sick": "5000 if state_time == 1 else 1000",
    },
    "strategies": {"only": {}},
    "transitions": {
        "well": {"well": "C", "sick": "p_ws", "dead": 0.01},
        "sick": {"sick": "C", "well": "p_sw", "dead": "p_sd"},
    },
    "initial": {"well": 0.9, "sick": 0.1},
    "state_costs": {"medical": {"sick": "c_sick"}},
    "state_utilities": {"well": 1, "sick": "0.5 + 0.1 * min(state_time, 3)"},
    "transition_rewards": [{"from": "sick", "to": "dead", "costs": {"medical": 700}}],
}

EXPANDED = {
    "name": "expanded",
    "settings": SETTINGS,
    "states": [
        {"name": "well"},
        {"name": "sick1"},
        {"name": "sick2"},
        {"name": "sick3"},
        {"name": "dead", "dead": True},
    ],
    "parameters": {"p_ws": "0.05 + 0.01 * model_time", "p_sw": 0.1},
    "strategies": {"only": {}},
    "transitions": {
        "well": {"well": "C", "sick1": "p_ws", "dead": 0.01},
        "sick1": {"sick2": "C", "well": "p_sw", "dead": 0.3},
        "sick2": {"sick3": "C", "well": "p_sw", "dead": 0.2},
        "sick3": {"sick3": "C", "well": "p_sw", "dead": 0.1},
    },
    "initial": {"well": 0.9, "sick1": 0.1},
    "state_costs": {"medical": {"sick1": 5000, "sick2": 1000, "sick3": 1000}},
    "state_utilities": {"well": 1, "sick1": 0.6, "sick2": 0.7, "sick3": 0.8},
    "transition_rewards": [
        {"from": s, "to": "dead", "costs": {"medical": 700}} for s in ("sick1", "sick2", "sick3")
    ],
}


def test_tunnel_state_equals_expanded_model() -> None:
    """Residence-time dependence via `tunnel: 3` reproduces the hand-expanded sick1/2/3 model
    (costs, QALYs, LYs and the collapsed trace)."""
    tunnel = MarkovModel(load_model(TUNNEL)).run()
    expanded = MarkovModel(load_model(EXPANDED)).run()
    for col in ("cost", "qaly", "ly"):
        assert tunnel.mean().loc["only", col] == pytest.approx(
            expanded.mean().loc["only", col], rel=1e-12
        )
    sick = expanded.trace[["sick1", "sick2", "sick3"]].sum(axis=1)
    np.testing.assert_allclose(tunnel.trace["sick"], sick, rtol=1e-12)
    pd.testing.assert_series_equal(tunnel.trace["dead"], expanded.trace["dead"], rtol=1e-12)


def test_tunnel_model_vectorised_over_draws() -> None:
    """A PSA of the tunnel model gives per-draw results identical to single-draw runs."""
    doc = {**TUNNEL, "parameters": {**TUNNEL["parameters"]}}
    doc["parameters"]["p_sw"] = {"distribution": "beta", "alpha": 10, "beta": 90}
    model = MarkovModel(load_model(doc))
    psa = model.run(n_draws=5, seed=3)
    for i in range(5):
        one = model.run(sampled={"p_sw": psa.parameters["p_sw"][i : i + 1]})
        assert one.summary.loc[0, "cost"] == pytest.approx(psa.summary.loc[i, "cost"], rel=1e-12)
