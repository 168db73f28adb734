"""Exact Fujikawa operating characteristics by exchangeable multisets, against brute force.

The reference below enumerates every ORDERED outcome (itertools.product over the baskets, and
over both stages of every basket in two-stage designs) and evaluates the borrowed posteriors
with scipy.stats.beta, sharing nothing with the module's enumeration but the Jensen–Shannon
divergence (checked against baskexact in test_basket_fujikawa.py).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from scipy.stats import beta as beta_distribution
from scipy.stats import betabinom, binom

from permedhub.trials import basket
from permedhub.trials.basket import (
    EXACT_OUTCOME_LIMIT,
    FujikawaSettings,
    fujikawa_design,
    fujikawa_simulated,
    jensen_shannon_matrix,
)
from permedhub.trials.errors import ExactComputationTooLarge, TrialInputError

EXACT = 1e-12


class _Weights:
    """Borrowing weight between two (sample size, responses) states, from the JSD."""

    def __init__(self, settings: FujikawaSettings, sizes: Sequence[int]) -> None:
        self.states = [(s, r) for s in sorted(set(sizes)) for r in range(s + 1)]
        self.first = np.zeros(max(sizes) + 1, dtype=int)  # number of the state (s, 0)
        for i, (s, r) in reversed(list(enumerate(self.states))):
            self.first[s] = i - r
        n = np.array([s for s, _ in self.states], dtype=float)
        r = np.array([x for _, x in self.states], dtype=float)
        jsd = jensen_shannon_matrix(settings.shape1 + r, settings.shape2 + n - r, settings.logbase)
        weights = (1.0 - jsd) ** settings.epsilon
        weights[weights <= settings.tau] = 0.0
        np.fill_diagonal(weights, 1.0)
        self.table = weights
        self.settings = settings

    def posterior(self, sizes: np.ndarray, responses: np.ndarray, p0: float) -> np.ndarray:
        """P(p_i > p0 | data) for outcome rows (M, k) of sizes and responses."""
        codes = self.first[sizes] + responses
        w = self.table[codes[:, :, None], codes[:, None, :]]
        s = self.settings
        if s.borrowing == "fujikawa":
            a = (w * (s.shape1 + responses)[:, None, :]).sum(axis=2)
            b = (w * (s.shape2 + sizes - responses)[:, None, :]).sum(axis=2)
        else:
            a = s.shape1 + (w * responses[:, None, :]).sum(axis=2)
            b = s.shape2 + (w * (sizes - responses)[:, None, :]).sum(axis=2)
        return np.asarray(beta_distribution.sf(p0, a, b))


def _summaries(
    decisions: np.ndarray, probability: np.ndarray, rates: np.ndarray, p0: float
) -> tuple[np.ndarray, float, float]:
    null = rates <= p0
    rejection = (decisions * probability[:, None]).sum(axis=0)
    fwer = probability[(decisions & null).any(axis=1)].sum()
    any_correct = probability[(decisions & ~null).any(axis=1)].sum()
    return rejection, float(fwer), float(any_correct)


def brute_single_stage(
    rates: Sequence[float], p0: float, sizes: Sequence[int], settings: FujikawaSettings
) -> tuple[np.ndarray, float, float]:
    k, rates_ = len(rates), np.asarray(rates)
    n = np.asarray(sizes)
    outcomes = np.array(list(itertools.product(*[range(s + 1) for s in sizes]))).reshape(-1, k)
    probability = np.prod(binom.pmf(outcomes, n, rates_), axis=1)
    weights = _Weights(settings, sizes)
    sizes_rows = np.broadcast_to(n, outcomes.shape)
    decisions = weights.posterior(sizes_rows, outcomes, p0) >= settings.lambda_
    return _summaries(decisions, probability, rates_, p0)


def brute_two_stage(
    rates: Sequence[float],
    p0: float,
    sizes: Sequence[int],
    n1: int,
    settings: FujikawaSettings,
    interim: str,
    futility: float,
    efficacy: float,
) -> tuple[np.ndarray, float, float, np.ndarray]:
    k, rates_, n = len(rates), np.asarray(rates), np.asarray(sizes)
    n2 = n - n1
    weights = _Weights(settings, [*sizes, n1])
    # Every basket's (stage 1, stage 2) responses, also for baskets that stop: their stage-2
    # responses are never observed, and summing over them adds up to 1.
    per_basket = [list(itertools.product(range(n1 + 1), range(m + 1))) for m in n2]
    outcomes = np.array(list(itertools.product(*per_basket))).reshape(-1, k, 2)
    x1, x2 = outcomes[:, :, 0], outcomes[:, :, 1]
    probability = np.prod(binom.pmf(x1, n1, rates_) * binom.pmf(x2, n2, rates_), axis=1)
    interim_sizes = np.full(x1.shape, n1)
    if interim == "postpred":
        crit = np.empty(k)
        for i, size in enumerate(n):
            r = np.arange(size + 1)
            own = beta_distribution.sf(p0, settings.shape1 + r, settings.shape2 + size - r)
            hits = np.nonzero(own >= settings.lambda_)[0]
            crit[i] = r[hits[0]] if len(hits) else size + 1
        w = weights.table
        codes = weights.first[n1] + x1
        pair = w[codes[:, :, None], codes[:, None, :]]
        s = settings
        if s.borrowing == "fujikawa":
            a = (pair * (s.shape1 + x1)[:, None, :]).sum(axis=2)
            b = (pair * (s.shape2 + n1 - x1)[:, None, :]).sum(axis=2)
        else:
            a = s.shape1 + (pair * x1[:, None, :]).sum(axis=2)
            b = s.shape2 + (pair * (n1 - x1)[:, None, :]).sum(axis=2)
        score = betabinom.sf(crit - x1 - 1, n2, a, b)
    else:
        score = weights.posterior(interim_sizes, x1, p0)
    stop_futility, stop_efficacy = score < futility, score > efficacy
    continuing = ~stop_futility & ~stop_efficacy
    final_sizes = np.where(continuing, n, n1)
    final_responses = np.where(continuing, x1 + x2, x1)
    final = weights.posterior(final_sizes, final_responses, p0) >= settings.lambda_
    decisions = np.where(continuing, final, stop_efficacy)
    rejection, fwer, any_correct = _summaries(decisions, probability, rates_, p0)
    ess = n1 + n2 * (continuing * probability[:, None]).sum(axis=0)
    return rejection, fwer, any_correct, ess


SINGLE_STAGE_CASES: list[tuple[list[float], int | list[int], dict[str, Any]]] = [
    ([0.2, 0.2, 0.2], 10, {}),
    ([0.2, 0.2, 0.45], 10, {"tau": 0.3}),
    # all response rates different: no two baskets are exchangeable
    ([0.1, 0.2, 0.3, 0.45], 6, {"epsilon": 1.0, "logbase": 2.0}),
    ([0.2, 0.2, 0.4, 0.4], 7, {"borrowing": "power_prior", "lambda_": 0.95}),
    # true nulls at two rates (one of them twice) in one group, an alternative on its own
    ([0.2, 0.1, 0.2, 0.5], 6, {"lambda_": 0.9, "tau": 0.1}),
    # unequal sample sizes: only the two baskets with n = 10 and rate 0.2 are exchangeable
    ([0.2, 0.2, 0.2, 0.4], [8, 10, 10, 12], {"lambda_": 0.95}),
    ([0.2, 0.2, 0.2, 0.2, 0.5, 0.5, 0.5], 3, {"lambda_": 0.9}),
]


@pytest.mark.parametrize(("rates", "n", "options"), SINGLE_STAGE_CASES)
def test_single_stage_equals_brute_force_over_ordered_outcomes(
    rates: list[float], n: int | list[int], options: dict[str, Any]
) -> None:
    settings = FujikawaSettings(**options)
    sizes = n if isinstance(n, list) else [n] * len(rates)
    rejection, fwer, any_correct = brute_single_stage(rates, 0.2, sizes, settings)
    result = fujikawa_design(rates, 0.2, n, settings)
    assert result.rejection_probabilities == pytest.approx(rejection, abs=EXACT)
    assert result.fwer == pytest.approx(fwer, abs=EXACT)
    assert result.any_correct_rejection == pytest.approx(any_correct, abs=EXACT)
    assert max(result.rejection_probabilities) > 0.0  # the comparison is not of zeros
    # the multisets are fewer than the ordered outcomes whenever two baskets are exchangeable
    assert result.details["exact_outcomes"] <= math.prod(s + 1 for s in sizes)


TWO_STAGE_CASES: list[tuple[list[float], int | list[int], int, str, dict[str, Any]]] = [
    ([0.2, 0.2, 0.5], 8, 4, "postpred", {"lambda_": 0.95}),
    ([0.2, 0.2, 0.2], 8, 3, "posterior", {"lambda_": 0.9, "tau": 0.2}),
    ([0.15, 0.3, 0.45], 7, 4, "postpred", {"borrowing": "power_prior", "lambda_": 0.9}),
    ([0.2, 0.2, 0.4], [7, 9, 9], 4, "postpred", {"lambda_": 0.9}),
]


@pytest.mark.parametrize(("rates", "n", "n1", "interim", "options"), TWO_STAGE_CASES)
def test_two_stage_equals_brute_force_over_ordered_outcomes(
    rates: list[float], n: int | list[int], n1: int, interim: str, options: dict[str, Any]
) -> None:
    settings = FujikawaSettings(**options)
    sizes = n if isinstance(n, list) else [n] * len(rates)
    futility, efficacy = 0.2, 0.8
    rejection, fwer, any_correct, ess = brute_two_stage(
        rates, 0.2, sizes, n1, settings, interim, futility, efficacy
    )
    result = fujikawa_design(
        rates,
        0.2,
        n,
        settings,
        n1=n1,
        interim=interim,
        futility=futility,
        efficacy=efficacy,  # type: ignore[arg-type]
    )
    assert result.rejection_probabilities == pytest.approx(rejection, abs=EXACT)
    assert result.fwer == pytest.approx(fwer, abs=EXACT)
    assert result.any_correct_rejection == pytest.approx(any_correct, abs=EXACT)
    assert result.expected_sample_size == pytest.approx(ess, abs=1e-10)
    assert max(result.rejection_probabilities) > 0.0
    assert min(ess) < min(sizes)  # some baskets do stop at the interim


def test_chunk_boundaries_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny chunks split the stage-1 rows and their stage-2 outcomes at many places."""
    settings = FujikawaSettings(lambda_=0.95)
    args = ([0.2, 0.2, 0.5], 0.2, 8, settings)
    whole_single = fujikawa_design(*args)
    whole_two = fujikawa_design(*args, n1=4)
    monkeypatch.setattr(basket, "_CHUNK_ELEMENTS", 7)
    for whole, chunked in ((whole_single, fujikawa_design(*args)),
                           (whole_two, fujikawa_design(*args, n1=4))):  # fmt: skip
        assert chunked.rejection_probabilities == pytest.approx(
            whole.rejection_probabilities, abs=EXACT
        )
        assert chunked.fwer == pytest.approx(whole.fwer, abs=EXACT)
        assert chunked.expected_sample_size == pytest.approx(whole.expected_sample_size, abs=EXACT)


