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
  posterior predictive probability. Computed EXACTLY, with the results of the R package
  baskexact (Baumann), which enumerates every ordered outcome; here the borrowing's symmetry
  lets baskets with equal n (and null truth, or response rate with an interim) be enumerated
  as multisets of response counts, in chunks of bounded memory, and designs with more than
  `EXACT_OUTCOME_LIMIT` outcomes are refused up front (`ExactComputationTooLarge`).
  `borrowing="power_prior"` shares only the observed data (the prior is not shared) with the
  same weights.
* `fujikawa_simulated`: the same design by Monte Carlo, for designs too large to enumerate.
* `bhm_design`: the Bayesian hierarchical model of Berry, Broglio, Groshen & Berry (2013,
  Clin Trials 10:720): logit(p_i) - logit(p0_i) = theta_i ~ N(mu, sigma^2), mu ~ N(mu_mean,
  mu_var), sigma^2 ~ Inverse-Gamma(a, b). Operating characteristics by Monte Carlo over
  trials; each trial's posterior is computed by deterministic numerical integration on a
  grid (see `BhmPrior`), not by MCMC.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.integrate import quad_vec
from scipy.special import betainc, expit, gammaln, rel_entr
from scipy.stats import beta as beta_distribution
from scipy.stats import betabinom, binom

from permedhub.trials.engines.runner import SimulationSummary, run_simulation
from permedhub.trials.errors import (
    ExactComputationTooLarge,
    TrialInputError,
    check_int_range,
    check_positive,
    check_probability,
)

Borrowing = Literal["fujikawa", "power_prior"]
InterimRule = Literal["postpred", "posterior"]
MAX_BASKET_N = 500


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
def _borrowing_model(settings: FujikawaSettings, sizes: tuple[int, ...]) -> _BorrowingModel:
    """The (cached) weight tables over the states of the sample sizes `sizes` (sorted)."""
    return _BorrowingModel(settings, sizes)


