"""Reproduction of the two Markov models of Briggs, Claxton & Sculpher (2006).

Decision Modelling for Health Economic Evaluation, Oxford University Press:
* Exercise 2.5, the HIV/AIDS model of Chancellor et al. (Pharmacoeconomics 1997;12:54-66);
* Exercise 3.5, the total hip replacement (THR) model.
"""

from __future__ import annotations

import numpy as np
import pytest

from permedhub.hecon.markov import MarkovModel


def test_hiv_monotherapy_and_combination_match_exercise_2_5(hiv_model) -> None:
    """Briggs et al. 2006, Exercise 2.5 solution workbook (Tables 2.3/2.4):
    discounted cost monotherapy £44,663, combination £50,602, ICER £6,276 per life-year gained;
    undiscounted life-years 7.991 (workbook; the book's text rounds to 7.996, a known erratum
    also noted by rdecision's test-model-AZT.R) and 8.937. Costs per patient, 6% discounting
    from the first cycle, no half-cycle correction."""
    result = MarkovModel(hiv_model).run().mean()
    mono, comb = result.loc["monotherapy"], result.loc["combination"]
    assert round(mono["cost"]) == 44_663
    assert round(comb["cost"]) == 50_602
    assert round(mono["ly"], 3) == 7.991
    assert round(comb["ly"], 3) == 8.937
    icer = (comb["cost"] - mono["cost"]) / (comb["ly"] - mono["ly"])
    assert round(icer) == 6_276
    # The unrounded values that the workbook computes (checked by hand: 1000-patient trace)
    assert mono["cost"] == pytest.approx(44_663.4536, abs=1e-3)
    assert comb["cost"] == pytest.approx(50_601.6513, abs=1e-3)


def test_hiv_transition_matrix_matches_table_2_2(hiv_model) -> None:
    """Briggs Table 2.2: monotherapy row A = (0.721, 0.202, 0.067, 0.010); the first-cycle
    trace of a cohort starting in A equals that row."""
    trace = MarkovModel(hiv_model).run().trace
    first = trace[(trace.strategy == "monotherapy") & (trace.cycle == 1)][["A", "B", "C", "D"]]
    np.testing.assert_allclose(first.to_numpy()[0], [0.721, 0.202, 0.067, 0.010], atol=5e-4)
    comb = trace[(trace.strategy == "combination") & (trace.cycle == 1)][["A", "B", "C", "D"]]
    # combination: off-diagonal x 0.509 (Table 2.2: 0.858, 0.103, 0.034, 0.005)
    np.testing.assert_allclose(comb.to_numpy()[0], [0.858, 0.103, 0.034, 0.005], atol=5e-4)


def _thr_reference(np1: bool) -> tuple[float, float]:
    """Independent scalar re-implementation of the Exercise 3.5 workbook formulas."""
    female = {35: 0.00099, 45: 0.0026, 55: 0.0067, 65: 0.0193, 75: 0.0535, 85: 0.1548}
    lam = np.exp(-5.490935 + -0.0367022 * 60 + (-1.344474 if np1 else 0.0))
    gam = np.exp(0.3740968)
    m = np.array([1.0, 0, 0, 0, 0])
    cost = 579.0 if np1 else 394.0
    qaly = 0.0
    u = np.array([0, 0.85, 0.30, 0.75, 0])
    for t in range(1, 61):
        age = 60 + t
        mr = female[max(k for k in female if k <= age)]
        rev = 1 - np.exp(lam * ((t - 1) ** gam - t**gam))
        p = np.zeros((5, 5))
        p[0, 1], p[0, 4] = 0.98, 0.02
        p[1, 1], p[1, 2], p[1, 4] = 1 - rev - mr, rev, mr
        p[2, 3], p[2, 4] = 1 - 0.02 - mr, 0.02 + mr
        p[3, 2], p[3, 3], p[3, 4] = 0.04, 1 - 0.04 - mr, mr
        p[4, 4] = 1
        m = m @ p
        cost += m[2] * 5294 / 1.06**t
        qaly += m @ u / 1.015**t
    return cost, qaly


def test_thr_matches_exercise_3_5(thr_model) -> None:
    """Briggs et al. 2006, Exercise 3.5 (women aged 60, 60 annual cycles, costs 6%, outcomes
    1.5%): the standard prosthesis arm costs £512 per patient as reported in the book. The
    remaining digits (NP1 cost £610, QALYs 14.653 vs 14.698, ICER ~£2,198) could not be checked
    against the printed workbook here; they are asserted against an independent scalar
    re-implementation of the workbook formulas (`_thr_reference`) to 1e-9."""
    result = MarkovModel(thr_model).run().mean()
    assert round(result.loc["standard", "cost"]) == 512
    for name, np1 in (("standard", False), ("np1", True)):
        cost, qaly = _thr_reference(np1)
        assert result.loc[name, "cost"] == pytest.approx(cost, rel=1e-12)
        assert result.loc[name, "qaly"] == pytest.approx(qaly, rel=1e-12)
    icer = (result.loc["np1", "cost"] - result.loc["standard", "cost"]) / (
        result.loc["np1", "qaly"] - result.loc["standard", "qaly"]
    )
    assert 2_150 < icer < 2_250


def test_psa_is_reproducible_and_chunking_invariant(hiv_model) -> None:
    """Same seed => bit-identical draws, whatever the chunk size."""
    model = MarkovModel(hiv_model)
    a = model.run(n_draws=300, seed=7, chunk_size=300).summary
    b = model.run(n_draws=300, seed=7, chunk_size=64).summary
    c = model.run(n_draws=300, seed=8).summary
    assert a.equals(b)
    assert not a.equals(c)


def test_psa_mean_close_to_base_case(hiv_model) -> None:
    """The PSA mean of life-years is close to the deterministic value (Briggs Ex. 4.7 reports
    a probabilistic mean near the deterministic one); tolerance 4 Monte-Carlo SEs."""
    model = MarkovModel(hiv_model)
    psa = model.run(n_draws=2000, seed=1).summary
    base = model.run().mean()
    for strategy in ("monotherapy", "combination"):
        ly = psa.loc[psa.strategy == strategy, "ly"]
        se = ly.std() / np.sqrt(len(ly))
        assert abs(ly.mean() - base.loc[strategy, "ly"]) < 4 * se + 0.02
