"""The Fujikawa et al. (2020) basket design, computed exactly by enumeration.

Reference values are the exact results of the R package baskexact (L. Baumann), which
enumerates all outcomes like this module does:
* README of github.com/lbau7/baskexact ("Usage": toer / pow with n = 15, epsilon = 1, logbase 2);
* tests/testthat/test-toer.R ("toer works without pruning": proposed designs (i) and (ii) of
  Fujikawa et al. 2020 with n = 24, lambda = 0.99, epsilon = 2, tau = 0 / 0.5);
* tests/testthat/test-weights.R ("weight_fujikawa works": the weights for r = (5, 1, 3));
* tests/testthat/test-ess.R ("ess works": two-stage design (i), p = (0.2, 0.2, 0.5));
* the CRAN vignette "Reproduce Fujikawa" (inst/doc/v3_Reproduce_Fujikawa.R): basket_test for
  r = (1, 5, 7) and the two-stage designs (i) and (ii) with n1 = 15 and a posterior-predictive
  interim (futility 0.1, efficacy 0.9).
Fujikawa et al.'s own figures are simulated (e.g. FWER 0.035 vs exact 0.0360) and are
therefore not the reference; baskexact's exact values are reproduced to all printed digits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta as beta_distribution
from scipy.stats import binom

from permedhub.trials.basket import (
    FujikawaSettings,
    calibrate_lambda,
    fujikawa_design,
    fujikawa_posterior,
)
from permedhub.trials.errors import TrialInputError

PRINTED = 1e-7  # baskexact prints 7 significant digits


def test_weights_from_jensen_shannon_divergence() -> None:
    settings = FujikawaSettings(epsilon=2, tau=0, logbase=math.e)
    weights = fujikawa_posterior([5, 1, 3], 15, 0.2, settings)["weights"]
    assert [weights[0, 1], weights[0, 2], weights[1, 2]] == pytest.approx(
        [0.3206983, 0.7493639, 0.6509846], abs=PRINTED
    )


def test_single_analysis_matches_basket_test_of_the_vignette() -> None:
    settings = FujikawaSettings(lambda_=0.99, epsilon=2, tau=0.5, logbase=math.e)
    result = fujikawa_posterior([1, 5, 7], 15, 0.2, settings)
    assert result["weights"][1, 2] == pytest.approx(0.7832585, abs=PRINTED)
    assert result["weights"][0, 1] == 0.0  # below tau = 0.5: no borrowing
    assert result["shape1"] == pytest.approx([2, 12.26607, 12.69955], abs=1e-5)
    assert result["shape2"] == pytest.approx([15, 18.04933, 17.61584], abs=1e-5)
    assert result["posterior_probability"] == pytest.approx(
        [0.1407375, 0.9942795, 0.9965258], abs=PRINTED
    )
    assert result["reject"].tolist() == [False, True, True]


def test_readme_type_i_error_and_power() -> None:
    toer = fujikawa_design(
        [0.2, 0.2, 0.2], 0.2, 15, FujikawaSettings(lambda_=0.99, epsilon=1, tau=0, logbase=2)
    )
    assert toer.rejection_probabilities == pytest.approx([0.02533905] * 3, abs=PRINTED)
    assert toer.fwer == pytest.approx(0.03845609, abs=PRINTED)
    power = fujikawa_design(
        [0.5, 0.5, 0.5], 0.2, 15, FujikawaSettings(lambda_=0.9942, epsilon=1, tau=0, logbase=2)
    )
    assert power.rejection_probabilities == pytest.approx([0.9532226] * 3, abs=PRINTED)
    assert power.any_correct_rejection == pytest.approx(0.9871411, abs=PRINTED)
    assert power.fwer == 0.0  # no true null among the baskets


@pytest.mark.parametrize(
    ("tau", "basketwise", "fwer"),
    [(0.0, 0.02158174, 0.03600149), (0.5, 0.03239555, 0.06315308)],
)
def test_single_stage_designs_i_and_ii_of_fujikawa(
    tau: float, basketwise: float, fwer: float
) -> None:
    result = fujikawa_design([0.2] * 3, 0.2, 24, FujikawaSettings(lambda_=0.99, epsilon=2, tau=tau))
    assert result.rejection_probabilities == pytest.approx([basketwise] * 3, abs=PRINTED)
    assert result.fwer == pytest.approx(fwer, abs=PRINTED)


@pytest.mark.parametrize(
    ("tau", "basketwise", "fwer", "ess"),
    [(0.0, 0.01703198, 0.03722851, 16.06847), (0.5, 0.02175429, 0.04955128, 16.22526)],
)
def test_two_stage_designs_i_and_ii_with_predictive_interim(
    tau: float, basketwise: float, fwer: float, ess: float
) -> None:
    result = fujikawa_design(
        [0.2] * 3,
        0.2,
        24,
        FujikawaSettings(lambda_=0.99, epsilon=2, tau=tau),
        n1=15,
        interim="postpred",
        futility=0.1,
        efficacy=0.9,
    )
    assert result.rejection_probabilities == pytest.approx([basketwise] * 3, abs=PRINTED)
    assert result.fwer == pytest.approx(fwer, abs=PRINTED)
    assert result.expected_sample_size == pytest.approx([ess] * 3, abs=1e-5)


def test_two_stage_expected_sample_size_with_one_active_basket() -> None:
    result = fujikawa_design(
        [0.2, 0.2, 0.5], 0.2, 24, FujikawaSettings(lambda_=0.99, epsilon=2, tau=0), n1=15
    )
    assert result.expected_sample_size == pytest.approx([16.48675, 16.48675, 18.63614], abs=1e-5)


@pytest.mark.parametrize("borrowing", ["fujikawa", "power_prior"])
def test_enumeration_matches_a_brute_force_loop_for_two_baskets(borrowing: str) -> None:
    """A huge epsilon sends every weight between different outcomes to 0 and leaves weight 1
    between equal outcomes: an outcome-by-outcome loop then has a closed form to compare."""
    settings = FujikawaSettings(lambda_=0.95, epsilon=1e9, borrowing=borrowing)  # type: ignore[arg-type]
    rates, n, p0 = [0.2, 0.35], 20, 0.2
    rejection = np.zeros(2)
    for r1 in range(n + 1):
        for r2 in range(n + 1):
            probability = binom.pmf(r1, n, rates[0]) * binom.pmf(r2, n, rates[1])
            for basket, r in enumerate((r1, r2)):
                shared = 2 if r1 == r2 else 1
                if borrowing == "fujikawa":
                    a, b = shared * (1 + r), shared * (1 + n - r)
                else:
                    a, b = 1 + shared * r, 1 + shared * (n - r)
                if beta_distribution.sf(p0, a, b) >= 0.95:
                    rejection[basket] += probability
    result = fujikawa_design(rates, p0, n, settings)
    assert result.rejection_probabilities == pytest.approx(rejection, abs=1e-12)


def test_power_prior_shares_data_but_not_the_prior() -> None:
    fujikawa = fujikawa_posterior([4, 4, 4], 15, 0.2, FujikawaSettings(borrowing="fujikawa"))
    power_prior = fujikawa_posterior([4, 4, 4], 15, 0.2, FujikawaSettings(borrowing="power_prior"))
    # Equal outcomes -> weight 1: Fujikawa pools 3 x (1 + 4), power prior 1 + 3 x 4.
    assert fujikawa["shape1"] == pytest.approx([15, 15, 15])
    assert power_prior["shape1"] == pytest.approx([13, 13, 13])
    assert power_prior["shape2"] == pytest.approx([1 + 33] * 3)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: fujikawa_design([0.2, 1.2], 0.2, 20), "response_rates[1]"),
        (lambda: fujikawa_design([0.2, 0.3], 0.2, -5), "n"),
        (lambda: fujikawa_design([0.2, 0.3], 0.2, 20, n1=20), "n1"),
        (lambda: FujikawaSettings(lambda_=1.0), "lambda"),
        (lambda: FujikawaSettings(tau=1.0), "tau"),
        (lambda: FujikawaSettings(borrowing="magic"), "borrowing"),  # type: ignore[arg-type]
        (lambda: fujikawa_design([0.2], 0.0, 20), "p0[0]"),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(TrialInputError) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


def test_lambda_calibrated_to_the_fwer_matches_adjust_lambda_of_baskexact() -> None:
    # baskexact README, adjust_lambda(alpha = 0.025, n = 15, epsilon = 1, tau = 0, logbase = 2,
    # prec_digits = 4): lambda = 0.9942 with a type 1 error rate of 0.02451947.
    settings = FujikawaSettings(epsilon=1, tau=0, logbase=2)
    cutoff, fwer = calibrate_lambda(0.025, 3, 0.2, 15, settings, digits=4)
    assert cutoff == 0.9942
    assert fwer == pytest.approx(0.02451947, abs=PRINTED)
