"""Microsimulation: matches the cohort model in expectation (Monte-Carlo SE tolerances)."""

from __future__ import annotations

import numpy as np
import pytest
from hecon_test_models import THREE_STATE, three_state

from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.microsim import microsimulate
from permedhub.hecon.spec import load_model


def test_microsimulation_matches_thr_cohort_in_expectation(thr_model) -> None:
    """Briggs THR model (Ex. 3.5): 10,000 simulated patients; every mean within 4 Monte-Carlo
    standard errors of the cohort value."""
    model = MarkovModel(thr_model)
    cohort = model.run().mean()
    micro = microsimulate(model, 10_000, seed=11).summary
    for _, row in micro.iterrows():
        if row.outcome in ("cost", "qaly", "ly"):
            target = cohort.loc[row.strategy, row.outcome]
            assert abs(row["mean"] - target) < 4 * row.mc_se, (row.strategy, row.outcome)


def test_patient_characteristics_biomarker_status() -> None:
    """Patients differ by biomarker status: the microsimulation mean equals the
    prevalence-weighted mix of the cohort runs for marker-positive and -negative patients."""
    params = {**THREE_STATE["parameters"], "marker": 0, "p_hs": "0.05 + 0.15 * marker"}
    model = MarkovModel(load_model(three_state(parameters=params)))
    rng = np.random.default_rng(4)
    marker = (rng.random(20_000) < 0.3).astype(float)
    micro = microsimulate(model, 20_000, seed=5, characteristics={"marker": marker}).summary
    pos = model.run(sampled={"marker": [1.0]}).mean()
    neg = model.run(sampled={"marker": [0.0]}).mean()
    share = marker.mean()
    row = micro[(micro.strategy == "usual") & (micro.outcome == "qaly")].iloc[0]
    expected = share * pos.loc["usual", "qaly"] + (1 - share) * neg.loc["usual", "qaly"]
    assert abs(row["mean"] - expected) < 4 * row.mc_se


def test_history_dependent_risk_matches_an_expanded_cohort() -> None:
    """History: a patient can fall sick only once (risk 0.2 while never sick, 0 after).
    Cohort equivalent: separate 'well before' and 'well after' states."""
    settings = {**THREE_STATE["settings"], "cycles": 12}
    micro_doc = {
        "name": "once",
        "settings": settings,
        "states": [{"name": "well"}, {"name": "sick"}, {"name": "dead", "dead": True}],
        "parameters": {"visits_sick": 0, "p_sick": "0.2 if visits_sick == 0 else 0"},
        "strategies": {"s": {}},
        "transitions": {
            "well": {"well": "C", "sick": "p_sick", "dead": 0.02},
            "sick": {"sick": 0.5, "well": "C", "dead": 0.1},
        },
        "initial": {"well": 1},
        "state_utilities": {"well": 1, "sick": 0.5},
    }
    cohort_doc = {
        **micro_doc,
        "states": [
            {"name": "well_before"},
            {"name": "sick"},
            {"name": "well_after"},
            {"name": "dead", "dead": True},
        ],
        "parameters": {},
        "transitions": {
            "well_before": {"well_before": "C", "sick": 0.2, "dead": 0.02},
            "sick": {"sick": 0.5, "well_after": "C", "dead": 0.1},
            "well_after": {"well_after": "C", "dead": 0.02},
        },
        "initial": {"well_before": 1},
        "state_utilities": {"well_before": 1, "well_after": 1, "sick": 0.5},
    }
    micro = microsimulate(MarkovModel(load_model(micro_doc)), 20_000, seed=3)
    cohort = MarkovModel(load_model(cohort_doc)).run()
    row = micro.summary[micro.summary.outcome == "qaly"].iloc[0]
    assert abs(row["mean"] - cohort.mean().loc["s", "qaly"]) < 4 * row.mc_se
    # nobody is sick twice: sick share never exceeds the single-episode cohort by > 4 SE
    sick_micro = micro.occupancy.sick.to_numpy()
    sick_cohort = cohort.trace.sick.to_numpy()
    assert np.all(np.abs(sick_micro - sick_cohort) < 4 * np.sqrt(0.25 / 20_000) + 1e-12)


def test_microsimulation_is_reproducible() -> None:
    model = MarkovModel(load_model(THREE_STATE))
    a = microsimulate(model, 500, seed=1).patients
    b = microsimulate(model, 500, seed=1).patients
    assert a.equals(b)


def test_history_variables_only_in_transitions() -> None:
    params = {**THREE_STATE["parameters"], "visits_sick": 0, "c_sick": "1000 * (1 + visits_sick)"}
    model = MarkovModel(load_model(three_state(parameters=params)))
    with pytest.raises(ValueError, match="depends on a history variable"):
        microsimulate(model, 10, seed=1)
