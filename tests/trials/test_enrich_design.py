"""Adaptive enrichment: intersection tests, selection rules and bad input.

References: Simes (1986, Biometrika 73:751) for the Simes test; Spiessens & Debois (2010,
Contemp Clin Trials 31:647) for the bivariate-normal intersection test of H_S ∩ H_F with
correlation sqrt(prevalence); Šidák (1967) for the rho = 0 limit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from permedhub.trials.enrichment import (
    EnrichmentDesign,
    NormalScenario,
    SampleSizeReestimation,
    bivariate_normal_diagonal_cdf,
    intersection_p_value,
    select_populations,
    spiessens_debois_critical_value,
)
from permedhub.trials.errors import TrialInputError


@pytest.mark.parametrize("z", [-1.0, 0.0, 1.5, 2.24, 3.5])
@pytest.mark.parametrize("rho", [0.0, 0.3, math.sqrt(0.5), 0.95, 0.999])
def test_bivariate_diagonal_cdf_matches_scipy_genz(z: float, rho: float) -> None:
    reference = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([z, z])
    assert float(bivariate_normal_diagonal_cdf(z, rho)) == pytest.approx(reference, abs=2e-6)


def test_spiessens_debois_bound_lies_between_sidak_and_unadjusted() -> None:
    alpha = 0.025
    sidak = norm.isf(1 - math.sqrt(1 - alpha))  # rho = 0: independent statistics
    assert spiessens_debois_critical_value(alpha, 0.0) == pytest.approx(sidak, abs=1e-10)
    bound = spiessens_debois_critical_value(alpha, math.sqrt(0.5))
    assert norm.isf(alpha) < bound < sidak
    # The defining property: P(max(Z_S, Z_F) >= c) = alpha under the null.
    assert 1 - float(bivariate_normal_diagonal_cdf(bound, math.sqrt(0.5))) == pytest.approx(alpha)


def test_spiessens_debois_stagewise_p_value_is_uniform_under_the_null() -> None:
    rho = math.sqrt(0.4)
    rng = np.random.default_rng(7)
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=200_000)
    p = intersection_p_value(
        "spiessens_debois", norm.sf(z[:, 0]), norm.sf(z[:, 1]), np.full(len(z), rho)
    )
    for level in (0.01, 0.025, 0.1, 0.5):
        se = math.sqrt(level * (1 - level) / len(z))
        assert abs(np.mean(p <= level) - level) < 4 * se


def test_simes_and_bonferroni_formulas() -> None:
    p_s, p_f, rho = np.array([0.01, 0.2]), np.array([0.04, 0.015]), np.zeros(2)
    # Simes: min(2 min p, max p); Bonferroni: 2 min p.
    assert intersection_p_value("simes", p_s, p_f, rho).tolist() == pytest.approx([0.02, 0.03])
    assert intersection_p_value("bonferroni", p_s, p_f, rho).tolist() == pytest.approx([0.02, 0.03])
    assert intersection_p_value("simes", np.array([0.02]), np.array([0.03]), rho[:1])[
        0
    ] == pytest.approx(0.03)
    assert intersection_p_value("bonferroni", np.array([0.02]), np.array([0.03]), rho[:1])[
        0
    ] == pytest.approx(0.04)


def _design(**changes: object) -> EnrichmentDesign:
    settings: dict[str, object] = {"stage_sample_sizes": (100, 100), "prevalences": (0.4, 0.6)}
    settings.update(changes)
    return EnrichmentDesign(**settings)  # type: ignore[arg-type]


def test_selection_rules() -> None:
    measures = np.array([[0.5, 0.3], [0.30, 0.35], [-0.2, -0.1], [0.1, 0.4]])
    active = np.ones((4, 2), dtype=bool)
    best = select_populations(_design(selection="best"), measures, active)
    assert best.tolist() == [[True, False], [False, True], [False, True], [False, True]]
    # epsilon: both go on when the standardised effects differ by at most epsilon.
    eps = select_populations(_design(selection="epsilon", epsilon=0.1), measures, active)
    assert eps.tolist() == [[True, False], [True, True], [True, True], [False, True]]
    # threshold: every population whose effect exceeds the threshold (none -> trial stops).
    thr = select_populations(_design(selection="threshold", threshold=0.2), measures, active)
    assert thr.tolist() == [[True, True], [True, True], [False, False], [False, True]]

    # a user rule: S whenever its effect is positive, otherwise F.
    def prefer_s(m: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.stack([m[:, 0] > 0, m[:, 0] <= 0], axis=1)

    user = select_populations(_design(selection=prefer_s), measures, active)
    assert user.tolist() == [[True, False], [True, False], [False, True], [True, False]]
    # an inactive (dropped) population is never selected again.
    dropped = np.array([[False, True]] * 4)
    assert not select_populations(_design(selection="all"), measures, dropped)[:, 0].any()


def test_default_bounds_have_no_early_efficacy_and_weights_are_prespecified() -> None:
    design = _design(stage_sample_sizes=(100, 300))
    assert design.bounds()[0] == math.inf
    assert design.bounds()[1] == pytest.approx(1.959964, abs=1e-6)
    assert design.combination_weights() == pytest.approx([0.5, math.sqrt(0.75)])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prevalences": (0.4, 0.5)}, "prevalences"),
        ({"prevalences": (1.2, -0.2)}, "prevalences[0]"),
        ({"alpha": 0.5}, "alpha"),
        ({"alpha": 0.0}, "alpha"),
        ({"selection": "bestest"}, "selection"),
        ({"intersection_test": "holm"}, "intersection_test"),
        ({"stage_sample_sizes": (100, -10)}, "stage_sample_sizes[1]"),
        ({"stage_sample_sizes": (100,)}, "stage_sample_sizes"),
        ({"epsilon": -0.1}, "epsilon"),
        ({"weights": (1.0, 0.0)}, "weights[1]"),
        ({"stage_sample_sizes": (50, 50, 50), "ssr": SampleSizeReestimation()}, "ssr"),
    ],
)
def test_bad_design_input_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(TrialInputError) as error:
        _design(**changes)
    assert error.value.field == field
    assert "expected" in str(error.value)


def test_bad_scenario_and_ssr_input_names_the_field() -> None:
    with pytest.raises(TrialInputError, match="sd_s"):
        NormalScenario(0.1, 0.1, sd_s=-1.0)
    with pytest.raises(TrialInputError, match="target_conditional_power"):
        SampleSizeReestimation(target_conditional_power=1.5)
    with pytest.raises(TrialInputError, match="max_stage_size"):
        SampleSizeReestimation(min_stage_size=100, max_stage_size=50)
