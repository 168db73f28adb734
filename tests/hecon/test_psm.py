"""Partitioned survival models and parametric survival curves."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.psm import CurveCrossingWarning, PSMStrategy, partitioned_survival
from permedhub.hecon.spec import Settings, load_model
from permedhub.hecon.survival import Survival

T = np.linspace(0, 20, 41)


def test_survival_curves_match_scipy() -> None:
    """Parameterisations as in flexsurv; checked against scipy.stats survival functions."""
    cases = [
        (Survival("exponential", {"rate": 0.2}), stats.expon(scale=5).sf(T)),
        (Survival("weibull", {"shape": 1.5, "scale": 6}), stats.weibull_min(1.5, scale=6).sf(T)),
        (
            Survival("gompertz", {"shape": 0.1, "rate": 0.05}),
            stats.gompertz(0.05 / 0.1, scale=1 / 0.1).sf(T),
        ),
        (Survival("loglogistic", {"shape": 2, "scale": 4}), stats.fisk(2, scale=4).sf(T)),
        (
            Survival("lognormal", {"meanlog": 1.5, "sdlog": 0.8}),
            stats.lognorm(0.8, scale=np.exp(1.5)).sf(T),
        ),
    ]
    for curve, expected in cases:
        np.testing.assert_allclose(curve.survival(T)[0], expected, rtol=1e-10, atol=1e-14)


def test_survival_rejects_impossible_parameters() -> None:
    with pytest.raises(ValueError, match="scale must be > 0"):
        Survival("weibull", {"shape": 1, "scale": -2})
    with pytest.raises(ValueError, match="needs parameters"):
        Survival("weibull", {"rate": 1})


SETTINGS = Settings(
    cycles=30,
    cycle_length=0.5,
    discount_costs=0.035,
    discount_outcomes=0.035,
    discount_method="cycle_end",
    counting="life_table",
    effect="qaly",
)


def test_psm_equals_markov_with_constant_hazards() -> None:
    """With PF->PD hazard a, and death hazard c from both PF and PD, the Markov model has
    S_PFS = exp(-(a + c) t) and S_OS = exp(-c t): the partitioned survival model with those
    curves gives the same state occupancy, costs and QALYs (Woods et al., NICE DSU TSD 19)."""
    a, c = 0.3, 0.1
    psm = partitioned_survival(
        {
            "x": PSMStrategy(
                pfs=Survival("exponential", {"rate": a + c}),
                os=Survival("exponential", {"rate": c}),
                state_costs={"care": {"progression_free": 500, "progressed": 2000}},
                utilities={"progression_free": 0.8, "progressed": 0.5},
            )
        },
        SETTINGS,
    )
    L = SETTINGS.cycle_length
    doc = {
        "name": "pf-pd-dead",
        "settings": SETTINGS.model_dump(),
        "states": [{"name": "pf"}, {"name": "pd"}, {"name": "dead", "dead": True}],
        "parameters": {"a": a, "c": c, "L": L},
        "strategies": {"x": {}},
        "transitions": {
            "pf": {"pf": "C", "pd": "exp(-c * L) * (1 - exp(-a * L))", "dead": "1 - exp(-c * L)"},
            "pd": {"pd": "C", "dead": "1 - exp(-c * L)"},
        },
        "initial": {"pf": 1},
        "state_costs": {"care": {"pf": 500, "pd": 2000}},
        "state_utilities": {"pf": 0.8, "pd": 0.5},
    }
    markov = MarkovModel(load_model(doc)).run()
    m, p = markov.mean().loc["x"], psm.summary.iloc[0]
    for col in ("cost", "qaly", "ly"):
        assert p[col] == pytest.approx(m[col], rel=1e-10)
    np.testing.assert_allclose(psm.trace.progressed, markov.trace.pd, rtol=1e-10, atol=1e-15)


def test_crossing_curves_are_clamped_with_a_warning() -> None:
    strat = PSMStrategy(
        pfs=Survival("exponential", {"rate": 0.1}),
        os=Survival("weibull", {"shape": 2.0, "scale": 5.0}),
        utilities={"progression_free": 1, "progressed": 1},
    )
    with pytest.warns(CurveCrossingWarning, match="strategy 'crossing': PFS exceeds OS"):
        res = partitioned_survival({"crossing": strat}, SETTINGS)
    tr = res.trace
    assert (tr.progressed >= 0).all()
    assert np.allclose(tr.progression_free + tr.progressed + tr.dead, 1)


def test_psm_vectorised_over_draws() -> None:
    rates = np.array([0.05, 0.1, 0.2])
    strat = PSMStrategy(
        pfs=Survival("exponential", {"rate": rates * 2}),
        os=Survival("exponential", {"rate": rates}),
        utilities={"progression_free": 0.9, "progressed": 0.6},
    )
    res = partitioned_survival({"s": strat}, SETTINGS).summary
    assert len(res) == 3 and res.qaly.is_monotonic_decreasing
