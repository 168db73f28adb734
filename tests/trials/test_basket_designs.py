"""Independent (Simon per basket) and Bayesian hierarchical (Berry et al. 2013) basket designs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import expit, logit
from scipy.stats import binom, norm

from permedhub.trials.basket import (
    BhmPrior,
    bhm_design,
    bhm_posterior_probabilities,
    independent_baskets,
)
from permedhub.trials.errors import TrialInputError


def test_independent_simon_baskets_reproduce_simon_1989_and_multiply_errors() -> None:
    # Simon (1989, Control Clin Trials 10:1), Table 1: p0 = 0.20, p1 = 0.40, alpha = 0.05,
    # beta = 0.20: optimal design 3/13, 12/43 with E(N | p0) = 20.6 and PET(p0) = 0.75.
    result = independent_baskets([0.2, 0.2, 0.4], p0=0.2, p1=0.4, alpha=0.05, beta=0.2)
    simon = result.details["simon"]
    assert (simon["r1"], simon["n1"], simon["r"], simon["n"]) == (3, 13, 12, 43)
    assert result.expected_sample_size[0] == pytest.approx(20.6, abs=0.05)
    alpha_each = result.rejection_probabilities[0]
    assert alpha_each <= 0.05
    # Independent baskets: FWER over the two null baskets is 1 - (1 - alpha)^2.
    assert result.fwer == pytest.approx(1 - (1 - alpha_each) ** 2, rel=1e-12)
    assert result.rejection_probabilities[2] >= 0.8


def test_single_stage_exact_binomial_baskets() -> None:
    result = independent_baskets([0.2, 0.5], p0=0.2, p1=0.4, criterion="single_stage", n=30)
    r = result.details["r"]
    # the smallest r with P(X > r | n = 30, p0 = 0.2) <= 0.05 (r = 10: 0.0256; r = 9: 0.0611)
    assert r == 10
    assert result.rejection_probabilities == pytest.approx(binom.sf(10, 30, [0.2, 0.5]))


def test_bhm_posterior_in_the_full_pooling_limit_matches_one_dimensional_quadrature() -> None:
    """With sigma^2 forced near 0 all baskets share theta = mu ~ N(0, 4): the posterior tail
    is a one-dimensional integral."""
    prior = BhmPrior(mu_mean=0.0, mu_var=4.0, shape=50.0, scale=50e-6)
    responses, n, p0 = np.array([5, 7, 3]), 20, 0.2
    probabilities = bhm_posterior_probabilities(responses[None, :], n, [p0] * 3, prior)[0]

    def density(mu: float) -> float:
        return float(norm.pdf(mu, 0, 2) * np.prod(binom.pmf(responses, n, expit(mu + logit(p0)))))

    exact = quad(density, 0, 10)[0] / quad(density, -10, 10)[0]
    assert probabilities == pytest.approx([exact] * 3, abs=1e-3)


def test_bhm_posterior_matches_importance_sampling_under_a_proper_prior() -> None:
    prior = BhmPrior(mu_mean=0.0, mu_var=1.0, shape=2.0, scale=0.5)
    responses, n, p0 = np.array([5, 7, 3]), 20, 0.2
    grid = bhm_posterior_probabilities(responses[None, :], n, [p0] * 3, prior)[0]
    rng = np.random.default_rng(2013)
    draws = 400_000
    mu = rng.normal(0, 1, draws)
    sigma2 = 1 / rng.gamma(2.0, 1 / 0.5, draws)
    theta = mu[:, None] + np.sqrt(sigma2)[:, None] * rng.standard_normal((draws, 3))
    weight = np.prod(binom.pmf(responses, n, expit(theta + logit(p0))), axis=1)
    estimate = (weight[:, None] * (theta > 0)).sum(axis=0) / weight.sum()
    effective = weight.sum() ** 2 / (weight**2).sum()
    se = np.sqrt(estimate * (1 - estimate) / effective)
    assert np.all(np.abs(grid - estimate) < 4 * se + 2e-3)


def test_bhm_borrowing_raises_power_and_error_relative_to_separate_analyses() -> None:
    result = bhm_design([0.2, 0.2, 0.2, 0.4], 0.2, 20, threshold=0.975, n_sim=2_500, seed=5)
    assert not result.exact and all(se > 0 for se in result.rejection_se)
    assert result.fwer_se == pytest.approx(
        np.sqrt(result.fwer * (1 - result.fwer) / 2500), rel=1e-3
    )
    # Borrowing from three null baskets pulls the active basket towards them: with 20 patients
    # its power stays far from 1, and the null baskets pick up some of its signal.
    assert 0.1 < result.rejection_probabilities[3] < 0.6
    assert result.fwer > 0.0


def test_bhm_design_is_reproducible_from_its_seed_with_any_worker_count() -> None:
    serial = bhm_design([0.2, 0.45], 0.2, 15, n_sim=3_000, seed=3, block_size=1_000)
    parallel = bhm_design([0.2, 0.45], 0.2, 15, n_sim=3_000, seed=3, block_size=1_000, workers=2)
    assert serial.to_dict() == parallel.to_dict()
    other_seed = bhm_design([0.2, 0.45], 0.2, 15, n_sim=3_000, seed=4, block_size=1_000)
    assert other_seed.rejection_probabilities != serial.rejection_probabilities


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: independent_baskets([0.2, -0.1], 0.2, 0.4), "response_rates[1]"),
        (lambda: independent_baskets([0.2], 0.2, 0.4, alpha=0.6), "alpha"),
        (lambda: independent_baskets([0.2], 0.2, 0.4, criterion="best"), "criterion"),  # type: ignore[arg-type]
        (lambda: bhm_design([0.2], 0.2, 20, threshold=1.5), "threshold"),
        (lambda: bhm_design([0.2], 0.2, 20, n_sim=0), "n_sim"),
        (lambda: BhmPrior(mu_var=-1.0), "mu_var"),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(TrialInputError) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field
