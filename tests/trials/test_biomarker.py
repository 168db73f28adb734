"""Biomarker designs: closed-form special cases and consistency with the fixed-design formulas.

References:
  Simon R, Maitournam A (2004). Evaluating the efficiency of targeted designs for randomized
  clinical trials. Clin Cancer Res 10:6759-6763; Maitournam A, Simon R (2005). On the
  efficiency of targeted clinical trials. Stat Med 24:329-339. With a perfect assay and no
  effect in marker-negative patients the untargeted design needs about 1/gamma^2 times as many
  randomised patients (gamma = prevalence), i.e. 1/gamma times as many as the targeted design
  screens; an imperfect assay dilutes the targeted effect to PPV * delta+ + (1 - PPV) * delta-.
  No numerical table of these papers is reproduced here (not available to us); the checks are
  the papers' closed-form relations and the two-sample formulas.
"""

from __future__ import annotations

import math

import pytest
from scipy.special import ndtri

from permedhub.trials.biomarker import (
    Assay,
    binary_outcomes,
    biomarker_strategy,
    continuous_outcomes,
    marker_stratified_interaction,
    targeted_vs_untargeted,
)
from permedhub.trials.errors import TrialInputError
from permedhub.trials.fixed import binary_sample_size

Z = float(ndtri(0.975) + ndtri(0.8))


@pytest.mark.parametrize("prevalence", [0.1, 0.25, 0.5, 0.8])
def test_perfect_assay_no_effect_in_marker_negative_gives_one_over_prevalence_squared(
    prevalence: float,
) -> None:
    # A tiny effect relative to the SD makes the mixture variance negligible.
    outcomes = continuous_outcomes(effect_pos=0.001, effect_neg=0.0, sd=1.0)
    comparison = targeted_vs_untargeted(outcomes, Assay(prevalence))
    assert comparison.ratio_randomised == pytest.approx(1 / prevalence**2, rel=1e-6)
    assert comparison.ratio_screened == pytest.approx(1 / prevalence, rel=1e-6)


def test_untargeted_size_includes_the_mixture_variance() -> None:
    gamma, delta, sd = 0.3, 0.5, 1.0
    comparison = targeted_vs_untargeted(continuous_outcomes(delta, 0.0, sd), Assay(gamma))
    treated_variance = sd**2 + gamma * (1 - gamma) * delta**2
    expected_per_arm = Z**2 * (sd**2 + treated_variance) / (gamma * delta) ** 2
    assert comparison.untargeted.n_randomised_exact == pytest.approx(2 * expected_per_arm)
    assert comparison.targeted.n_randomised_exact == pytest.approx(2 * Z**2 * 2 / delta**2)


def test_imperfect_assay_dilutes_the_targeted_effect_by_the_ppv() -> None:
    assay = Assay(prevalence=0.2, sensitivity=0.9, specificity=0.85)
    ppv = 0.2 * 0.9 / (0.2 * 0.9 + 0.8 * 0.15)
    assert assay.ppv == pytest.approx(ppv)
    comparison = targeted_vs_untargeted(continuous_outcomes(1.0, 0.2, 2.0), assay)
    assert comparison.targeted.effect == pytest.approx(ppv * 1.0 + (1 - ppv) * 0.2)
    assert comparison.targeted.n_screened == pytest.approx(
        comparison.targeted.n_randomised_exact / assay.test_positive_rate
    )
    perfect = targeted_vs_untargeted(continuous_outcomes(1.0, 0.2, 2.0), Assay(0.2))
    assert comparison.ratio_randomised < perfect.ratio_randomised


def test_binary_targeted_design_equals_the_unpooled_two_proportion_size() -> None:
    outcomes = binary_outcomes(0.2, 0.2, 0.45, 0.25)
    comparison = targeted_vs_untargeted(outcomes, Assay(0.4))
    fixed = binary_sample_size(0.2, 0.45, variance="unpooled")
    assert comparison.targeted.n_randomised_exact == pytest.approx(
        2 * fixed.inputs["n_control_exact"]
    )
    # Untargeted: mixture rates 0.2 vs 0.4*0.45 + 0.6*0.25 = 0.33, binomial variances.
    untargeted = binary_sample_size(0.2, 0.33, variance="unpooled")
    assert comparison.untargeted.n_randomised_exact == pytest.approx(
        2 * untargeted.inputs["n_control_exact"]
    )


