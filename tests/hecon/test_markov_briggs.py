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
    # Workbook digits as transcribed in heemod's tests/testthat/test_dmhee.R
    assert mono["cost"] == pytest.approx(44_663.4535637, abs=5e-8)
    assert comb["cost"] == pytest.approx(50_601.6513312, abs=5e-8)
    assert mono["ly"] == pytest.approx(7.9912066, abs=5e-8)
    assert comb["ly"] == pytest.approx(8.9373889, abs=5e-8)
    assert icer == pytest.approx(6_275.95560, abs=5e-6)


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
    """Briggs et al. 2006, Exercise 3.5 solution workbook (women aged 60, 60 annual cycles,
    costs 6%, outcomes 1.5%), digits as transcribed from the Excel model in heemod's
    tests/testthat/test_dmhee.R ("Exactly match THR model"): standard prosthesis cost
    512.434658 and 14.6531896 QALYs; NP1 610.311818 and 14.69770986 QALYs; ICER 2,198.486665.
    Also checked against an independent scalar re-implementation (`_thr_reference`)."""
    result = MarkovModel(thr_model).run().mean()
    assert result.loc["standard", "cost"] == pytest.approx(512.434658, abs=5e-7)
    assert result.loc["standard", "qaly"] == pytest.approx(14.6531896, abs=5e-8)
    assert result.loc["np1", "cost"] == pytest.approx(610.311818, abs=5e-7)
    assert result.loc["np1", "qaly"] == pytest.approx(14.69770986, abs=5e-9)
    icer = (result.loc["np1", "cost"] - result.loc["standard", "cost"]) / (
        result.loc["np1", "qaly"] - result.loc["standard", "qaly"]
    )
    assert icer == pytest.approx(2_198.486665, abs=5e-7)
    for name, np1 in (("standard", False), ("np1", True)):
        cost, qaly = _thr_reference(np1)
        assert result.loc[name, "cost"] == pytest.approx(cost, rel=1e-12)
        assert result.loc[name, "qaly"] == pytest.approx(qaly, rel=1e-12)


def test_thr_trace_matches_the_workbook(thr_model) -> None:
    """Workbook trace of the standard arm, cycles 1-4 (SuccessP, RevisionTHR, SuccessR, Death),
    as transcribed in heemod's test_dmhee.R, to 8 decimals."""
    trace = MarkovModel(thr_model).run().trace
    std = trace[trace.strategy == "standard"].set_index("cycle")
    expected = np.array(
        [
            [0.98000000, 0.0000000, 0.0000000, 0.0200000],
            [0.97265720, 0.0007768, 0.0000000, 0.02656600],
            [0.96516548, 0.00097491, 0.00075606, 0.03310354],
            [0.95757109, 0.00115802, 0.00166964, 0.03960125],
        ]
    )
    got = std.loc[1:4, ["SuccessP", "RevisionTHR", "SuccessR", "Death"]].to_numpy()
    np.testing.assert_allclose(np.round(got, 8), expected, atol=1e-12)


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