class _BorrowingModel:
    """Posterior shapes of every basket for batches of outcome states.

    A *state* is a (sample size, responses) pair, numbered size by size: the states of size s
    are offset(s) + r for r = 0..s. The weight between two baskets depends only on their
    states, so the weights are tabulated once over all states.
    """

    def __init__(self, settings: FujikawaSettings, sizes: tuple[int, ...]):
        self.settings = settings
        starts = np.cumsum([0] + [s + 1 for s in sizes[:-1]])
        self._offsets = {s: int(start) for s, start in zip(sizes, starts, strict=True)}
        state_sizes = np.concatenate([np.full(s + 1, s) for s in sizes])
        state_responses = np.concatenate([np.arange(s + 1) for s in sizes])
        self.sizes = state_sizes.astype(float)
        self.responses = state_responses.astype(float)
        jsd = _cached_jsd(
            tuple(state_sizes.tolist()), tuple(state_responses.tolist()), settings.shape1,
            settings.shape2, settings.logbase,
        )  # fmt: skip
        weights = (1.0 - jsd) ** settings.epsilon
        weights[weights <= settings.tau] = 0.0
        np.fill_diagonal(weights, 1.0)
        self.weights = weights

    def offsets(self, sizes: np.ndarray) -> np.ndarray:
        """Number of the state (size, 0) for each size in `sizes`."""
        return np.array([self._offsets[int(s)] for s in sizes], dtype=np.int64)

    def posterior_shapes(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """states (M, k) -> borrowed posterior Beta shapes, each (M, k)."""
        s = self.settings
        r, n = self.responses[states], self.sizes[states]
        if s.borrowing == "fujikawa":
            own_a, own_b = s.shape1 + r, s.shape2 + n - r
        else:
            own_a, own_b = r, n - r
        a, b = np.zeros(states.shape), np.zeros(states.shape)
        # One source basket at a time: memory stays (M, k), never (M, k, k).
        for j in range(states.shape[1]):
            w = self.weights[states, states[:, j : j + 1]]
            a += w * own_a[:, j : j + 1]
            b += w * own_b[:, j : j + 1]
        if s.borrowing == "power_prior":
            a += s.shape1
            b += s.shape2
        return a, b

    def posterior_probability(self, states: np.ndarray, p0: np.ndarray) -> np.ndarray:
        """P(p_i > p0_i | data) with borrowing, shape (M, k).

        Baskets in the same state (and p0) have the same posterior, and the enumeration puts
        them side by side: the Beta tail, the costly part, is evaluated once per run."""
        a, b = self.posterior_shapes(states)
        nulls = np.broadcast_to(p0[None, :], states.shape)
        fresh = np.ones(states.shape, dtype=bool)
        fresh[:, 1:] = (states[:, 1:] != states[:, :-1]) | (nulls[:, 1:] != nulls[:, :-1])
        tails = np.empty(states.shape)
        tails[fresh] = _upper_tail(a[fresh], b[fresh], nulls[fresh])
        source = np.maximum.accumulate(np.where(fresh, np.arange(states.shape[1]), 0), axis=1)
        return np.take_along_axis(tails, source, axis=1)

    def reject(self, states: np.ndarray, p0: np.ndarray) -> np.ndarray:
        """Final-analysis rejections (M, k) for state vectors."""
        return self.posterior_probability(states, p0) >= self.settings.lambda_


def fujikawa_posterior(
    responses: Sequence[int], n: int, p0: float, settings: FujikawaSettings | None = None
) -> dict[str, np.ndarray]:
    """One analysis of observed data: weights, borrowed posterior shapes and probabilities."""
    settings = settings or FujikawaSettings()
    n = check_int_range("n", n, 1, MAX_BASKET_N)
    r = np.array([check_int_range(f"responses[{i}]", x, 0, n) for i, x in enumerate(responses)])
    check_probability("p0", p0)
    model = _borrowing_model(settings, (n,))
    a, b = model.posterior_shapes(r[None, :])
    nulls = np.full(len(r), p0)
    return {
        "weights": model.weights[r[:, None], r[None, :]],
        "shape1": a[0],
        "shape2": b[0],
        "posterior_probability": np.asarray(_upper_tail(a[0], b[0], nulls)),
        "reject": np.asarray(_upper_tail(a[0], b[0], nulls)) >= settings.lambda_,
    }


def _upper_tail(a: np.ndarray, b: np.ndarray, p0: np.ndarray | float) -> np.ndarray:
    """P(p > p0) for p ~ Beta(a, b), as I_{1 - p0}(b, a) (10x faster than betaincc)."""
    return np.asarray(betainc(b, a, 1.0 - np.asarray(p0)))


def _single_basket_critical_value(settings: FujikawaSettings, n: int, p0: float) -> int:
    """Fewest responses out of n whose posterior (no borrowing) has P(p > p0) >= lambda."""
    r = np.arange(1, n + 1)
    probs = _upper_tail(settings.shape1 + r, settings.shape2 + n - r, p0)
    hits = np.nonzero(probs >= settings.lambda_)[0]
    return int(r[hits[0]]) if len(hits) else n + 1


@dataclass(frozen=True)
class _Interim:
    """The interim analysis after n1 patients per basket (the same rule for exact and simulated
    operating characteristics)."""

    n1: int
    rule: InterimRule
    futility: float
    efficacy: float

    def decisions(
        self,
        settings: FujikawaSettings,
        model: _BorrowingModel,
        responses: np.ndarray,
        sizes: np.ndarray,
        nulls: np.ndarray,
    ) -> np.ndarray:
        """Stage-1 responses (M, k) -> -1 (stop for futility), 1 (stop for efficacy: H0
        rejected) or 0 (continue), from the borrowed interim posterior of each basket."""
        states = model.offsets(np.full(len(sizes), self.n1))[None, :] + responses
        a, b = model.posterior_shapes(states)
        if self.rule == "postpred":
            crit = np.array(
                [
                    _single_basket_critical_value(settings, int(n), p)
                    for n, p in zip(sizes, nulls, strict=True)
                ]
            )
            score = betabinom.sf(crit[None, :] - responses - 1, sizes - self.n1, a, b)
        else:
            score = _upper_tail(a, b, nulls[None, :])
        return np.where(score < self.futility, -1, np.where(score > self.efficacy, 1, 0))


def fujikawa_design(
    response_rates: Sequence[float],
    p0: float,
    n: int | Sequence[int],
    settings: FujikawaSettings | None = None,
    *,
    n1: int | None = None,
    interim: InterimRule = "postpred",
    futility: float = 0.1,
    efficacy: float = 0.9,
) -> BasketOperatingCharacteristics:
    """Exact operating characteristics of the Fujikawa et al. (2020) basket design.

    Every basket enrols `n` patients (one number, or one per basket); with `n1` an interim
    analysis after `n1` patients per basket stops a basket for futility when its borrowed
    posterior predictive probability of final success (`interim="postpred"`; "posterior": its
    borrowed posterior probability) is below `futility`, and for efficacy (H0 rejected) when
    above `efficacy`. The final analysis of the continuing baskets borrows from every basket,
    stopped ones with their n1 data. H0_i: p_i <= p0 is rejected when
    P(p_i > p0 | data, borrowing) >= lambda.

    Baskets with equal n and response rate are exchangeable (the borrowing is symmetric), so
    the outcomes are enumerated as per-group multisets of response counts weighted by their
    multinomial probability, in chunks of bounded memory. A design with more than
    `EXACT_OUTCOME_LIMIT` such outcomes raises `ExactComputationTooLarge` before any
    enumeration; `fujikawa_simulated` estimates those by Monte Carlo.
    """
    settings = settings or FujikawaSettings()
    rates, nulls = _check_rates(response_rates, p0)
    sizes = _check_sizes(n, len(rates))
    n_detail: int | list[int] = int(sizes[0]) if isinstance(n, int) else [int(s) for s in sizes]
    if n1 is None:
        layout = _grouped_layout(rates, nulls, sizes, by_rate=False)
        by_column, fwer, any_correct, outcomes = _fujikawa_single_stage(settings, layout)
        rejection = layout.reorder(by_column)
        ess = sizes.astype(float)
        details: dict[str, Any] = {"n": n_detail}
    else:
        stages = _check_interim(n1, sizes, interim, futility, efficacy)
        layout = _grouped_layout(rates, nulls, sizes, by_rate=True)
        by_column, fwer, any_correct, continuing, outcomes = _fujikawa_two_stage(
            settings, layout, stages
        )
        rejection = layout.to_baskets(by_column)
        ess = stages.n1 + (sizes - stages.n1) * layout.to_baskets(continuing)
        details = {"n": n_detail, "n1": n1, "interim": interim, "futility": futility,
                   "efficacy": efficacy}  # fmt: skip
    details.update(
        lambda_=settings.lambda_, epsilon=settings.epsilon, tau=settings.tau,
        logbase=settings.logbase, borrowing=settings.borrowing, exact_outcomes=outcomes,
    )  # fmt: skip
    return _summarise_exact(
        f"fujikawa ({settings.borrowing})", rates, nulls, rejection, fwer, any_correct, ess,
        details,
    )  # fmt: skip


def fujikawa_simulated(
    response_rates: Sequence[float],
    p0: float,
    n: int | Sequence[int],
    settings: FujikawaSettings | None = None,
    *,
    n1: int | None = None,
    interim: InterimRule = "postpred",
    futility: float = 0.1,
    efficacy: float = 0.9,
    n_sim: int = 10_000,
    seed: int = 1,
    workers: int = 1,
    block_size: int = 2_000,
) -> BasketOperatingCharacteristics:
    """Monte-Carlo operating characteristics of the Fujikawa design (the same decision rules as
    `fujikawa_design`), for designs too large to enumerate exactly; SEs are Monte-Carlo SEs and
    the expected sample sizes are simulated means."""
    settings = settings or FujikawaSettings()
    rates, nulls = _check_rates(response_rates, p0)
    sizes = _check_sizes(n, len(rates))
    stages = None if n1 is None else _check_interim(n1, sizes, interim, futility, efficacy)
    model = _borrowing_model(settings, _model_sizes(sizes, stages))
    simulator = _FujikawaSimulator(settings, model, rates, nulls, sizes, stages)
    summary = run_simulation(simulator, n_sim, seed, workers=workers, block_size=block_size)
    ess = np.array([summary[f"n_{i + 1}"].mean for i in range(len(rates))])
    details: dict[str, Any] = {"n": n if isinstance(n, int) else list(n), "n_sim": n_sim,
                               "seed": seed, "lambda_": settings.lambda_}  # fmt: skip
    if stages is not None:
        details.update(n1=n1, interim=interim, futility=futility, efficacy=efficacy)
    return _simulated(
        f"fujikawa ({settings.borrowing}, simulated)", rates, nulls, summary, ess, details
    )


def calibrate_lambda(
    alpha: float,
    k: int,
    p0: float,
    n: int | Sequence[int],
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


def _check_sizes(n: int | Sequence[int], k: int) -> np.ndarray:
    if isinstance(n, Sequence):
        if len(n) != k:
            raise TrialInputError("n", list(n), f"one sample size per basket ({k} numbers)")
        return np.array([check_int_range(f"n[{i}]", x, 1, MAX_BASKET_N) for i, x in enumerate(n)])
    return np.full(k, check_int_range("n", n, 1, MAX_BASKET_N))


def _check_interim(
    n1: int, sizes: np.ndarray, interim: str, futility: float, efficacy: float
) -> _Interim:
    n1 = check_int_range("n1", n1, 1, int(sizes.min()) - 1)
    if not 0.0 <= futility < efficacy <= 1.0:
        raise TrialInputError(
            "futility/efficacy", (futility, efficacy), "0 <= futility < efficacy <= 1"
        )
    if interim not in ("postpred", "posterior"):
        raise TrialInputError("interim", interim, "'postpred' or 'posterior'")
    return _Interim(n1, interim, futility, efficacy)  # type: ignore[arg-type]


def _model_sizes(sizes: np.ndarray, stages: _Interim | None) -> tuple[int, ...]:
    """Every sample size a basket's state can have: n (and n1 with an interim)."""
    every = set(sizes.tolist()) | (set() if stages is None else {stages.n1})
    return tuple(sorted(int(s) for s in every))


# ----------------------------------------------------------- exact enumeration by multisets

EXACT_OUTCOME_LIMIT = 12_000_000
"""Most outcomes an exact Fujikawa computation enumerates (10.5 million for 8 baskets of n = 24
at the global null take about 30 s, benchmarks/trials_basket.py); larger designs are refused
before enumerating."""
_CHUNK_ELEMENTS = 1_000_000  # outcomes x baskets per chunk: ~8 MB per float array
_COMB_CAP = 2**62


@dataclass(frozen=True)
class _Layout:
    """Baskets ordered into groups whose members the borrowing treats alike (equal n and p0).

    Columns are the baskets reordered group by group; within a group the borrowing is
    symmetric, so an outcome is a sorted multiset of response counts per group. Two-stage
    designs group by response rate too (the members are then exchangeable); single-stage
    designs only by n, p0 and whether the null is true, the multiset's probability then
    coming from `_multiset_distribution`.
    """

    order: np.ndarray  # basket of each column
    group: np.ndarray  # group of each column
    starts: tuple[int, ...]  # first column of each group
    counts: tuple[int, ...]  # baskets in each group
    sizes: np.ndarray  # n of each column
    rates: np.ndarray  # response rate of each column
    nulls: np.ndarray  # p0 of each column

    @property
    def null(self) -> np.ndarray:
        return self.rates <= self.nulls

    def reorder(self, by_column: np.ndarray) -> np.ndarray:
        """Per-column values -> the same values in basket order."""
        result = np.empty(len(self.order))
        result[self.order] = by_column
        return result

    def to_baskets(self, by_column: np.ndarray) -> np.ndarray:
        """Per-column sums -> per-basket values (a group's baskets share its column mean)."""
        means = np.bincount(self.group, weights=by_column) / np.bincount(self.group)
        result = np.empty(len(self.order))
        result[self.order] = means[self.group]
        return result


def _grouped_layout(
    rates: np.ndarray, nulls: np.ndarray, sizes: np.ndarray, *, by_rate: bool
) -> _Layout:
    keys: dict[tuple[int, float, float | bool], list[int]] = {}
    for basket, (n, rate, null) in enumerate(
        zip(sizes.tolist(), rates.tolist(), nulls.tolist(), strict=True)
    ):
        keys.setdefault((n, null, rate if by_rate else rate <= null), []).append(basket)
    members = [sorted(m, key=lambda b: rates[b]) for m in keys.values()]
    order = np.concatenate([np.array(m) for m in members])
    counts = tuple(len(m) for m in members)
    starts = tuple(int(s) for s in np.cumsum((0, *counts[:-1])))
    group = np.repeat(np.arange(len(members)), counts)
    return _Layout(order, group, starts, counts, sizes[order], rates[order], nulls[order])


def _comb_table(k: int, top: int) -> np.ndarray:
    """table[j, x] = C(x, j) for j = 0..k, x = 0..top, capped at 2**62 (ranks stay far below)."""
    table = np.zeros((k + 1, top + 1), dtype=np.int64)
    for j in range(k + 1):
        table[j] = [min(math.comb(x, j), _COMB_CAP) for x in range(top + 1)]
    return table


def _unrank_multisets(rank: np.ndarray, size: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The multisets with colex rank `rank` (M,) and `size` (M,) elements, as sorted rows of
    width size.max() (0 past a row's size).

    A sorted multiset v_1 <= ... <= v_m is the combination x_j = v_j + j - 1; the combinatorial
    number system ranks it sum_j C(x_j, j), and the greedy inverse below takes, from j = m
    down, the largest x with C(x, j) <= rank.
    """
    width = int(size.max()) if len(size) else 0
    values = np.zeros((len(rank), width), dtype=np.int64)
    rank = rank.copy()
    for j in range(width, 0, -1):
        active = np.nonzero(size >= j)[0]
        x = np.searchsorted(table[j], rank[active], side="right") - 1
        rank[active] -= table[j, x]
        values[active, j - 1] = x - (j - 1)
    return values


def _orderings(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Ordered outcomes behind each row: per class of adjacent columns, c! / prod(mult!) of its
    sorted values (the multinomial coefficient), as prod(position / run length)."""
    classes = np.broadcast_to(classes, values.shape)
    weight = np.ones(len(values))
    position, run = np.ones(len(values)), np.ones(len(values))
    for j in range(1, values.shape[1]):
        same_class = classes[:, j] == classes[:, j - 1]
        position = np.where(same_class, position + 1.0, 1.0)
        run = np.where(same_class & (values[:, j] == values[:, j - 1]), run + 1.0, 1.0)
        weight *= position / run
    return weight


def _refuse_if_too_large(outcomes: float, layout: _Layout, stage: str) -> None:
    """Raise ExactComputationTooLarge, before any enumeration, above EXACT_OUTCOME_LIMIT."""
    if outcomes > EXACT_OUTCOME_LIMIT:
        sizes = ", ".join(str(s) for s in sorted(set(layout.sizes.tolist())))
        rates = layout.rates[np.argsort(layout.order)].tolist()
        groups = " x ".join(str(c) for c in layout.counts)
        raise ExactComputationTooLarge(
            "response_rates", rates, int(outcomes), EXACT_OUTCOME_LIMIT,
            f"{len(rates)} baskets with n = {sizes}, enumerated as multisets of response "
            f"counts in groups of {groups} baskets{stage}. Estimate these operating "
            "characteristics by simulation with permedhub.trials.basket.fujikawa_simulated "
            "(the same arguments plus n_sim and seed), or use fewer baskets or fewer patients",
        )  # fmt: skip


def _chunks(total: int, k: int) -> Iterator[np.ndarray]:
    rows = max(1, _CHUNK_ELEMENTS // k)
    for start in range(0, total, rows):
        yield np.arange(start, min(total, start + rows), dtype=np.int64)


def _group_outcomes(
    index: np.ndarray, layout: _Layout, levels: np.ndarray, table: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Outcome numbers -> (response counts (M, k), each group's multiset rank (M,)): mixed
    radix over the groups (last fastest), each digit the colex rank of the group's multiset."""
    values = np.empty((len(index), len(layout.order)), dtype=np.int64)
    ranks: list[np.ndarray] = [index] * len(layout.counts)
    rest = index.copy()
    for g in range(len(layout.counts) - 1, -1, -1):
        start, count = layout.starts[g], layout.counts[g]
        radix = math.comb(int(levels[g]) - 1 + count, count)
        ranks[g], rest = rest % radix, rest // radix
        values[:, start : start + count] = _unrank_multisets(
            ranks[g], np.full(len(index), count), table
        )
    return values, ranks


def _accumulate(
    decisions: np.ndarray, probability: np.ndarray, null: np.ndarray
) -> tuple[np.ndarray, float, float]:
    rejection = (decisions * probability[:, None]).sum(axis=0)
    fwer = float(probability[(decisions & null[None, :]).any(axis=1)].sum())
    any_correct = float(probability[(decisions & ~null[None, :]).any(axis=1)].sum())
    return rejection, fwer, any_correct


def _binomial_table(sizes: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """pmf[j, x] = P(X = x), X ~ Bin(sizes[j], rates[j]) (0 for x > sizes[j])."""
    return np.asarray(binom.pmf(np.arange(int(sizes.max()) + 1)[None, :], sizes[:, None],
                                rates[:, None]))  # fmt: skip


def _ranks_without(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Colex ranks (M, m) of each sorted multiset row (M, m) with its element q removed.

    The rank is sum_p C(v_p + p, p + 1); removing position q moves every later element one
    place down, so its term becomes C(v_p + p - 1, p)."""
    m = values.shape[1]
    positions = np.arange(m)[None, :]
    before = table[positions + 1, values + positions]
    after = np.where(positions > 0, table[positions, np.maximum(values + positions - 1, 0)], 0)
    left = np.cumsum(before, axis=1) - before
    right = after.sum(axis=1, keepdims=True) - np.cumsum(after, axis=1)
    return np.asarray(left + right)


def _first_of_runs(values: np.ndarray) -> np.ndarray:
    """True at the first position of every distinct value of each sorted row."""
    first = np.ones(values.shape, dtype=bool)
    first[:, 1:] = values[:, 1:] != values[:, :-1]
    return first


def _multiset_distribution(pmfs: np.ndarray, table: np.ndarray) -> np.ndarray:
    """P(the response counts of baskets with distributions pmfs (m, L) form the multiset of
    each colex rank), over all C(L - 1 + m, m) multisets.

    Baskets are added one at a time: P_j(M) = sum over the distinct values v of M of
    pmf_j(v) P_{j-1}(M - v), which reads the previous table (no scatter), in chunks."""
    levels = pmfs.shape[1]
    previous = np.ones(1)
    for j in range(1, len(pmfs) + 1):
        current = np.empty(math.comb(levels - 1 + j, j))
        for ranks in _chunks(len(current), j):
            values = _unrank_multisets(ranks, np.full(len(ranks), j), table)
            terms = pmfs[j - 1][values] * previous[_ranks_without(values, table)]
            current[ranks] = np.where(_first_of_runs(values), terms, 0.0).sum(axis=1)
        previous = current
    return previous


class _GroupLaw:
    """The probability of a group's multiset of response counts and its baskets' rejections.

    Baskets with one response rate: the multinomial number of orderings times the product of
    the pmfs. Mixed rates: a table over the group's multisets (`_multiset_distribution`),
    and for basket i the leave-one-out table of the others, P(r_i = v, multiset A) =
    pmf_i(v) P_{others}(A - v).
    """

    def __init__(self, pmfs: np.ndarray, rates: np.ndarray, table: np.ndarray):
        self.pmfs, self.table = pmfs, table
        self.uniform = bool(np.all(rates == rates[0]))
        self.distribution = np.empty(0)
        self.leave_one_out: dict[int, np.ndarray] = {}
        self.rate_of = np.unique(rates, return_inverse=True)[1]
        if not self.uniform:
            self.distribution = _multiset_distribution(pmfs, table)
            for rate in range(self.rate_of.max() + 1):
                one = int(np.nonzero(self.rate_of == rate)[0][0])
                others = np.delete(pmfs, one, axis=0)
                self.leave_one_out[rate] = _multiset_distribution(others, table)
        self.rejection = np.zeros(len(pmfs))

    def probability(self, values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        if self.uniform:
            orderings = _orderings(values, np.zeros(values.shape[1]))
            return orderings * np.prod(self.pmfs[0][values], axis=1)
        return self.distribution[ranks]

    def add_rejections(
        self, values: np.ndarray, decisions: np.ndarray, own: np.ndarray, others: np.ndarray
    ) -> None:
        """Add this chunk's P(basket rejected); own and others: the probability of the rows'
        multiset of this group and of the other groups' multisets."""
        if self.uniform:
            # exchangeable baskets share the mean of the group's columns
            expected = float((decisions * (own * others)[:, None]).sum())
            self.rejection += expected / len(self.pmfs)
            return
        rejected = decisions & _first_of_runs(values)
        removed = _ranks_without(values, self.table) if values.shape[1] > 1 else None
        for rate, table in self.leave_one_out.items():
            members = self.rate_of == rate
            pmf = self.pmfs[np.nonzero(members)[0][0]]
            rest = table[removed] if removed is not None else np.ones(values.shape)
            joint = np.where(rejected, pmf[values] * rest, 0.0).sum(axis=1)
            self.rejection[members] += float((joint * others).sum())


def _fujikawa_single_stage(
    settings: FujikawaSettings, layout: _Layout
) -> tuple[np.ndarray, float, float, int]:
    """(P(reject) per column, FWER, P(any correct rejection), outcomes)."""
    k = len(layout.order)
    levels = np.array([layout.sizes[s] + 1 for s in layout.starts])
    total = math.prod(
        math.comb(int(lv) - 1 + c, c) for lv, c in zip(levels, layout.counts, strict=True)
    )
    _refuse_if_too_large(total, layout, " (true nulls apart from the others)")
    model = _borrowing_model(settings, _model_sizes(layout.sizes, None))
    offsets = model.offsets(layout.sizes)[None, :]
    pmf = _binomial_table(layout.sizes, layout.rates)
    table = _comb_table(k, int(levels.max()) + k)
    spans = [slice(s, s + c) for s, c in zip(layout.starts, layout.counts, strict=True)]
    laws = [
        _GroupLaw(pmf[span, : levels[g]], layout.rates[span], table) for g, span in enumerate(spans)
    ]
    fwer, any_correct = 0.0, 0.0
    for index in _chunks(total, k):
        values, ranks = _group_outcomes(index, layout, levels, table)
        factors = [law.probability(values[:, span], ranks[g])
                   for g, (law, span) in enumerate(zip(laws, spans, strict=True))]  # fmt: skip
        probability = np.prod(factors, axis=0)
        decisions = model.reject(offsets + values, layout.nulls)
        _, fw, ac = _accumulate(decisions, probability, layout.null)
        fwer += fw
        any_correct += ac
        for g, (law, span) in enumerate(zip(laws, spans, strict=True)):
            others = np.prod([f for h, f in enumerate(factors) if h != g], axis=0)
            law.add_rejections(values[:, span], decisions[:, span], factors[g], others)
    return np.concatenate([law.rejection for law in laws]), fwer, any_correct, total


@dataclass(frozen=True)
class _StageOne:
    """A chunk of stage-1 outcomes with their interim decisions and stage-2 classes."""

    values: np.ndarray  # stage-1 responses (M, k)
    probability: np.ndarray  # (M,)
    decision: np.ndarray  # -1 / 0 / 1 per column (M, k)
    classes: np.ndarray  # stage-2 class of each column (M, k); stopped columns alone
    class_size: np.ndarray  # size of the class starting at a column, else 0 (M, k)
    continuations: np.ndarray  # stage-2 outcomes behind each row (M,), float


def _stage_one_chunks(
    settings: FujikawaSettings,
    model: _BorrowingModel,
    layout: _Layout,
    stages: _Interim,
    table: np.ndarray,
    stage2_counts: np.ndarray,
) -> Iterator[_StageOne]:
    k = len(layout.order)
    levels = np.full(len(layout.counts), stages.n1 + 1)
    total = math.prod(math.comb(stages.n1 + c, c) for c in layout.counts)
    _refuse_if_too_large(
        total, layout, f" of equal response rate (stage 1 alone, n1 = {stages.n1})"
    )
    pmf1 = _binomial_table(np.full(k, stages.n1), layout.rates)
    columns = np.arange(k)[None, :]
    for index in _chunks(total, k):
        values, _ = _group_outcomes(index, layout, levels, table)
        orderings = _orderings(values, layout.group)
        probability = orderings * np.prod(pmf1[columns, values], axis=1)
        decision = stages.decisions(settings, model, values, layout.sizes, layout.nulls)
        continuing = decision == 0
        # Continuing baskets of one group with equal stage-1 counts stay exchangeable.
        classes = np.where(continuing, layout.group * (stages.n1 + 1) + values, -1 - columns)
        class_size = np.zeros(values.shape, dtype=np.int64)
        tail = np.zeros(len(values), dtype=np.int64)
        for j in range(k - 1, -1, -1):
            same_next = classes[:, j] == classes[:, j + 1] if j < k - 1 else False
            tail = np.where(continuing[:, j], np.where(same_next, tail + 1, 1), 0)
            starts = continuing[:, j] & ((classes[:, j] != classes[:, j - 1]) if j else True)
            class_size[:, j] = np.where(starts, tail, 0)
        continuations = np.prod(stage2_counts[columns, class_size], axis=1)
        yield _StageOne(values, probability, decision, classes, class_size, continuations)


def _stage_two_outcomes(
    chunk: _StageOne, rows: np.ndarray, local: np.ndarray, counts: np.ndarray, table: np.ndarray
) -> np.ndarray:
    """Stage-2 responses (M, k) of outcome `local` of stage-1 row `rows` (0 when stopped)."""
    k = chunk.values.shape[1]
    size = chunk.class_size[rows]
    radix = counts[np.arange(k)[None, :], size]
    digits = np.empty(size.shape, dtype=np.int64)
    rest = local.copy()
    for j in range(k - 1, -1, -1):
        digits[:, j], rest = rest % radix[:, j], rest // radix[:, j]
    values = np.zeros(size.shape, dtype=np.int64)
    for j in range(k):
        active = np.nonzero(size[:, j])[0]
        if len(active) == 0:
            continue
        block = _unrank_multisets(digits[active, j], size[active, j], table)
        for offset in range(block.shape[1]):
            inside = np.nonzero(size[active, j] > offset)[0]
            values[active[inside], j + offset] = block[inside, offset]
    return values


def _fujikawa_two_stage(
    settings: FujikawaSettings, layout: _Layout, stages: _Interim
) -> tuple[np.ndarray, float, float, np.ndarray, int]:
    """(expected rejections per column, FWER, P(any correct rejection), P(continue) summed per
    column, outcomes)."""
    k = len(layout.order)
    n2 = layout.sizes - stages.n1
    model = _borrowing_model(settings, _model_sizes(layout.sizes, stages))
    table = _comb_table(k, int(layout.sizes.max()) + 1 + k)  # covers stage 1 and stage 2
    # stage2_counts[j, c]: stage-2 multisets of c continuing baskets like column j (float:
    # counted before the limit is checked, so it must not overflow).
    stage2_counts = np.array([[float(math.comb(int(m) + c, c)) for c in range(k + 1)] for m in n2])

    def stage_one() -> Iterator[_StageOne]:
        return _stage_one_chunks(settings, model, layout, stages, table, stage2_counts)

    total = sum(float(chunk.continuations.sum()) for chunk in stage_one())
    _refuse_if_too_large(total, layout, f" of equal response rate (two stages, n1 = {stages.n1})")
    exact_counts = stage2_counts.astype(np.int64)
    pmf2 = _binomial_table(n2, layout.rates)
    final_offsets = model.offsets(layout.sizes)[None, :]
    interim_offsets = model.offsets(np.full(k, stages.n1))[None, :]
    columns = np.arange(k)[None, :]
    rejection, fwer, any_correct, continuing = np.zeros(k), 0.0, 0.0, np.zeros(k)
    for chunk in stage_one():
        continuing += ((chunk.decision == 0) * chunk.probability[:, None]).sum(axis=0)
        ends = np.cumsum(chunk.continuations.astype(np.int64))
        for index in _chunks(int(ends[-1]), k):
            rows = np.searchsorted(ends, index, side="right")
            local = index - (ends[rows] - chunk.continuations[rows].astype(np.int64))
            x1 = chunk.values[rows]
            cont = chunk.decision[rows] == 0
            x2 = _stage_two_outcomes(chunk, rows, local, exact_counts, table)
            probability = (
                chunk.probability[rows]
                * _orderings(x2, chunk.classes[rows])
                * np.prod(np.where(cont, pmf2[columns, x2], 1.0), axis=1)
            )
            states = np.where(cont, final_offsets + x1 + x2, interim_offsets + x1)
            final = model.reject(states, layout.nulls)
            decisions = np.where(cont, final, chunk.decision[rows] == 1)
            rej, fw, ac = _accumulate(decisions, probability, layout.null)
            rejection += rej
            fwer += fw
            any_correct += ac
    return rejection, fwer, any_correct, continuing, int(total)


@dataclass(frozen=True)
class _FujikawaSimulator:
    settings: FujikawaSettings
    model: _BorrowingModel
    rates: np.ndarray
    nulls: np.ndarray
    sizes: np.ndarray
    stages: _Interim | None

    def __call__(self, rng: np.random.Generator, n_trials: int) -> dict[str, np.ndarray]:
        k = len(self.rates)
        final_offsets = self.model.offsets(self.sizes)[None, :]
        if self.stages is None:
            responses = rng.binomial(self.sizes, self.rates, size=(n_trials, k))
            reject = self.model.reject(final_offsets + responses, self.nulls)
            enrolled = np.broadcast_to(self.sizes, reject.shape)
        else:
            n1 = self.stages.n1
            first = rng.binomial(n1, self.rates, size=(n_trials, k))
            second = rng.binomial(self.sizes - n1, self.rates, size=(n_trials, k))
            decision = self.stages.decisions(
                self.settings, self.model, first, self.sizes, self.nulls
            )
            cont = decision == 0
            interim_offsets = self.model.offsets(np.full(k, n1))[None, :]
            states = np.where(cont, final_offsets + first + second, interim_offsets + first)
            reject = np.where(cont, self.model.reject(states, self.nulls), decision == 1)
            enrolled = np.where(cont, self.sizes[None, :], n1)
        null = self.rates <= self.nulls
        metrics = {f"reject_{i + 1}": reject[:, i].astype(float) for i in range(k)}
        metrics.update({f"n_{i + 1}": enrolled[:, i].astype(float) for i in range(k)})
        metrics["fwer"] = (reject & null).any(axis=1).astype(float)
        metrics["any_correct_rejection"] = (reject & ~null).any(axis=1).astype(float)
        return metrics


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
