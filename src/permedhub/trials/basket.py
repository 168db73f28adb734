"""Basket trials: one experimental treatment, k baskets (tumour types sharing a marker).

Designs, each reporting per-basket rejection probabilities (type I error where the basket's
true response rate equals p0, power elsewhere), the family-wise error rate over the baskets
whose null is true, the probability of at least one correct rejection and the expected sample
size per basket:

* `independent_baskets`: every basket runs its own Simon two-stage design (found by
  `permedhub.trials.simon`) or an exact single-stage binomial test; exact.
* `fujikawa_design`: the Bayesian design of Fujikawa, Teramukai, Yokota & Daimon (2020, Biom
  J 62:330) sharing information through weights (1 - JSD)^epsilon (set to 0 at or below tau)
  from the Jensen–Shannon divergence between the baskets' posterior Beta distributions, with
  an optional interim analysis stopping baskets for futility/efficacy by posterior or
  posterior predictive probability. Computed EXACTLY by enumerating every outcome
  combination, as the R package baskexact (Baumann) does. `borrowing="power_prior"` shares
  only the observed data (the prior is not shared) with the same weights.
* `bhm_design`: the Bayesian hierarchical model of Berry, Broglio, Groshen & Berry (2013,
  Clin Trials 10:720): logit(p_i) - logit(p0_i) = theta_i ~ N(mu, sigma^2), mu ~ N(mu_mean,
  mu_var), sigma^2 ~ Inverse-Gamma(a, b). Operating characteristics by Monte Carlo over
  trials; each trial's posterior is computed by deterministic numerical integration on a
  grid (see `BhmPrior`), not by MCMC.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.integrate import quad_vec
from scipy.special import betainc, expit, gammaln, rel_entr
from scipy.stats import beta as beta_distribution
from scipy.stats import betabinom, binom

from permedhub.trials.engines.runner import SimulationSummary, run_simulation
from permedhub.trials.errors import (
    TrialInputError,
    check_int_range,
    check_positive,
    check_probability,
)

Borrowing = Literal["fujikawa", "power_prior"]
InterimRule = Literal["postpred", "posterior"]
MAX_BASKET_N = 500
_ENUMERATION_ROWS = 2_000_000


@dataclass(frozen=True)
class BasketOperatingCharacteristics:
    """Operating characteristics of a basket design (SEs are 0 for exact results)."""

    design: str
    response_rates: tuple[float, ...]
    p0: tuple[float, ...]
    rejection_probabilities: tuple[float, ...]
    fwer: float
    any_correct_rejection: float
    expected_sample_size: tuple[float, ...]
    exact: bool
    rejection_se: tuple[float, ...] = ()
    fwer_se: float = 0.0
    any_correct_rejection_se: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "exact": self.exact,
            "response_rates": list(self.response_rates),
            "p0": list(self.p0),
            "rejection_probabilities": list(self.rejection_probabilities),
            "rejection_se": list(self.rejection_se) or [0.0] * len(self.response_rates),
            "fwer": self.fwer,
            "fwer_se": self.fwer_se,
            "any_correct_rejection": self.any_correct_rejection,
            "any_correct_rejection_se": self.any_correct_rejection_se,
            "expected_sample_size": list(self.expected_sample_size),
            "expected_total_sample_size": float(sum(self.expected_sample_size)),
            "details": self.details,
        }


def _check_rates(
    response_rates: Sequence[float], p0: float | Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    rates = np.asarray(
        [check_probability(f"response_rates[{i}]", p) for i, p in enumerate(response_rates)]
    )
    if len(rates) < 1:
        raise TrialInputError("response_rates", list(response_rates), "at least one basket")
    nulls = np.broadcast_to(
        np.asarray(p0 if isinstance(p0, Sequence) else [p0] * len(rates), dtype=float), rates.shape
    )
    for i, value in enumerate(nulls):
        check_probability(f"p0[{i}]", value)
    return rates, np.array(nulls)


def _summarise_exact(
    name: str,
    rates: np.ndarray,
    p0: np.ndarray,
    rejection: np.ndarray,
    fwer: float,
    any_correct: float,
    ess: np.ndarray,
    details: dict[str, Any],
) -> BasketOperatingCharacteristics:
    return BasketOperatingCharacteristics(
        design=name,
        response_rates=tuple(float(p) for p in rates),
        p0=tuple(float(p) for p in p0),
        rejection_probabilities=tuple(float(p) for p in rejection),
        fwer=float(fwer),
        any_correct_rejection=float(any_correct),
        expected_sample_size=tuple(float(e) for e in ess),
        exact=True,
        details=details,
    )


# --------------------------------------------------------------------------- independent


def independent_baskets(
    response_rates: Sequence[float],
    p0: float,
    p1: float | None,
    alpha: float = 0.05,
    beta: float = 0.2,
    criterion: Literal["optimal", "minimax", "single_stage"] = "optimal",
    n: int | None = None,
) -> BasketOperatingCharacteristics:
    """Each basket tested on its own: Simon two-stage (optimal/minimax) or a single-stage exact
    binomial test (reject if responses > r, the smallest r with P(X > r | p0) <= alpha, with
    `n` patients or, by default, the Simon minimax maximum size)."""
    rates, nulls = _check_rates(response_rates, p0)
    from permedhub.trials.simon import simon_two_stage

    if criterion not in ("optimal", "minimax", "single_stage"):
        raise TrialInputError("criterion", criterion, "'optimal', 'minimax' or 'single_stage'")
    if p1 is None and not (criterion == "single_stage" and n is not None):
        raise TrialInputError("p1", p1, "a target response rate (it sizes the Simon design)")
    if criterion == "single_stage":
        if n is None:
            assert p1 is not None
            n = simon_two_stage(p0, p1, alpha, beta).minimax.n
        n = check_int_range("n", n, 1, MAX_BASKET_N)
        r = int(binom.isf(alpha, n, p0))
        while binom.sf(r, n, p0) > alpha:
            r += 1
        while r > 0 and binom.sf(r - 1, n, p0) <= alpha:
            r -= 1
        rejection = binom.sf(r, n, rates)
        ess = np.full(len(rates), float(n))
        details: dict[str, Any] = {"n": n, "r": r}
    else:
        assert p1 is not None
        simon = simon_two_stage(p0, p1, alpha, beta)
        chosen = simon.optimal if criterion == "optimal" else simon.minimax
        n1, r1, n_total, r_total = chosen.n1, chosen.r1, chosen.n, chosen.r
        x1 = np.arange(r1 + 1, n1 + 1)
        pmf1 = binom.pmf(x1[None, :], n1, rates[:, None])
        tail2 = binom.sf(r_total - x1[None, :], n_total - n1, rates[:, None])
        rejection = (pmf1 * tail2).sum(axis=1)
        continue_prob = binom.sf(r1, n1, rates)
        ess = n1 + (n_total - n1) * continue_prob
        details = {"simon": chosen.to_dict(), "criterion": criterion}
    null = rates <= nulls
    fwer = 1.0 - float(np.prod(1.0 - rejection[null]))
    any_correct = 1.0 - float(np.prod(1.0 - rejection[~null]))
    return _summarise_exact(
        f"independent ({criterion})", rates, nulls, rejection, fwer, any_correct, ess, details
    )


# --------------------------------------------------------------------------- Fujikawa


def jensen_shannon_matrix(
    shape1: np.ndarray, shape2: np.ndarray, logbase: float = math.e
) -> np.ndarray:
    """Pairwise Jensen–Shannon divergences between Beta(shape1[s], shape2[s]) densities.

    JSD(P, Q) = KL(P || M) / 2 + KL(Q || M) / 2 with M = (P + Q) / 2 and logarithms to base
    `logbase`, by adaptive vector quadrature (all pairs at once; absolute error < 1e-12).
    """
    size = len(shape1)
    upper_i, upper_j = np.triu_indices(size, 1)
    if len(upper_i) == 0:
        return np.zeros((size, size))

    def integrand(x: float) -> np.ndarray:
        p = beta_distribution.pdf(x, shape1[upper_i], shape2[upper_i])
        q = beta_distribution.pdf(x, shape1[upper_j], shape2[upper_j])
        m = 0.5 * (p + q)
        return np.asarray(0.5 * rel_entr(p, m) + 0.5 * rel_entr(q, m))

    values, _ = quad_vec(integrand, 0.0, 1.0, epsabs=1e-14, epsrel=1e-12)
    matrix = np.zeros((size, size))
    matrix[upper_i, upper_j] = np.asarray(values) / math.log(logbase)
    return matrix + matrix.T


@dataclass(frozen=True)
class FujikawaSettings:
    """Tuning of the Fujikawa design (defaults: proposed design (i) of Fujikawa et al.)."""

    lambda_: float = 0.99
    epsilon: float = 2.0
    tau: float = 0.0
    logbase: float = math.e
    shape1: float = 1.0
    shape2: float = 1.0
    borrowing: Borrowing = "fujikawa"

    def __post_init__(self) -> None:
        check_probability("lambda", self.lambda_)
        check_positive("epsilon", self.epsilon, allow_zero=True)
        if not 0.0 <= self.tau < 1.0:
            raise TrialInputError("tau", self.tau, "a number in [0, 1)")
        if not (self.logbase > 1.0 and math.isfinite(self.logbase)):
            raise TrialInputError("logbase", self.logbase, "a logarithm base > 1")
        check_positive("shape1", self.shape1)
        check_positive("shape2", self.shape2)
        if self.borrowing not in ("fujikawa", "power_prior"):
            raise TrialInputError("borrowing", self.borrowing, "'fujikawa' or 'power_prior'")


@functools.lru_cache(maxsize=32)
def _cached_jsd(
    sizes: tuple[int, ...],
    responses: tuple[int, ...],
    shape1: float,
    shape2: float,
    logbase: float,
) -> np.ndarray:
    """JSD table of the states' unborrowed posteriors (independent of epsilon, tau, lambda)."""
    r, n = np.asarray(responses, dtype=float), np.asarray(sizes, dtype=float)
    table = jensen_shannon_matrix(shape1 + r, shape2 + n - r, logbase)
    table.setflags(write=False)
    return table