@pytest.mark.parametrize(("levels", "size"), [(1, 3), (4, 1), (5, 3), (7, 4)])
def test_unranking_visits_every_multiset_once_in_sorted_form(levels: int, size: int) -> None:
    count = math.comb(levels - 1 + size, size)
    table = basket._comb_table(size, levels + size)
    rows = basket._unrank_multisets(np.arange(count), np.full(count, size), table)
    expected = set(itertools.combinations_with_replacement(range(levels), size))
    assert {tuple(row) for row in rows.tolist()} == expected
    assert len(rows) == len(expected)


def test_ten_baskets_of_24_are_refused_before_enumerating_with_the_size_and_the_way_out() -> None:
    with pytest.raises(ExactComputationTooLarge) as error:
        fujikawa_design([0.2] * 10, 0.2, 24)
    outcomes = math.comb(24 + 10, 10)  # multisets of 10 response counts out of 0..24
    assert error.value.outcomes == outcomes == 131_128_140
    assert error.value.limit == EXACT_OUTCOME_LIMIT
    message = str(error.value)
    assert "131,128,140 outcomes" in message
    assert f"limit of {EXACT_OUTCOME_LIMIT:,}" in message
    assert "10 baskets with n = 24" in message
    assert "permedhub.trials.basket.fujikawa_simulated" in message
    assert isinstance(error.value, TrialInputError) and error.value.field == "response_rates"


