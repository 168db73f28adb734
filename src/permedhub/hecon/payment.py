"""Payment strategies as model transformations, and the payer's view of them.

Each scheme rewrites a model document (a new :class:`ModelSpec`; the input is not changed):

* :func:`with_outcome_refund` -- outcome-based refund: the manufacturer pays back `amount` for
  every patient on the non-response flow ``from -> to`` up to an assessment cycle. It *is* a
  negative transition cost on that flow.
* :func:`with_payment_on_outcome` -- "no cure, no pay": the price is paid only on the response
  flow, and the up-front price in that category is removed.
* :func:`with_instalments` -- annuity / instalments: the up-front price is replaced by a payment
  per cycle for `n_cycles`, either while the patient is alive or unconditionally.

For any model (original or transformed) :func:`payment_profile` gives the payer's cash flows
over time (mean and 90% interval over PSA draws), the expected discounted cost, its risk
(standard deviation, percentiles) and the equivalent up-front price (the expected present value
of the payments in the category, at the model's cost discount rate and conventions).

Population-level schemes work on yearly spend: :func:`population_spend` (new cohorts each
year), :func:`price_volume_spend` (tiered prices by annual volume) and :func:`budget_cap`.
:func:`coverage_with_evidence_development` asks whether it is worth paying for more data
first, using the expected value of sample information (EVSI) from :mod:`.voi`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from permedhub.hecon.errors import HeconError
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import ModelSpec, TransitionReward


def _copy_strategy(spec: ModelSpec, strategy: str) -> tuple[ModelSpec, Any]:
    if strategy not in spec.strategies:
        raise HeconError(
            f"unknown strategy {strategy!r}; strategies are {', '.join(spec.strategies)}"
        )
    new = spec.model_copy(deep=True)
    new.base_dir = spec.base_dir
    return new, new.strategies[strategy]


def _check_flow(spec: ModelSpec, strategy: str, from_state: str, to_state: str) -> None:
    transitions = spec.strategies[strategy].transitions or spec.transitions or {}
    if to_state not in transitions.get(from_state, {}):
        raise HeconError(
            f"strategy {strategy!r}: no transition {from_state}->{to_state} to attach a payment to"
        )


def _rewards(spec: ModelSpec, strat: Any) -> list[TransitionReward]:
    if strat.transition_rewards is None:
        return [r.model_copy(deep=True) for r in spec.transition_rewards]
    return list(strat.transition_rewards)


def _limit(amount: str | float, until_cycle: int | None) -> str:
    if until_cycle is None:
        return f"({amount})"
    return f"(({amount}) if model_time <= {int(until_cycle)} else 0)"


def _with_flow_cost(
    spec: ModelSpec, strategy: str, from_state: str, to_state: str, category: str, cost: str
) -> tuple[ModelSpec, Any]:
    """A copy of `spec` whose `strategy` charges `cost` (an expression) to `category` on the
    flow from_state -> to_state; returns the copy and its strategy, to adjust further."""
    new, strat = _copy_strategy(spec, strategy)
    _check_flow(new, strategy, from_state, to_state)
    rewards = _rewards(new, strat)
    rewards.append(
        TransitionReward.model_validate(
            {"from": from_state, "to": to_state, "costs": {category: cost}}
        )
    )
    strat.transition_rewards = rewards
    return new, strat


def with_outcome_refund(
    spec: ModelSpec,
    strategy: str,
    from_state: str,
    to_state: str,
    amount: str | float,
    category: str,
    until_cycle: int | None = None,
) -> ModelSpec:
    """Refund `amount` (expression) per patient on the flow from_state -> to_state (e.g. on to
    a 'non-responder' state), in cycles <= `until_cycle` (the assessment window)."""
    new, _ = _with_flow_cost(
        spec, strategy, from_state, to_state, category, f"-{_limit(amount, until_cycle)}"
    )
    new.settings.allow_negative_costs = True
    return ModelSpec.model_validate({**new.model_dump(by_alias=True), "base_dir": new.base_dir})


def with_payment_on_outcome(
    spec: ModelSpec,
    strategy: str,
    from_state: str,
    to_state: str,
    amount: str | float,
    category: str,
    until_cycle: int | None = None,
) -> ModelSpec:
    """Pay `amount` only on the response flow from_state -> to_state and drop the up-front
    (initial) cost of `category` for this strategy."""
    new, strat = _with_flow_cost(
        spec, strategy, from_state, to_state, category, _limit(amount, until_cycle)
    )
    initial = dict(strat.initial_costs if strat.initial_costs is not None else new.initial_costs)
    initial[category] = 0
    strat.initial_costs = initial
    return ModelSpec.model_validate({**new.model_dump(by_alias=True), "base_dir": new.base_dir})


def with_instalments(
    spec: ModelSpec,
    strategy: str,
    amount: str | float,
    n_cycles: int,
    category: str,
    conditional_on_alive: bool = True,
) -> ModelSpec:
    """Replace the up-front cost of `category` by `amount` per cycle for the first `n_cycles`
    cycles, paid for patients alive (or, unconditionally, for every patient who started)."""
    if n_cycles < 1:
        raise HeconError(f"instalments: n_cycles must be >= 1, got {n_cycles}")
    new, strat = _copy_strategy(spec, strategy)
    costs = {
        c: dict(v)
        for c, v in (
            strat.state_costs if strat.state_costs is not None else new.state_costs
        ).items()
    }
    per_state = costs.setdefault(category, {})
    payment = _limit(amount, n_cycles)
    for state in new.states:
        if conditional_on_alive and state.dead:
            continue
        existing = per_state.get(state.name)
        per_state[state.name] = payment if existing is None else f"({existing}) + {payment}"
    strat.state_costs = costs
    initial = dict(strat.initial_costs if strat.initial_costs is not None else new.initial_costs)
    initial[category] = 0
    strat.initial_costs = initial
    return ModelSpec.model_validate({**new.model_dump(by_alias=True), "base_dir": new.base_dir})


def instalment_for_price(
    price: float, rate: float, n_cycles: int, cycle_length: float = 1.0
) -> float:
    """Instalment paid at the end of each of `n_cycles` cycles whose present value equals
    `price` (annuity-immediate): A = P (1 - v) / (v (1 - v^n)), v = (1 + r)^-L."""
    if n_cycles < 1 or price < 0:
        raise HeconError("instalment_for_price: need n_cycles >= 1 and price >= 0")
    v = (1 + rate) ** (-cycle_length)
    if rate == 0:
        return price / n_cycles
    return float(price * (1 - v) / (v * (1 - v**n_cycles)))


@dataclass
class PaymentProfile:
    cashflows: pd.DataFrame  # time, mean, p05, p95 (undiscounted payer payments per patient)
    expected_cost: float  # expected discounted cost in the category (= equivalent up-front price)
    sd: float
    p05: float
    p95: float
    draws: np.ndarray  # discounted cost per draw

    @property
    def equivalent_upfront_price(self) -> float:
        return self.expected_cost


def payment_profile(
    spec: ModelSpec,
    strategy: str,
    category: str,
    n_draws: int | None = None,
    seed: int | None = None,
) -> PaymentProfile:
    """Payer's payments of `category` for `strategy`: cash flows over time, expected
    discounted cost (the equivalent up-front price), and its distribution under the PSA."""
    model = MarkovModel(spec)
    if category not in model.categories:
        raise HeconError(f"unknown cost category {category!r}; categories: {model.categories}")
    res = model.run(n_draws=n_draws, seed=seed, keep_cashflows=True)
    flows = res.cashflows[strategy][category]
    rows = res.summary[res.summary.strategy == strategy]
    discounted = rows[f"cost_{category}"].to_numpy()
    times = np.arange(flows.shape[1]) * spec.settings.cycle_length
    frame = pd.DataFrame(
        {
            "time": times,
            "mean": flows.mean(axis=0),
            "p05": np.percentile(flows, 5, axis=0),
            "p95": np.percentile(flows, 95, axis=0),
        }
    )
    return PaymentProfile(
        cashflows=frame,
        expected_cost=float(discounted.mean()),
        sd=float(discounted.std(ddof=1)) if discounted.size > 1 else 0.0,
        p05=float(np.percentile(discounted, 5)),
        p95=float(np.percentile(discounted, 95)),
        draws=discounted,
    )


# --- population level ---------------------------------------------------------------------


def population_spend(per_patient: np.ndarray, new_patients: Sequence[float]) -> np.ndarray:
    """Yearly spend when `new_patients[y]` start treatment in year y (annual cycles):
    spend[y] = sum_{c <= y} new_patients[c] * per_patient[y - c]. per_patient is (draws, T+1)
    undiscounted payments at times 0..T (time 0 = start); result (draws, years)."""
    pp = np.atleast_2d(np.asarray(per_patient, dtype=float))
    n = np.asarray(new_patients, dtype=float)
    if np.any(n < 0):
        raise HeconError("new_patients must be >= 0")
    years = n.size
    out = np.zeros((pp.shape[0], years))
    for c, count in enumerate(n):
        span = min(years - c, pp.shape[1])
        out[:, c : c + span] += count * pp[:, :span]
    return out


def price_volume_spend(volume: Sequence[float], tiers: Sequence[tuple[float, float]]) -> np.ndarray:
    """Spend per year under a price-volume agreement: `tiers` = [(from_volume, unit_price),
    ...] with increasing from_volume starting at 0; units within each band pay its price."""
    if not tiers or tiers[0][0] != 0:
        raise HeconError("price-volume tiers must start at volume 0")
    starts = np.array([t[0] for t in tiers], dtype=float)
    prices = np.array([t[1] for t in tiers], dtype=float)
    if np.any(np.diff(starts) <= 0) or np.any(prices < 0):
        raise HeconError("price-volume tiers need increasing volumes and prices >= 0")
    v = np.asarray(volume, dtype=float)[:, None]
    ends = np.append(starts[1:], np.inf)[None, :]
    units = np.clip(np.minimum(v, ends) - starts[None, :], 0, None)
    return np.asarray((units * prices[None, :]).sum(axis=1))


def budget_cap(spend: np.ndarray, cap: float | Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Payer pays at most `cap` per year; the manufacturer rebates the excess.
    Returns (payer spend, rebate); payer + rebate = spend."""
    s = np.asarray(spend, dtype=float)
    c = np.asarray(cap, dtype=float)
    if np.any(c < 0):
        raise HeconError("budget cap must be >= 0")
    paid = np.minimum(s, c)
    return paid, s - paid


