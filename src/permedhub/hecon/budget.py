"""Budget impact over a horizon (ISPOR good-practice design, Sullivan et al., Value Health
2014;17(1):5-14): an eligible population made of a prevalent pool and incident cohorts, market
shares (uptake) per year, and per-patient annual costs that depend on the years since a
patient started.

Conventions (all explicit arguments):

- Years are numbered 1..H. The prevalent pool and the first incident cohort start treatment in
  year 1; the incident cohort of year ``e`` starts in year ``e``.
- A cohort is split between strategies by the market shares **of its entry year** and keeps
  its strategy afterwards (patients do not switch when later shares change).
- A patient in their ``k``-th year of treatment (``k = 1`` in the entry year) costs
  ``annual_costs[strategy][k - 1]``; ``beyond_profile`` says what happens after the profile
  ends: ``"zero"`` (treatment complete) or ``"repeat_last"`` (chronic treatment).
- ``persistence[k - 1]`` (optional) is the share of a cohort still treated in its ``k``-th
  year (deaths and discontinuation); by default everyone stays.
- Discounting: year ``t`` is multiplied by ``(1 + r)^-(t - 1)``, or ``(1 + r)^-t`` when
  ``discount_first_year`` is true. Budget impact analyses usually report undiscounted figures
  (``discount_rate=0``).

So the cost of strategy ``s`` in year ``t`` is
``Σ_{e ≤ t} N_e · share_s(e) · persistence[t - e] · cost_s[t - e]`` with ``N_1`` the prevalent
pool plus the first incident cohort and ``N_e`` the incident cohort of year ``e``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from permedhub.hecon.cea import AnalysisInputError

FloatArray = npt.NDArray[np.float64]
BeyondProfile = Literal["zero", "repeat_last"]

_SHARE_TOLERANCE = 1e-9


def _per_year(name: str, values: float | Sequence[float], horizon: int) -> FloatArray:
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise AnalysisInputError(f"{name}: expected one number per year, got shape {array.shape}")
    if array.size == 1:
        array = np.full(horizon, array[0])
    if array.size != horizon:
        raise AnalysisInputError(f"{name}: expected 1 or {horizon} values, got {array.size}")
    _check_non_negative(name, array)
    return array


def _check_non_negative(name: str, array: FloatArray) -> None:
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0))
    if bad.size:
        raise AnalysisInputError(
            f"{name}: expected finite values >= 0, got {array[bad[0]]} at position {bad[0]}"
        )


def _profile(
    name: str, values: Sequence[float], horizon: int, beyond_profile: BeyondProfile
) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise AnalysisInputError(f"{name}: expected a non-empty list of annual values")
    _check_non_negative(name, array)
    if array.size >= horizon:
        return array[:horizon]
    if beyond_profile == "zero":
        tail = np.zeros(horizon - array.size)
    elif beyond_profile == "repeat_last":
        tail = np.full(horizon - array.size, array[-1])
    else:
        raise AnalysisInputError(
            f"beyond_profile: expected 'zero' or 'repeat_last', got {beyond_profile!r}"
        )
    return np.concatenate((array, tail))


def budget_impact(
    horizon_years: int,
    prevalent: float,
    incident: float | Sequence[float],
    market_shares: Mapping[str, float | Sequence[float]],
    annual_costs: Mapping[str, Sequence[float]],
    *,
    beyond_profile: BeyondProfile,
    persistence: Sequence[float] | None = None,
    discount_rate: float = 0.0,
    discount_first_year: bool = False,
    shares_name: str = "market_shares",
) -> pd.DataFrame:
    """Patients and costs by year and strategy for one scenario of market shares.

    Returns a tidy frame with columns ``year, strategy, new_patients, patients, cost,
    discounted_cost`` (``patients`` = patients treated during the year). Errors about the
    shares call them `shares_name` (e.g. the document key they came from).
    """
    if not isinstance(horizon_years, int | np.integer) or horizon_years < 1:
        raise AnalysisInputError(f"horizon_years: expected an integer >= 1, got {horizon_years!r}")
    horizon = int(horizon_years)
    if not np.isfinite(prevalent) or prevalent < 0:
        raise AnalysisInputError(f"prevalent: expected a finite count >= 0, got {prevalent}")
    if not np.isfinite(discount_rate) or discount_rate < 0:
        raise AnalysisInputError(f"discount_rate: expected a finite rate >= 0, got {discount_rate}")
    incident_per_year = _per_year("incident", incident, horizon)

    strategies = list(market_shares)
    if not strategies:
        raise AnalysisInputError(f"{shares_name}: expected at least one strategy, got none")
    if set(strategies) != set(annual_costs):
        raise AnalysisInputError(
            f"annual_costs: strategies {sorted(annual_costs)} do not match {shares_name} "
            f"strategies {sorted(strategies)}"
        )
    shares = np.vstack(
        [_per_year(f"{shares_name}[{s!r}]", market_shares[s], horizon) for s in strategies]
    )
    over = np.flatnonzero(shares.max(axis=0) > 1.0)
    if over.size:
        raise AnalysisInputError(
            f"{shares_name}: a share above 1 in year {over[0] + 1}: {shares[:, over[0]].tolist()}"
        )
    totals = shares.sum(axis=0)
    off = np.flatnonzero(np.abs(totals - 1.0) > _SHARE_TOLERANCE)
    if off.size:
        raise AnalysisInputError(
            f"{shares_name}: shares must sum to 1 in every year; year {off[0] + 1} sums to "
            f"{totals[off[0]]}"
        )
    costs = np.vstack(
        [
            _profile(f"annual_costs[{s!r}]", annual_costs[s], horizon, beyond_profile)
            for s in strategies
        ]
    )
    if beyond_profile not in ("zero", "repeat_last"):
        raise AnalysisInputError(
            f"beyond_profile: expected 'zero' or 'repeat_last', got {beyond_profile!r}"
        )
    if persistence is None:
        staying = np.ones(horizon)
    else:
        staying = _profile("persistence", persistence, horizon, beyond_profile="repeat_last")
        if np.any(staying > 1.0):
            raise AnalysisInputError(f"persistence: expected shares in [0, 1], got {staying.max()}")

    cohort_sizes = incident_per_year.copy()
    cohort_sizes[0] += prevalent
    entrants = shares * cohort_sizes[None, :]  # (strategy, entry year)
    # lag[t, e] = t - e years since entry for calendar year t and entry year e (0-based).
    lag = np.arange(horizon)[:, None] - np.arange(horizon)[None, :]
    active = lag >= 0
    lag_index = np.where(active, lag, 0)
    treated_weight = np.where(active, staying[lag_index], 0.0)  # (t, e)
    patients = entrants @ treated_weight.T  # (strategy, t)
    cost_weight = treated_weight[None, :, :] * costs[:, lag_index]  # (strategy, t, e)
    cost = np.einsum("ste,se->st", cost_weight, entrants)
    exponent = np.arange(horizon) + (1 if discount_first_year else 0)
    discount = (1.0 + discount_rate) ** -exponent.astype(np.float64)

    years = np.arange(1, horizon + 1)
    return pd.DataFrame(
        {
            "year": np.tile(years, len(strategies)),
            "strategy": np.repeat(np.array(strategies, dtype=object), horizon),
            "new_patients": entrants.ravel(),
            "patients": patients.ravel(),
            "cost": cost.ravel(),
            "discounted_cost": (cost * discount[None, :]).ravel(),
        }
    )


def budget_impact_difference(scenario: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Yearly totals of two :func:`budget_impact` results and their difference.

    Columns: ``year, cost_scenario, cost_reference, budget_impact, discounted_budget_impact``.
    """
    for name, frame in (("scenario", scenario), ("reference", reference)):
        missing = {"year", "cost", "discounted_cost"} - set(frame.columns)
        if missing:
            raise AnalysisInputError(f"{name}: missing columns {sorted(missing)}")
    left = scenario.groupby("year")[["cost", "discounted_cost"]].sum()
    right = reference.groupby("year")[["cost", "discounted_cost"]].sum()
    if not left.index.equals(right.index):
        raise AnalysisInputError(
            f"reference: years {right.index.tolist()} differ from the scenario's "
            f"{left.index.tolist()}"
        )
    result = pd.DataFrame(
        {
            "year": left.index.to_numpy(),
            "cost_scenario": left["cost"].to_numpy(),
            "cost_reference": right["cost"].to_numpy(),
            "budget_impact": (left["cost"] - right["cost"]).to_numpy(),
            "discounted_budget_impact": (
                left["discounted_cost"] - right["discounted_cost"]
            ).to_numpy(),
        }
    )
    return result