def test_single_stage_groups_true_nulls_apart_from_the_others_whatever_their_rates() -> None:
    # p0 = 0.2: {0.1, 0.2} have a true null, {0.3, 0.45} not: C(6 + 2, 2)^2 multiset pairs
    result = fujikawa_design([0.1, 0.2, 0.3, 0.45], 0.2, 6)
    assert result.details["exact_outcomes"] == math.comb(8, 2) ** 2 == 784  # not 7^4 = 2,401
    with pytest.raises(ExactComputationTooLarge) as error:
        fujikawa_design([0.1, 0.15, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6], 0.2, 24)
    assert error.value.outcomes == math.comb(24 + 4, 4) ** 2
    assert "in groups of 4 x 4 baskets (true nulls apart from the others)" in str(error.value)


def test_two_stage_designs_are_checked_before_stage_one_is_enumerated() -> None:
    with pytest.raises(ExactComputationTooLarge) as error:
        fujikawa_design([0.2] * 10, 0.2, 30, n1=24)
    assert error.value.outcomes == math.comb(24 + 10, 10)
    assert "stage 1 alone, n1 = 24" in str(error.value)
    assert "fujikawa_simulated" in str(error.value)


def test_ten_baskets_complete_exactly_when_the_multisets_are_few() -> None:
    # 10 exchangeable baskets of n = 4: 1,001 multisets instead of 5^10 = 9,765,625 tuples.
    result = fujikawa_design([0.2] * 10, 0.2, 4, FujikawaSettings(lambda_=0.9))
    assert result.details["exact_outcomes"] == math.comb(14, 10)
    assert len(set(result.rejection_probabilities)) == 1  # exchangeable baskets
    single = result.rejection_probabilities[0]
    assert single <= result.fwer <= min(1.0, 10 * single)
    assert result.fwer > single  # borrowing does not make the baskets' errors coincide