def coverage_with_evidence_development(
    costs: np.ndarray,
    effects: np.ndarray,
    strategies: Sequence[str],
    inputs: pd.DataFrame,
    parameters: Sequence[str],
    prior_sample_size: float,
    sample_size: int,
    wtp: float,
    annual_population: float,
    horizon_years: int,
    discount_rate: float,
    study_cost: float,
) -> dict[str, float | str]:
    """Is it worth collecting more data (coverage with evidence development) before a final
    decision? Expected net gain of sampling = population EVSI - study cost, with the per-person
    EVSI from the Gaussian approximation (Jalal & Alarid-Escudero 2018) in :mod:`.voi`.
    Decision 'collect_evidence' when the gain is positive, else 'decide_now'."""
    from permedhub.hecon import cea, voi  # the analysis part of the library

    psa = cea.psa_sample(costs, effects, list(strategies))
    frame = voi.evsi_gaussian_approximation(
        psa, inputs, list(parameters), prior_sample_size, [sample_size], wtp=[wtp]
    )
    per_person = float(frame["evsi"].iloc[0])
    evpi_value = float(frame["evpi"].iloc[0])
    population = voi.population_multiplier(annual_population, horizon_years, discount_rate)
    gain = per_person * population - study_cost
    return {
        "evsi_per_person": per_person,
        "evpi_per_person": evpi_value,
        "population": population,
        "evsi_population": per_person * population,
        "study_cost": float(study_cost),
        "expected_net_gain_of_sampling": gain,
        "decision": "collect_evidence" if gain > 0 else "decide_now",
    }