def test_interaction_design_matches_the_four_cell_variance_formula() -> None:
    pi, delta_pos, delta_neg, sd = 0.4, 0.6, 0.1, 1.0
    design = marker_stratified_interaction(continuous_outcomes(delta_pos, delta_neg, sd), Assay(pi))
    expected = Z**2 * 4 * sd**2 / (pi * (1 - pi) * (delta_pos - delta_neg) ** 2)
    assert design.n_randomised_exact == pytest.approx(expected)
    assert design.n_screened == pytest.approx(design.n_randomised_exact)
    # Misclassification attenuates the observed interaction by PPV - (1 - NPV).
    noisy = marker_stratified_interaction(
        continuous_outcomes(delta_pos, delta_neg, sd), Assay(pi, 0.8, 0.9)
    )
    attenuation = noisy.details["attenuation"]
    assert noisy.effect == pytest.approx(attenuation * (delta_pos - delta_neg))
    assert noisy.n_randomised_exact > design.n_randomised_exact


def test_strategy_design_effect_is_diluted_by_the_test_positive_rate() -> None:
    gamma, delta = 0.3, 0.5
    outcomes = continuous_outcomes(delta, 0.0, 1.0)
    strategy = biomarker_strategy(outcomes, Assay(gamma))
    assert strategy.effect == pytest.approx(gamma * delta)
    assert strategy.n_screened == pytest.approx(strategy.n_randomised_exact / 2)
    # Marker assessed in both arms: compare test-positive patients only.
    assessed = biomarker_strategy(outcomes, Assay(gamma), marker_in_control=True)
    assert assessed.effect == pytest.approx(delta)
    assert assessed.n_randomised_exact < strategy.n_randomised_exact
    assert assessed.n_screened == pytest.approx(assessed.n_randomised_exact)
    # Randomised non-marker arm: the strategy effect shrinks to gamma*delta - gamma*delta/2.
    randomised = biomarker_strategy(outcomes, Assay(gamma), non_marker_arm="randomised")
    assert randomised.effect == pytest.approx(gamma * delta / 2)
    assert randomised.n_randomised_exact > strategy.n_randomised_exact


def test_strategy_design_is_no_more_efficient_than_randomising_everyone() -> None:
    # Freidlin, McShane & Korn (2010, JNCI 102:152): with no benefit in marker-negative patients
    # the strategy-vs-control comparison estimates the same diluted effect as randomise-all
    # (same size), and a randomised non-marker arm halves the effect again.
    outcomes = continuous_outcomes(0.5, 0.0, 1.0)
    assay = Assay(0.3)
    strategy = biomarker_strategy(outcomes, assay)
    untargeted = targeted_vs_untargeted(outcomes, assay).untargeted
    assert strategy.n_randomised_exact == pytest.approx(untargeted.n_randomised_exact)
    assert strategy.n_screened < untargeted.n_screened  # only the strategy arm is assessed
    randomised = biomarker_strategy(outcomes, assay, non_marker_arm="randomised")
    assert randomised.n_randomised_exact > 3 * untargeted.n_randomised_exact


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: Assay(0.0), "prevalence"),
        (lambda: Assay(1.2), "prevalence"),
        (lambda: Assay(0.3, sensitivity=1.5), "sensitivity"),
        (lambda: Assay(0.3, sensitivity=0.4, specificity=0.5), "specificity"),
        (lambda: continuous_outcomes(0.5, 0.0, 0.0), "sd"),
        (lambda: continuous_outcomes(math.inf, 0.0, 1.0), "effect_pos"),
        (lambda: binary_outcomes(0.2, 0.2, 1.0, 0.3), "p_treatment_pos"),
        (
            lambda: targeted_vs_untargeted(continuous_outcomes(0.0, 0.0, 1.0), Assay(0.3)),
            "effect in test-positive patients",
        ),
        (
            lambda: marker_stratified_interaction(continuous_outcomes(0.3, 0.3, 1.0), Assay(0.3)),
            "effect_neg",
        ),
        (
            lambda: targeted_vs_untargeted(continuous_outcomes(0.3, 0, 1), Assay(0.3), alpha=0.6),
            "alpha",
        ),
        (
            lambda: biomarker_strategy(
                continuous_outcomes(0.3, 0, 1),
                Assay(0.3),
                non_marker_arm="other",  # type: ignore[arg-type]
            ),
            "non_marker_arm",
        ),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(TrialInputError) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field