@pytest.mark.parametrize("n1", [None, 4])
def test_simulated_path_agrees_with_the_exact_result(n1: int | None) -> None:
    settings = FujikawaSettings(lambda_=0.95)
    exact = fujikawa_design([0.2, 0.2, 0.5], 0.2, 8, settings, n1=n1)
    simulated = fujikawa_simulated([0.2, 0.2, 0.5], 0.2, 8, settings, n1=n1, n_sim=6_000, seed=3)
    assert not simulated.exact
    for estimate, se, truth in zip(
        simulated.rejection_probabilities,
        simulated.rejection_se,
        exact.rejection_probabilities,
        strict=True,
    ):
        assert abs(estimate - truth) < 4 * se + 1e-9
    assert abs(simulated.fwer - exact.fwer) < 4 * simulated.fwer_se
    assert simulated.expected_sample_size == pytest.approx(exact.expected_sample_size, abs=0.1)
    again = fujikawa_simulated([0.2, 0.2, 0.5], 0.2, 8, settings, n1=n1, n_sim=6_000, seed=3)
    assert again.to_dict() == simulated.to_dict()


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: fujikawa_design([0.2, 0.3], 0.2, [10]), "n"),
        (lambda: fujikawa_design([0.2, 0.3], 0.2, [10, 0]), "n[1]"),
        (lambda: fujikawa_design([0.2, 0.3], 0.2, [10, 6], n1=6), "n1"),
        (lambda: fujikawa_simulated([0.2, 0.3], 0.2, 10, n_sim=0), "n_sim"),
    ],
)
def test_bad_sizes_name_the_field(call: object, field: str) -> None:
    with pytest.raises(TrialInputError) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field