@functools.lru_cache(maxsize=16)
def _borrowing_model(settings: FujikawaSettings, n: int, n1: int | None) -> _BorrowingModel:
    """The (cached) weight tables of a single-stage (n1 None) or two-stage design."""
    if n1 is None:
        return _BorrowingModel(settings, np.full(n + 1, n), np.arange(n + 1))
    sizes = np.concatenate([np.full(n1 + 1, n1), np.full(n + 1, n)])
    responses = np.concatenate([np.arange(n1 + 1), np.arange(n + 1)])
    return _BorrowingModel(settings, sizes, responses)


class _BorrowingModel:
    """Posterior shapes of every basket for batches of outcome states.

    A *state* is a (sample size, responses) pair; the weight between two baskets depends only
    on their states, so the weights are tabulated once over all states.
    """

    def __init__(self, settings: FujikawaSettings, sizes: np.ndarray, responses: np.ndarray):
        self.settings = settings
        self.sizes = sizes.astype(float)
        self.responses = responses.astype(float)
        jsd = _cached_jsd(
            tuple(sizes.tolist()), tuple(responses.tolist()), settings.shape1, settings.shape2,
            settings.logbase,
        )  # fmt: skip
        weights = (1.0 - jsd) ** settings.epsilon
        weights[weights <= settings.tau] = 0.0
        np.fill_diagonal(weights, 1.0)
        self.weights = weights
        self._tables: dict[tuple[int, tuple[float, ...]], np.ndarray] = {}

    def posterior_shapes(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """states (M, k) -> borrowed posterior Beta shapes, each (M, k)."""
        s = self.settings
        w = self.weights[states[:, :, None], states[:, None, :]]  # (M, k, k)
        r, n = self.responses[states], self.sizes[states]
        if s.borrowing == "fujikawa":
            a = np.einsum("mij,mj->mi", w, s.shape1 + r)
            b = np.einsum("mij,mj->mi", w, s.shape2 + n - r)
        else:
            a = s.shape1 + np.einsum("mij,mj->mi", w, r)
            b = s.shape2 + np.einsum("mij,mj->mi", w, n - r)
        return a, b

    def posterior_probability(self, states: np.ndarray, p0: np.ndarray) -> np.ndarray:
        """P(p_i > p0_i | data) with borrowing, shape (M, k)."""
        a, b = self.posterior_shapes(states)
        return np.asarray(_upper_tail(a, b, p0[None, :]))

    def reject(self, states: np.ndarray, p0: np.ndarray) -> np.ndarray:
        """Final-analysis rejections (M, k) for state vectors, looked up in a table of all
        state vectors when there are few enough (each distinct vector is computed once)."""
        n_states, k = len(self.sizes), states.shape[1]
        if n_states**k > _ENUMERATION_ROWS:
            return self.posterior_probability(states, p0) >= self.settings.lambda_
        key = (k, tuple(float(p) for p in p0))
        if key not in self._tables:
            every = _outcome_grid(n_states, k)
            self._tables[key] = self.posterior_probability(every, p0) >= self.settings.lambda_
        code = states @ (n_states ** np.arange(k - 1, -1, -1))
        return np.asarray(self._tables[key][code])


def fujikawa_posterior(
    responses: Sequence[int], n: int, p0: float, settings: FujikawaSettings | None = None
) -> dict[str, np.ndarray]:
    """One analysis of observed data: weights, borrowed posterior shapes and probabilities."""
    settings = settings or FujikawaSettings()
    n = check_int_range("n", n, 1, MAX_BASKET_N)
    r = np.array([check_int_range(f"responses[{i}]", x, 0, n) for i, x in enumerate(responses)])
    check_probability("p0", p0)
    model = _borrowing_model(settings, n, None)
    a, b = model.posterior_shapes(r[None, :])
    nulls = np.full(len(r), p0)
    return {
        "weights": model.weights[r[:, None], r[None, :]],
        "shape1": a[0],
        "shape2": b[0],
        "posterior_probability": np.asarray(_upper_tail(a[0], b[0], nulls)),
        "reject": np.asarray(_upper_tail(a[0], b[0], nulls)) >= settings.lambda_,
    }


def _outcome_grid(levels: int, k: int) -> np.ndarray:
    """All k-vectors with entries 0..levels-1, shape (levels**k, k)."""
    return np.array(list(itertools.product(range(levels), repeat=k)), dtype=np.int64).reshape(-1, k)


def _upper_tail(a: np.ndarray, b: np.ndarray, p0: np.ndarray | float) -> np.ndarray:
    """P(p > p0) for p ~ Beta(a, b), as I_{1 - p0}(b, a) (10x faster than betaincc)."""
    return np.asarray(betainc(b, a, 1.0 - np.asarray(p0)))


def _single_basket_critical_value(settings: FujikawaSettings, n: int, p0: float) -> int:
    """Fewest responses out of n whose posterior (no borrowing) has P(p > p0) >= lambda."""
    r = np.arange(1, n + 1)
    probs = _upper_tail(settings.shape1 + r, settings.shape2 + n - r, p0)
    hits = np.nonzero(probs >= settings.lambda_)[0]
    return int(r[hits[0]]) if len(hits) else n + 1


def fujikawa_design(
    response_rates: Sequence[float],
    p0: float,
    n: int,
    settings: FujikawaSettings | None = None,
    *,
    n1: int | None = None,
    interim: InterimRule = "postpred",
    futility: float = 0.1,
    efficacy: float = 0.9,
) -> BasketOperatingCharacteristics:
    """Exact operating characteristics of the Fujikawa et al. (2020) basket design.

    Every basket enrols `n` patients; with `n1` an interim analysis after `n1` patients per
    basket stops a basket for futility when its borrowed posterior predictive probability of
    final success (`interim="postpred"`; "posterior": its borrowed posterior probability) is
    below `futility`, and for efficacy (H0 rejected) when above `efficacy`. The final analysis
    of the continuing baskets borrows from every basket, stopped ones with their n1 data.
    H0_i: p_i <= p0 is rejected when P(p_i > p0 | data, borrowing) >= lambda.
    """
    settings = settings or FujikawaSettings()
    rates, nulls = _check_rates(response_rates, p0)
    n = check_int_range("n", n, 1, MAX_BASKET_N)
    k = len(rates)
    if n1 is None:
        rejection, fwer, any_correct = _fujikawa_single_stage(settings, rates, nulls, n)
        ess = np.full(k, float(n))
        details: dict[str, Any] = {"n": n}
    else:
        n1 = check_int_range("n1", n1, 1, n - 1)
        if not 0.0 <= futility < efficacy <= 1.0:
            raise TrialInputError(
                "futility/efficacy", (futility, efficacy), "0 <= futility < efficacy <= 1"
            )
        if interim not in ("postpred", "posterior"):
            raise TrialInputError("interim", interim, "'postpred' or 'posterior'")
        rejection, fwer, any_correct, ess = _fujikawa_two_stage(
            settings, rates, nulls, n, n1, interim, futility, efficacy
        )
        details = {"n": n, "n1": n1, "interim": interim, "futility": futility, "efficacy": efficacy}
    details.update(
        lambda_=settings.lambda_, epsilon=settings.epsilon, tau=settings.tau,
        logbase=settings.logbase, borrowing=settings.borrowing,
    )  # fmt: skip
    return _summarise_exact(
        f"fujikawa ({settings.borrowing})", rates, nulls, rejection, fwer, any_correct, ess,
        details,
    )  # fmt: skip


def calibrate_lambda(
    alpha: float,
    k: int,
    p0: float,
    n: int,
    settings: FujikawaSettings | None = None,
    *,
    digits: int = 4,
    n1: int | None = None,
    interim: InterimRule = "postpred",
    futility: float = 0.1,
    efficacy: float = 0.9,
) -> tuple[float, float]:
    """Smallest posterior cut-off lambda (on a grid of `digits` decimals) whose exact FWER
    under the global null (all k baskets at p0) is at most `alpha`; returns (lambda, FWER).
    The FWER does not increase with lambda, so the grid is bisected exactly."""
    settings = settings or FujikawaSettings()
    if not 0.0 < alpha < 0.5:
        raise TrialInputError("alpha", alpha, "a number in (0, 0.5)")
    check_int_range("k", k, 1, 20)
    check_int_range("digits", digits, 1, 8)
    scale = 10**digits

    def fwer(step: int) -> float:
        candidate = dataclasses.replace(settings, lambda_=step / scale)
        result = fujikawa_design([p0] * k, p0, n, candidate, n1=n1, interim=interim,
                                 futility=futility, efficacy=efficacy)  # fmt: skip
        return result.fwer

    low, high = scale // 2, scale - 1  # fwer(high) is the smallest attainable
    if fwer(high) > alpha:
        raise TrialInputError(
            "alpha", alpha, f"a level the design can reach (FWER at lambda = {high / scale})"
        )
    if fwer(low) <= alpha:
        return low / scale, fwer(low)
    while high - low > 1:
        middle = (low + high) // 2
        if fwer(middle) <= alpha:
            high = middle
        else:
            low = middle
    return high / scale, fwer(high)


def _accumulate(
    decisions: np.ndarray, probability: np.ndarray, null: np.ndarray
) -> tuple[np.ndarray, float, float]:
    rejection = (decisions * probability[:, None]).sum(axis=0)
    fwer = float(probability[(decisions & null[None, :]).any(axis=1)].sum())
    any_correct = float(probability[(decisions & ~null[None, :]).any(axis=1)].sum())
    return rejection, fwer, any_correct


def _fujikawa_single_stage(
    settings: FujikawaSettings, rates: np.ndarray, nulls: np.ndarray, n: int
) -> tuple[np.ndarray, float, float]:
    k = len(rates)
    model = _borrowing_model(settings, n, None)
    pmf = binom.pmf(np.arange(n + 1)[None, :], n, rates[:, None])  # (k, n + 1)
    null = rates <= nulls
    rejection, fwer, any_correct = np.zeros(k), 0.0, 0.0
    grid = _outcome_grid(n + 1, k)
    for start in range(0, len(grid), _ENUMERATION_ROWS):
        states = grid[start : start + _ENUMERATION_ROWS]
        decisions = model.reject(states, nulls)
        probability = np.prod(pmf[np.arange(k)[None, :], states], axis=1)
        rej, fw, ac = _accumulate(decisions, probability, null)
        rejection += rej
        fwer += fw
        any_correct += ac
    return rejection, fwer, any_correct


def _fujikawa_two_stage(
    settings: FujikawaSettings,
    rates: np.ndarray,
    nulls: np.ndarray,
    n: int,
    n1: int,
    interim: str,
    futility: float,
    efficacy: float,
) -> tuple[np.ndarray, float, float, np.ndarray]:
    k = len(rates)
    n2 = n - n1
    # States 0..n1: n1 patients with r responses; states n1+1..n1+n+1: n patients.
    model = _borrowing_model(settings, n, n1)
    null = rates <= nulls
    baskets = np.arange(k)[None, :]
    pmf1 = binom.pmf(np.arange(n1 + 1)[None, :], n1, rates[:, None])
    pmf2 = binom.pmf(np.arange(n2 + 1)[None, :], n2, rates[:, None])

    stage1 = _outcome_grid(n1 + 1, k)
    prob1 = np.prod(pmf1[baskets, stage1], axis=1)
    a, b = model.posterior_shapes(stage1)
    if interim == "postpred":
        crit = np.array([_single_basket_critical_value(settings, n, p) for p in nulls])
        score = betabinom.sf(crit[None, :] - stage1 - 1, n2, a, b)
    else:
        score = _upper_tail(a, b, nulls[None, :])
    decision1 = np.where(score < futility, -1, np.where(score > efficacy, 1, 0))
    continuing = decision1 == 0
    ess = n1 + n2 * (prob1[:, None] * continuing).sum(axis=0)

    stage2 = _outcome_grid(n2 + 1, k)
    batch = max(1, _ENUMERATION_ROWS // len(stage2))
    rejection, fwer, any_correct = np.zeros(k), 0.0, 0.0
    for start in range(0, len(stage1), batch):
        r1 = stage1[start : start + batch]
        cont = continuing[start : start + batch]
        dec1 = decision1[start : start + batch]
        p1 = prob1[start : start + batch]
        rows = np.repeat(np.arange(len(r1)), len(stage2))
        r2 = np.tile(stage2, (len(r1), 1))
        keep = ~((~cont[rows]) & (r2 > 0)).any(axis=1)  # stopped baskets enrol no more
        rows, r2 = rows[keep], r2[keep]
        cont_rows = cont[rows]
        states = np.where(cont_rows, n1 + 1 + r1[rows] + r2, r1[rows])
        probability = p1[rows] * np.prod(np.where(cont_rows, pmf2[baskets, r2], 1.0), axis=1)
        final = model.reject(states, nulls)
        decisions = np.where(cont_rows, final, dec1[rows] == 1)
        rej, fw, ac = _accumulate(decisions, probability, null)
        rejection += rej
        fwer += fw
        any_correct += ac
    return rejection, fwer, any_correct, ess


# --------------------------------------------------------------------------- BHM


@dataclass(frozen=True)
class BhmPrior:
    """Priors of the Berry et al. (2013) hierarchical model and the integration grid.

    theta_i = logit(p_i) - logit(p0_i) ~ N(mu, sigma^2); mu ~ N(mu_mean, mu_var);
    sigma^2 ~ Inverse-Gamma(shape, scale). The posterior is integrated on a grid (midpoint
    rule): theta and mu on the `theta_points` cell midpoints of [-theta_limit, theta_limit]
    (0 is a cell boundary, so P(theta_i > 0) is a sum over whole cells); the N(mu, sigma^2)
    density is discretised and renormalised on the theta cells, so a sigma below the cell width
    becomes a point mass (the full-pooling limit); sigma takes `sigma_points` log-spaced values
    in [sigma_min, sigma_max] weighted by the Inverse-Gamma density (mass outside the range is
    truncated). Defaults follow Berry et al.: mu_var = 100, Inverse-Gamma(0.0005, 0.000005).
    """

    mu_mean: float = 0.0
    mu_var: float = 100.0
    shape: float = 0.0005
    scale: float = 0.000005
    theta_limit: float = 7.5
    theta_points: int = 240
    sigma_min: float = 0.01
    sigma_max: float = 10.0
    sigma_points: int = 24

    def __post_init__(self) -> None:
        check_positive("mu_var", self.mu_var)
        check_positive("shape", self.shape)
        check_positive("scale", self.scale)
        check_positive("theta_limit", self.theta_limit)
        check_int_range("theta_points", self.theta_points, 20, 4000)
        if self.theta_points % 2:
            raise TrialInputError("theta_points", self.theta_points, "an even number")
        check_positive("sigma_min", self.sigma_min)
        if not self.sigma_max > self.sigma_min:
            raise TrialInputError("sigma_max", self.sigma_max, f"a number > {self.sigma_min}")
        check_int_range("sigma_points", self.sigma_points, 2, 400)


@dataclass(frozen=True)
class _BhmTables:
    """Per basket and response count: log marginal likelihood and tail mass per grid point."""

    log_prior: np.ndarray  # (H,)
    log_marginal: np.ndarray  # (k, n + 1, H)
    tail_fraction: np.ndarray  # (k, n + 1, H): P(theta_i > 0 | r_i, mu, sigma)


def _bhm_tables(prior: BhmPrior, n: int, p0: np.ndarray) -> _BhmTables:
    width = 2 * prior.theta_limit / prior.theta_points
    theta = -prior.theta_limit + width * (np.arange(prior.theta_points) + 0.5)
    mu = theta
    sigma = np.geomspace(prior.sigma_min, prior.sigma_max, prior.sigma_points)
    mu_grid, sigma_grid = (g.ravel() for g in np.meshgrid(mu, sigma, indexing="ij"))
    kernel = -0.5 * ((theta[None, :] - mu_grid[:, None]) / sigma_grid[:, None]) ** 2
    kernel = np.exp(kernel - kernel.max(axis=1, keepdims=True))
    kernel /= kernel.sum(axis=1, keepdims=True)  # (H, G)
    variance = sigma_grid**2
    log_prior = -0.5 * (mu_grid - prior.mu_mean) ** 2 / prior.mu_var
    # Inverse-Gamma density of sigma^2, times the Jacobian d sigma^2 / d log sigma = 2 sigma^2.
    log_prior += (
        prior.shape * math.log(prior.scale) - gammaln(prior.shape)
        - (prior.shape + 1) * np.log(variance) - prior.scale / variance + np.log(2 * variance)
    )  # fmt: skip
    r = np.arange(n + 1)
    log_marginal, tail = [], []
    for null in p0:
        rate = expit(theta + math.log(null / (1 - null)))
        likelihood = binom.pmf(r[:, None], n, rate[None, :])  # (n + 1, G)
        marginal = likelihood @ kernel.T
        upper = (likelihood * (theta > 0)[None, :]) @ kernel.T
        log_marginal.append(np.log(np.maximum(marginal, 1e-300)))
        tail.append(upper / np.maximum(marginal, 1e-300))
    return _BhmTables(log_prior, np.stack(log_marginal), np.stack(tail))


def bhm_posterior_probabilities(
    responses: np.ndarray, n: int, p0: Sequence[float], prior: BhmPrior | None = None
) -> np.ndarray:
    """P(p_i > p0_i | data) for each trial (rows of `responses`, shape (M, k))."""
    prior = prior or BhmPrior()
    tables = _bhm_tables(prior, n, np.asarray(p0, dtype=float))
    return _bhm_probabilities(tables, np.atleast_2d(responses))


def _bhm_probabilities(tables: _BhmTables, responses: np.ndarray) -> np.ndarray:
    k = responses.shape[1]
    baskets = np.arange(k)[None, :]
    log_post = tables.log_prior[None, :] + tables.log_marginal[baskets, responses].sum(axis=1)
    log_post -= log_post.max(axis=1, keepdims=True)
    weights = np.exp(log_post)
    weights /= weights.sum(axis=1, keepdims=True)  # (M, H)
    tails = tables.tail_fraction[baskets, responses]  # (M, k, H)
    return np.asarray(np.einsum("mkh,mh->mk", tails, weights))


@dataclass(frozen=True)
class _BhmSimulator:
    tables: _BhmTables
    rates: np.ndarray
    null: np.ndarray
    n: int
    threshold: float

    def __call__(self, rng: np.random.Generator, n_trials: int) -> dict[str, np.ndarray]:
        responses = rng.binomial(self.n, self.rates, size=(n_trials, len(self.rates)))
        # Outcomes are discrete and repeat a lot: integrate each distinct outcome once.
        distinct, index = np.unique(responses, axis=0, return_inverse=True)
        reject = (_bhm_probabilities(self.tables, distinct) > self.threshold)[index.ravel()]
        metrics = {f"reject_{i + 1}": reject[:, i].astype(float) for i in range(reject.shape[1])}
        metrics["fwer"] = (reject & self.null).any(axis=1).astype(float)
        metrics["any_correct_rejection"] = (reject & ~self.null).any(axis=1).astype(float)
        return metrics


def bhm_design(
    response_rates: Sequence[float],
    p0: float | Sequence[float],
    n: int,
    threshold: float = 0.975,
    prior: BhmPrior | None = None,
    *,
    n_sim: int = 10_000,
    seed: int = 1,
    workers: int = 1,
    block_size: int = 2_000,
) -> BasketOperatingCharacteristics:
    """Simulated operating characteristics of a single-stage Berry et al. (2013) BHM design:
    H0_i rejected when P(p_i > p0_i | all baskets' data) > threshold."""
    rates, nulls = _check_rates(response_rates, p0)
    n = check_int_range("n", n, 1, MAX_BASKET_N)
    check_probability("threshold", threshold)
    prior = prior or BhmPrior()
    simulator = _BhmSimulator(_bhm_tables(prior, n, nulls), rates, rates <= nulls, n, threshold)
    summary = run_simulation(simulator, n_sim, seed, workers=workers, block_size=block_size)
    return _simulated(
        "bhm (Berry 2013)",
        rates,
        nulls,
        summary,
        np.full(len(rates), float(n)),
        {"n": n, "threshold": threshold, "n_sim": n_sim, "seed": seed},
    )


def _simulated(
    name: str,
    rates: np.ndarray,
    nulls: np.ndarray,
    summary: SimulationSummary,
    ess: np.ndarray,
    details: dict[str, Any],
) -> BasketOperatingCharacteristics:
    k = len(rates)
    rejection = [summary[f"reject_{i + 1}"] for i in range(k)]
    return BasketOperatingCharacteristics(
        design=name,
        response_rates=tuple(float(p) for p in rates),
        p0=tuple(float(p) for p in nulls),
        rejection_probabilities=tuple(e.mean for e in rejection),
        fwer=summary["fwer"].mean,
        any_correct_rejection=summary["any_correct_rejection"].mean,
        expected_sample_size=tuple(float(e) for e in ess),
        exact=False,
        rejection_se=tuple(e.se for e in rejection),
        fwer_se=summary["fwer"].se,
        any_correct_rejection_se=summary["any_correct_rejection"].se,
        details=details,
    )
