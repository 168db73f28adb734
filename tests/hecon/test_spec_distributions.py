"""Every distribution kind can be declared in a model document and drives a PSA."""

from __future__ import annotations

import numpy as np
import pytest
from hecon_test_models import THREE_STATE, three_state

from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model


def test_all_distribution_kinds_in_a_document() -> None:
    params = {
        **THREE_STATE["parameters"],
        "coefs": {
            "distribution": "mvnormal",
            "mean": [-2.0, 0.5],
            "cov": [[0.04, 0.03], [0.03, 0.04]],
            "outputs": ["b0", "b1"],
        },
        "boot": {
            "distribution": "bootstrap",
            "data": {"c_obs": [800.0, 1000, 1200, 1400]},
            "outputs": ["c_obs"],
        },
        "tri": {"distribution": "triangular", "low": 0.5, "mode": 0.6, "high": 0.7},
        "fix": {"distribution": "fixed", "value": 3.0},
        "nor": {"distribution": "normal", "mean": 0.0, "sd": 1.0},
        "lgn": {"distribution": "lognormal", "mean": 1.0, "se": 0.1},
        "p_hs": "1 / (1 + exp(-(b0 + b1 * 0)))",
        "c_sick": "c_obs",
        "u_sick": "tri",
    }
    model = MarkovModel(load_model(three_state(parameters=params)))
    psa = model.run(n_draws=4000, seed=12)
    draws = psa.parameters
    assert np.corrcoef(draws["b0"], draws["b1"])[0, 1] == pytest.approx(0.75, abs=0.03)
    assert draws["c_obs"].mean() == pytest.approx(1100, rel=0.01)
    assert np.all(draws["fix"] == 3.0)
    assert draws["lgn"].mean() == pytest.approx(1.0, rel=0.01)
    base = model.run()
    # base case uses the means (documented default when no 'value' is given)
    assert base.parameters["c_obs"][0] == pytest.approx(1100)
    assert base.parameters["tri"][0] == pytest.approx(0.6)
