"""PSA distributions: moments, exact Dirichlet sums, reproducibility, impossible parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permedhub.hecon import distributions as d
from permedhub.hecon.errors import DistributionError

RNG_SEED = 20240601


@settings(deadline=None)  # timing varies on a shared machine
@given(alpha=st.lists(st.floats(0.05, 2000), min_size=2, max_size=8), seed=st.integers(0, 10**6))
def test_dirichlet_draws_sum_to_exactly_one(alpha: list[float], seed: int) -> None:
    draws = d.Dirichlet(tuple(alpha)).sample(50, d.make_rng(seed))
    assert np.all(draws >= 0)
    assert np.all(draws.sum(axis=1) == 1.0)


def test_method_of_moments_recovers_mean_and_se() -> None:
    """Briggs et al. 2006, section 4.3: beta/gamma/lognormal fitted from mean and SE."""
    rng = d.make_rng(RNG_SEED)
    n = 200_000
    for dist, mean, se in (
        (d.beta_from_mean_se(0.85, 0.03), 0.85, 0.03),
        (d.gamma_from_mean_se(5294, 1487), 5294, 1487),
        (d.lognormal_from_mean_se(0.509, 0.09), 0.509, 0.09),
    ):
        x = dist.sample(n, rng)
        assert x.mean() == pytest.approx(mean, rel=0.01)
        assert x.std() == pytest.approx(se, rel=0.02)
        assert dist.mean == pytest.approx(mean)


def test_lognormal_from_ci_matches_briggs_hiv_relative_risk() -> None:
    """RR 0.509 (95% CI 0.365-0.710), Briggs Ex. 4.7: sdlog = (ln .710 - ln .365)/3.92
    = 0.16974."""
    ln = d.lognormal_from_ci(0.509, 0.365, 0.710)
    assert ln.meanlog == pytest.approx(np.log(0.509))
    assert ln.sdlog == pytest.approx(0.169737, abs=1e-6)


def test_multivariate_normal_reproduces_correlation() -> None:
    cov = ((1.0, 0.8), (0.8, 1.0))
    x = d.MultivariateNormal((0.0, 1.0), cov).sample(50_000, d.make_rng(1))
    assert np.corrcoef(x.T)[0, 1] == pytest.approx(0.8, abs=0.01)
    assert x.mean(axis=0) == pytest.approx([0, 1], abs=0.02)


def test_bootstrap_resamples_rows_and_keeps_pairs() -> None:
    table = pd.DataFrame({"cost": [100.0, 200, 300, 400], "qaly": [1.0, 2, 3, 4]})
    x = d.Bootstrap(table).sample(1000, d.make_rng(3))
    # cost and qaly are resampled together (row-wise), so cost = 100 * qaly in every draw
    np.testing.assert_allclose(x[:, 0], 100 * x[:, 1])
    assert x[:, 0].mean() == pytest.approx(250, rel=0.03)


def test_triangular_and_fixed() -> None:
    rng = d.make_rng(5)
    tri = d.Triangular(0, 1, 5)
    assert tri.sample(100_000, rng).mean() == pytest.approx(2, rel=0.01)
    assert np.all(d.Fixed(3.5).sample(10, rng) == 3.5)


def test_sampling_is_reproducible_and_streams_independent_of_later_additions() -> None:
    a = d.sample_all([("p", d.Beta(2, 3)), ("c", d.Gamma(2, 10))], 100, seed=11)
    b = d.sample_all([("p", d.Beta(2, 3)), ("c", d.Gamma(2, 10)), ("x", d.Normal(0, 1))], 100, 11)
    assert np.array_equal(a["p"], b["p"]) and np.array_equal(a["c"], b["c"])


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: d.Beta(-1, 2), "alpha must be"),
        (lambda: d.Gamma(2, 0), "scale must be"),
        (lambda: d.Normal(0, -1), "sd must be"),
        (lambda: d.LogNormal(0, 0), "sdlog must be"),
        (lambda: d.Triangular(3, 1, 2), "low <= mode <= high"),
        (lambda: d.Dirichlet((1.0, 0.0)), r"alpha\[1\]"),
        (lambda: d.beta_from_mean_se(1.2, 0.1), "mean must be in"),
        (lambda: d.beta_from_mean_se(0.5, 0.6), "too large"),
        (lambda: d.MultivariateNormal((0, 0), ((1, 2), (2, 1))), "positive semi-definite"),
        (lambda: d.MultivariateNormal((0, 0), ((1, 0), (0.5, 1))), "not symmetric"),
        (lambda: d.Fixed(float("nan")), "finite"),
    ],
)
def test_impossible_parameters_are_rejected(factory, match: str) -> None:
    with pytest.raises(DistributionError, match=match):
        factory()