def discounted_spend_summary(
    schemes: dict[str, np.ndarray], new_patients: Sequence[float], discount_rate: float
) -> pd.DataFrame:
    """Per payment scheme (label -> payer's spend, draws x years): the expected discounted
    spend, its spread over PSA draws (sd, 5th and 95th percentiles) and the equivalent up-front
    price per patient = expected discounted spend / discounted patients.

    Year y (0-based) is weighted (1 + r)^-y, the timing of `voi.population_multiplier` (first
    year undiscounted), so spend and patients are discounted alike and a single list price
    comes back as itself.
    """
    from permedhub.hecon import voi

    if discount_rate < 0:
        raise HeconError(f"discount_rate = {discount_rate}: expected >= 0")
    patients = voi.population_multiplier(list(new_patients), len(new_patients), discount_rate)
    rows = []
    for label, spend in schemes.items():
        spend = np.atleast_2d(np.asarray(spend, dtype=float))
        weights = (1.0 + discount_rate) ** -np.arange(spend.shape[1], dtype=float)
        present = spend @ weights
        expected = float(present.mean())
        rows.append(
            {
                "payment": label,
                "expected discounted spend": expected,
                "sd": float(present.std(ddof=1)) if present.size > 1 else 0.0,
                "p05": float(np.percentile(present, 5)),
                "p95": float(np.percentile(present, 95)),
                "discounted patients": patients,
                "equivalent up-front price per patient": expected / patients if patients else 0.0,
            }
        )
    return pd.DataFrame(rows)


def evsi_by_horizon(
    evsi_per_person: float,
    annual_population: float,
    horizon_years: int,
    discount_rate: float,
    study_cost: float,
) -> pd.DataFrame:
    """The value of a study's information as the decision horizon grows: per-person EVSI times
    the discounted population of the first t years (`voi.population_multiplier`), against a
    study cost paid up front. The last row equals `coverage_with_evidence_development`'s
    population EVSI and net gain for the same inputs."""
    from permedhub.hecon import voi

    if horizon_years < 1:
        raise HeconError(f"horizon_years = {horizon_years}: expected >= 1")
    years = np.arange(1, horizon_years + 1)
    population = np.array(
        [voi.population_multiplier(annual_population, int(t), discount_rate) for t in years]
    )
    value = evsi_per_person * population
    return pd.DataFrame(
        {
            "year": years,
            "discounted patients so far": population,
            "population EVSI so far": value,
            "study cost": np.full(years.size, float(study_cost)),
            "net gain so far": value - study_cost,
        }
    )
