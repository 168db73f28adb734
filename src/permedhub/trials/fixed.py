"""Fixed (single-analysis) two-arm designs: sample size, power and detectable effect.

Endpoints and methods:

* Binary: normal approximation to the difference of two proportions with pooled (under H0) or
  unpooled variance, optionally with the Fleiss, Tytun & Ury (1980) continuity correction.
* Continuous: normal approximation, or the exact t-test power from the noncentral t
  distribution (sample size found by iterating on it).
* Time-to-event: number of events by Schoenfeld (1981/1983) or Freedman (1982); number of
  patients from uniform accrual, follow-up and dropout with piecewise-exponential hazards (the
  probability of an event by the end of the study is integrated over the entry times).

Conventions: ``alpha`` is one-sided when ``sided=1`` and two-sided when ``sided=2`` (the
power counts rejections in the direction of the effect only, as in R's ``power.t.test`` and
``power.prop.test``); ``allocation_ratio`` = n_treatment / n_control. Sample sizes are rounded
up per arm so that both arms are whole numbers with the treatment arm
``ceil(allocation_ratio * n_control)``; achieved power is reported at the rounded sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from scipy import integrate, stats
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from permedhub.trials.errors import (
    TrialInputError,
    check_alpha,
    check_positive,
    check_probability,
    require,
)

Variance = Literal["pooled", "unpooled"]
TTEMethod = Literal["schoenfeld", "freedman"]
_MAX_N = 1e9


@dataclass(frozen=True)
class FixedDesign:
    """Result of a fixed two-arm sample-size calculation."""

    endpoint: str
    method: str
    n_control: int | None  # None for an events-only (time-to-event) calculation
    n_treatment: int | None
    power: float
    events: int | None = None
    probability_of_event: float | None = None
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def n_total(self) -> int | None:
        if self.n_control is None or self.n_treatment is None:
            return None
        return self.n_control + self.n_treatment

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "method": self.method,
            "n_control": self.n_control,
            "n_treatment": self.n_treatment,
            "n_total": self.n_total,
            "events": self.events,
            "probability_of_event": self.probability_of_event,
            "power": self.power,
            "inputs": self.inputs,
        }


def _levels(alpha: float, beta: float | None, sided: int) -> tuple[float, float]:
    check_alpha("alpha", alpha)
    if sided not in (1, 2):
        raise TrialInputError("sided", sided, "1 or 2")
    z_alpha = float(ndtri(1.0 - alpha / sided))
    if beta is None:
        return z_alpha, math.nan
    check_probability("beta", beta)
    if 1.0 - beta <= alpha / sided:
        raise TrialInputError(
            "beta", beta, f"power 1 - beta above the one-sided level {alpha / sided:g}"
        )
    return z_alpha, float(ndtri(1.0 - beta))


def _ratio(allocation_ratio: float) -> float:
    r = check_positive("allocation_ratio", allocation_ratio)
    if not 0.01 <= r <= 100.0:
        raise TrialInputError("allocation_ratio", allocation_ratio, "a number in [0.01, 100]")
    return r


def _arms(n_control: float, ratio: float) -> tuple[int, int]:
    if not math.isfinite(n_control) or n_control > _MAX_N:
        raise TrialInputError("sample size", n_control, f"a finite size below {_MAX_N:g}")
    control = max(1, math.ceil(n_control - 1e-9))
    return control, max(1, math.ceil(ratio * control - 1e-9))


def _check_n(name: str, value: float) -> float:
    n = check_positive(name, value)
    if n > _MAX_N:
        raise TrialInputError(name, value, f"a number below {_MAX_N:g}")
    return n


# ---------------------------------------------------------------------------------------------
# Binary endpoint
# ---------------------------------------------------------------------------------------------


def _binary_terms(p_control: float, p_treatment: float, ratio: float) -> tuple[float, float, float]:
    """(|difference|, SD factor under H0 per sqrt(n_control), SD factor under H1)."""
    difference = abs(p_treatment - p_control)
    pooled = (p_control + ratio * p_treatment) / (1.0 + ratio)
    sd_null = math.sqrt(pooled * (1.0 - pooled) * (1.0 + 1.0 / ratio))
    sd_alt = math.sqrt(p_control * (1 - p_control) + p_treatment * (1 - p_treatment) / ratio)
    return difference, sd_null, sd_alt


def _binary_n_control(
    p_control: float,
    p_treatment: float,
    z_alpha: float,
    z_beta: float,
    ratio: float,
    variance: Variance,
    continuity_correction: bool,
) -> float:
    difference, sd_null, sd_alt = _binary_terms(p_control, p_treatment, ratio)
    null_sd = sd_null if variance == "pooled" else sd_alt
    n = ((z_alpha * null_sd + z_beta * sd_alt) / difference) ** 2
    if continuity_correction:
        # Fleiss, Tytun & Ury (1980), unequal allocation: n' = n/4 (1 + sqrt(1 + c/n))^2.
        c = 2.0 * (ratio + 1.0) / (ratio * difference)
        n = n / 4.0 * (1.0 + math.sqrt(1.0 + c / n)) ** 2
    return n


def _check_binary(p_control: float, p_treatment: float, variance: str) -> None:
    check_probability("p_control", p_control)
    check_probability("p_treatment", p_treatment)
    if p_control == p_treatment:
        raise TrialInputError("p_treatment", p_treatment, "a value different from p_control")
    if variance not in ("pooled", "unpooled"):
        raise TrialInputError("variance", variance, "'pooled' or 'unpooled'")


def binary_power(
    p_control: float,
    p_treatment: float,
    n_control: float,
    alpha: float = 0.05,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    variance: Variance = "pooled",
    continuity_correction: bool = False,
) -> float:
    """Power of the two-proportion z-test with `n_control` patients in the control arm."""
    _check_binary(p_control, p_treatment, variance)
    z_alpha, _ = _levels(alpha, None, sided)
    ratio = _ratio(allocation_ratio)
    n = _check_n("n_control", n_control)
    difference, sd_null, sd_alt = _binary_terms(p_control, p_treatment, ratio)
    if continuity_correction:
        c = 2.0 * (ratio + 1.0) / (ratio * difference)
        n = max(n - c / 4.0, 0.0) ** 2 / n  # inverse of the Fleiss–Tytun–Ury correction
    null_sd = sd_null if variance == "pooled" else sd_alt
    return float(ndtr((difference * math.sqrt(n) - z_alpha * null_sd) / sd_alt))


def binary_sample_size(
    p_control: float,
    p_treatment: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    variance: Variance = "pooled",
    continuity_correction: bool = False,
) -> FixedDesign:
    """Patients per arm for comparing two proportions (normal approximation)."""
    _check_binary(p_control, p_treatment, variance)
    z_alpha, z_beta = _levels(alpha, beta, sided)
    ratio = _ratio(allocation_ratio)
    n = _binary_n_control(
        p_control, p_treatment, z_alpha, z_beta, ratio, variance, continuity_correction
    )
    control, treatment = _arms(n, ratio)
    power = binary_power(
        p_control, p_treatment, control, alpha, sided, treatment / control, variance,
        continuity_correction,
    )  # fmt: skip
    method = f"normal approximation, {variance} variance" + (
        ", continuity corrected" if continuity_correction else ""
    )
    return FixedDesign(
        endpoint="binary",
        method=method,
        n_control=control,
        n_treatment=treatment,
        power=power,
        inputs={
            "p_control": p_control, "p_treatment": p_treatment, "alpha": alpha, "beta": beta,
            "sided": sided, "allocation_ratio": ratio, "variance": variance,
            "continuity_correction": continuity_correction, "n_control_exact": n,
        },
    )  # fmt: skip


def binary_detectable_effect(
    p_control: float,
    n_control: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    variance: Variance = "pooled",
    continuity_correction: bool = False,
    direction: Literal["increase", "decrease"] = "increase",
) -> float:
    """Treatment-arm proportion detectable with power 1 - beta given the control arm size."""
    check_probability("p_control", p_control)
    _, _ = _levels(alpha, beta, sided)
    if direction not in ("increase", "decrease"):
        raise TrialInputError("direction", direction, "'increase' or 'decrease'")
    target = 1.0 - beta
    lo, hi = (p_control + 1e-9, 1.0 - 1e-9) if direction == "increase" else (1e-9, p_control - 1e-9)

    def gap(p: float) -> float:
        return (
            binary_power(
                p_control, p, n_control, alpha, sided, allocation_ratio, variance,
                continuity_correction,
            ) - target
        )  # fmt: skip

    far = hi if direction == "increase" else lo
    if lo >= hi or gap(far) < 0:
        raise TrialInputError(
            "n_control", n_control, f"a size large enough to reach power {target:g} at all"
        )
    return float(brentq(gap, lo, hi, xtol=1e-12))


# ---------------------------------------------------------------------------------------------
# Continuous endpoint
# ---------------------------------------------------------------------------------------------


def _t_power(
    delta: float, sd: float, n_control: float, ratio: float, alpha: float, sided: int
) -> float:
    n_treatment = ratio * n_control
    df = n_control + n_treatment - 2.0
    if df <= 0:
        return 0.0
    noncentrality = abs(delta) / (sd * math.sqrt(1.0 / n_control + 1.0 / n_treatment))
    critical = stats.t.ppf(1.0 - alpha / sided, df)
    return float(stats.nct.sf(critical, df, noncentrality))


def continuous_power(
    delta: float,
    sd: float,
    n_control: float,
    alpha: float = 0.05,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    method: Literal["normal", "t"] = "t",
) -> float:
    """Power to detect a mean difference `delta` (outcome SD `sd`)."""
    _check_continuous(delta, sd, method)
    z_alpha, _ = _levels(alpha, None, sided)
    ratio = _ratio(allocation_ratio)
    n = _check_n("n_control", n_control)
    if method == "t":
        if n * (1.0 + ratio) <= 2.0:
            raise TrialInputError("n_control", n_control, "more than 2 patients in total")
        return _t_power(delta, sd, n, ratio, alpha, sided)
    standard_error = sd * math.sqrt(1.0 / n + 1.0 / (ratio * n))
    return float(ndtr(abs(delta) / standard_error - z_alpha))


def _check_continuous(delta: float, sd: float, method: str) -> None:
    if not isinstance(delta, int | float) or not math.isfinite(delta) or delta == 0:
        raise TrialInputError("delta", delta, "a finite non-zero mean difference")
    check_positive("sd", sd)
    if method not in ("normal", "t"):
        raise TrialInputError("method", method, "'normal' or 't'")


def continuous_sample_size(
    delta: float,
    sd: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    method: Literal["normal", "t"] = "t",
) -> FixedDesign:
    """Patients per arm to detect a mean difference `delta` with power 1 - beta."""
    _check_continuous(delta, sd, method)
    z_alpha, z_beta = _levels(alpha, beta, sided)
    ratio = _ratio(allocation_ratio)
    n = (z_alpha + z_beta) ** 2 * sd**2 * (1.0 + 1.0 / ratio) / delta**2
    if method == "t":
        # The normal-theory size is a lower bound; iterate on the noncentral t power.
        lowest = 2.0 / (1.0 + ratio) + 1e-6
        target = 1.0 - beta

        def gap(m: float) -> float:
            return _t_power(delta, sd, m, ratio, alpha, sided) - target

        upper = max(n, lowest) * 2.0 + 10.0
        while gap(upper) < 0:
            upper *= 2.0
            if upper > _MAX_N:
                raise TrialInputError("delta", delta, "an effect detectable below 1e9 patients")
        n = float(brentq(gap, lowest, upper, xtol=1e-10)) if gap(lowest) < 0 else lowest
    control, treatment = _arms(n, ratio)
    power = continuous_power(delta, sd, control, alpha, sided, treatment / control, method)
    return FixedDesign(
        endpoint="continuous",
        method="noncentral t" if method == "t" else "normal approximation",
        n_control=control,
        n_treatment=treatment,
        power=power,
        inputs={
            "delta": delta, "sd": sd, "alpha": alpha, "beta": beta, "sided": sided,
            "allocation_ratio": ratio, "n_control_exact": n,
        },
    )  # fmt: skip


def continuous_detectable_effect(
    sd: float,
    n_control: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    method: Literal["normal", "t"] = "t",
) -> float:
    """Smallest positive mean difference detected with power 1 - beta."""
    _check_continuous(1.0, sd, method)
    z_alpha, z_beta = _levels(alpha, beta, sided)
    ratio = _ratio(allocation_ratio)
    n = _check_n("n_control", n_control)
    normal = (z_alpha + z_beta) * sd * math.sqrt(1.0 / n + 1.0 / (ratio * n))
    if method == "normal":
        return float(normal)
    if n * (1.0 + ratio) <= 2.0:
        raise TrialInputError("n_control", n_control, "more than 2 patients in total")
    target = 1.0 - beta
    upper = normal * 2.0
    while _t_power(upper, sd, n, ratio, alpha, sided) < target:
        upper *= 2.0
    return float(
        brentq(lambda d: _t_power(d, sd, n, ratio, alpha, sided) - target, 1e-12, upper, xtol=1e-12)
    )


# ---------------------------------------------------------------------------------------------
# Time-to-event endpoint
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PiecewiseExponential:
    """Hazard `rates[j]` on [cuts[j], cuts[j+1]) with cuts[0] = 0 and the last piece open.

    ``PiecewiseExponential.constant(0.05)`` is the exponential distribution.
    """

    rates: tuple[float, ...]
    cuts: tuple[float, ...] = (0.0,)

    def __post_init__(self) -> None:
        if len(self.rates) == 0 or len(self.rates) != len(self.cuts):
            raise TrialInputError("rates/cuts", (self.rates, self.cuts), "one rate per cut")
        for rate in self.rates:
            check_positive("hazard rate", rate, allow_zero=True)
        if self.cuts[0] != 0.0 or any(
            b <= a for a, b in zip(self.cuts, self.cuts[1:], strict=False)
        ):
            raise TrialInputError("cuts", list(self.cuts), "strictly increasing times from 0")

    @staticmethod
    def constant(rate: float) -> PiecewiseExponential:
        return PiecewiseExponential((float(rate),), (0.0,))

    @staticmethod
    def from_median(median: float) -> PiecewiseExponential:
        return PiecewiseExponential.constant(math.log(2.0) / check_positive("median", median))

    def scaled(self, factor: float) -> PiecewiseExponential:
        return PiecewiseExponential(tuple(r * factor for r in self.rates), self.cuts)

    def cumulative_hazard(self, time: np.ndarray) -> np.ndarray:
        cuts = np.asarray(self.cuts)
        rates = np.asarray(self.rates)
        widths = np.diff(cuts)
        at_cut = np.concatenate([[0.0], np.cumsum(rates[:-1] * widths)])
        piece = np.searchsorted(cuts, time, side="right") - 1
        return at_cut[piece] + rates[piece] * (time - cuts[piece])


def probability_of_event(
    hazard: PiecewiseExponential,
    accrual_duration: float,
    follow_up: float,
    dropout: PiecewiseExponential | None = None,
) -> float:
    """P(event observed by the end of the study) with uniform accrual over `accrual_duration`
    and `follow_up` after the last patient entered, dropout competing with the event.

    A patient followed for u has P(event) = integral_0^u h(s) S(s) G(s) ds (S: event-free,
    G: not dropped out); that is averaged over u uniform on [follow_up, accrual + follow_up].
    """
    check_positive("accrual_duration", accrual_duration, allow_zero=True)
    check_positive("follow_up", follow_up, allow_zero=True)
    if accrual_duration + follow_up <= 0:
        raise TrialInputError("follow_up", follow_up, "accrual + follow-up > 0")
    loss = dropout or PiecewiseExponential.constant(0.0)
    breaks = np.unique(np.concatenate([hazard.cuts, loss.cuts]))

    def event_by(u: float) -> float:
        # Exact within pieces where both hazards are constant.
        edges = np.concatenate([breaks[breaks < u], [u]])
        start, end = edges[:-1], edges[1:]
        lam = np.asarray(hazard.rates)[np.searchsorted(hazard.cuts, start, side="right") - 1]
        mu = np.asarray(loss.rates)[np.searchsorted(loss.cuts, start, side="right") - 1]
        total = lam + mu
        survive_start = np.exp(-hazard.cumulative_hazard(start) - loss.cumulative_hazard(start))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, lam / total, 0.0)
        return float(np.sum(share * survive_start * -np.expm1(-total * (end - start))))

    if accrual_duration == 0:
        return event_by(follow_up)
    lower, upper = follow_up, follow_up + accrual_duration
    inner = [float(b) for b in breaks if lower < b < upper]
    value, _ = integrate.quad(event_by, lower, upper, points=inner or None, limit=200)
    return float(value / accrual_duration)


def _check_hr(hazard_ratio: float) -> float:
    hr = check_positive("hazard_ratio", hazard_ratio)
    if hr == 1.0:
        raise TrialInputError("hazard_ratio", hazard_ratio, "a positive number other than 1")
    return hr


def survival_events(
    hazard_ratio: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    method: TTEMethod = "schoenfeld",
) -> float:
    """Required number of events (not rounded) for the log-rank test.

    Schoenfeld (1983): D = (z_a + z_b)^2 / (p (1 - p) log(HR)^2), p = r / (1 + r).
    Freedman (1982): D = (z_a + z_b)^2 (1 + r HR)^2 / (r (1 - HR)^2).
    """
    hr = _check_hr(hazard_ratio)
    z_alpha, z_beta = _levels(alpha, beta, sided)
    ratio = _ratio(allocation_ratio)
    if method == "schoenfeld":
        share = ratio / (1.0 + ratio)
        return (z_alpha + z_beta) ** 2 / (share * (1.0 - share) * math.log(hr) ** 2)
    if method == "freedman":
        return (z_alpha + z_beta) ** 2 * (1.0 + ratio * hr) ** 2 / (ratio * (1.0 - hr) ** 2)
    raise TrialInputError("method", method, "'schoenfeld' or 'freedman'")


def survival_power(
    hazard_ratio: float,
    events: float,
    alpha: float = 0.05,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    method: TTEMethod = "schoenfeld",
) -> float:
    """Power of the log-rank test with `events` events."""
    hr = _check_hr(hazard_ratio)
    z_alpha, _ = _levels(alpha, None, sided)
    ratio = _ratio(allocation_ratio)
    d = _check_n("events", events)
    if method == "schoenfeld":
        share = ratio / (1.0 + ratio)
        signal = math.sqrt(d * share * (1.0 - share)) * abs(math.log(hr))
    elif method == "freedman":
        signal = math.sqrt(d * ratio) * abs(1.0 - hr) / (1.0 + ratio * hr)
    else:
        raise TrialInputError("method", method, "'schoenfeld' or 'freedman'")
    return float(ndtr(signal - z_alpha))


def survival_detectable_hazard_ratio(
    events: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    method: TTEMethod = "schoenfeld",
) -> float:
    """Hazard ratio (< 1, benefit) detectable with power 1 - beta given `events`."""
    _levels(alpha, beta, sided)
    d = _check_n("events", events)
    target = 1.0 - beta

    def gap(hr: float) -> float:
        return survival_power(hr, d, alpha, sided, allocation_ratio, method) - target

    return float(brentq(gap, 1e-9, 1.0 - 1e-12, xtol=1e-14))


def survival_event_design(
    hazard_ratio: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    method: TTEMethod = "schoenfeld",
) -> FixedDesign:
    """Events only (no accrual model): the whole number of events and its power."""
    events = survival_events(hazard_ratio, alpha, beta, sided, allocation_ratio, method)
    whole = math.ceil(events - 1e-9)
    return FixedDesign(
        endpoint="survival",
        method=f"{method} events",
        n_control=None,
        n_treatment=None,
        power=survival_power(hazard_ratio, whole, alpha, sided, allocation_ratio, method),
        events=whole,
        inputs={
            "hazard_ratio": hazard_ratio, "alpha": alpha, "beta": beta, "sided": sided,
            "allocation_ratio": allocation_ratio, "events_exact": events,
        },
    )  # fmt: skip


def survival_sample_size(
    hazard_ratio: float,
    control_hazard: PiecewiseExponential,
    accrual_duration: float,
    follow_up: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    method: TTEMethod = "schoenfeld",
    dropout: PiecewiseExponential | None = None,
) -> FixedDesign:
    """Events and patients for a log-rank comparison under proportional hazards.

    The treatment arm's hazard is ``hazard_ratio`` times the control hazard in every piece; the
    same dropout hazard applies to both arms. Patients = events / P(event), with P(event)
    averaged over arms by allocation.
    """
    events = survival_events(hazard_ratio, alpha, beta, sided, allocation_ratio, method)
    ratio = _ratio(allocation_ratio)
    p_control = probability_of_event(control_hazard, accrual_duration, follow_up, dropout)
    p_treatment = probability_of_event(
        control_hazard.scaled(hazard_ratio), accrual_duration, follow_up, dropout
    )
    p_event = (p_control + ratio * p_treatment) / (1.0 + ratio)
    if p_event <= 0:
        raise TrialInputError("control_hazard", control_hazard.rates, "hazards giving events")
    total = events / p_event
    control, treatment = _arms(total / (1.0 + ratio), ratio)
    whole_events = math.ceil(events - 1e-9)
    return FixedDesign(
        endpoint="survival",
        method=f"{method} events; uniform accrual, piecewise-exponential hazards",
        n_control=control,
        n_treatment=treatment,
        power=survival_power(hazard_ratio, whole_events, alpha, sided, ratio, method),
        events=whole_events,
        probability_of_event=p_event,
        inputs={
            "hazard_ratio": hazard_ratio,
            "control_hazard_rates": list(control_hazard.rates),
            "control_hazard_cuts": list(control_hazard.cuts),
            "dropout_rates": list(dropout.rates) if dropout else [0.0],
            "dropout_cuts": list(dropout.cuts) if dropout else [0.0],
            "accrual_duration": accrual_duration, "follow_up": follow_up, "alpha": alpha,
            "beta": beta, "sided": sided, "allocation_ratio": ratio,
            "events_exact": events, "patients_exact": total,
        },
    )  # fmt: skip


def hazard_from_rates(
    rates: Sequence[float], cuts: Sequence[float] | None = None
) -> PiecewiseExponential:
    """Convenience constructor: ``hazard_from_rates([0.05, 0.03], [0, 6])``."""
    return PiecewiseExponential(
        tuple(float(r) for r in rates), tuple(float(c) for c in (cuts or [0.0]))
    )


@dataclass(frozen=True)
class PowerAndEffect:
    """The inverse problem at a given size: the effect detectable with power 1 - beta and,
    when an effect is given, the power to detect it."""

    endpoint: str
    size: float  # patients per control arm, or events (survival)
    detectable: float
    power: float | None
    inputs: dict[str, Any] = field(default_factory=dict)

    # endpoint -> (JSON key, label) of the detectable effect
    _DETECTABLE: ClassVar[dict[str, tuple[str, str]]] = {
        "survival": ("detectable_hazard_ratio", "detectable hazard ratio"),
        "binary": ("detectable_p_treatment", "detectable treatment response rate"),
        "continuous": ("detectable_delta", "detectable mean difference"),
    }

    def rows(self) -> list[tuple[str, float]]:
        """(label, value) for people: size, detectable effect, power when computed."""
        size_label = "events" if self.endpoint == "survival" else "patients per control arm"
        rows = [(size_label, self.size), (self._DETECTABLE[self.endpoint][1], self.detectable)]
        return rows + ([("power", self.power)] if self.power is not None else [])

    def to_dict(self) -> dict[str, Any]:
        size_key = "events" if self.endpoint == "survival" else "n_control"
        result: dict[str, Any] = {"endpoint": self.endpoint, **self.inputs, size_key: self.size}
        result[self._DETECTABLE[self.endpoint][0]] = self.detectable
        if self.power is not None:
            result["power"] = self.power
        return result


def power_and_effect(
    endpoint: Literal["binary", "continuous", "survival"],
    size: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    *,
    p_control: float | None = None,
    p_treatment: float | None = None,
    variance: Variance = "pooled",
    continuity_correction: bool = False,
    sd: float | None = None,
    delta: float | None = None,
    continuous_method: Literal["normal", "t"] = "t",
    hazard_ratio: float | None = None,
    survival_method: TTEMethod = "schoenfeld",
) -> PowerAndEffect:
    """Detectable effect and power at `size` patients per control arm (events for survival);
    the effect (`p_treatment`, `delta`, `hazard_ratio`) is optional, the nuisance parameter
    (`p_control`, `sd`) is required."""
    inputs = {"alpha": alpha, "beta": beta, "sided": sided}
    power: float | None = None
    if endpoint == "survival":
        detectable = survival_detectable_hazard_ratio(
            size, alpha, beta, sided, allocation_ratio, survival_method
        )
        if hazard_ratio is not None:
            power = survival_power(hazard_ratio, size, alpha, sided, allocation_ratio,
                                   survival_method)  # fmt: skip
    elif endpoint == "binary":
        p_control = require("p_control", p_control, "the binary endpoint")
        detectable = binary_detectable_effect(
            p_control, size, alpha, beta, sided, allocation_ratio, variance, continuity_correction
        )
        if p_treatment is not None:
            power = binary_power(p_control, p_treatment, size, alpha, sided, allocation_ratio,
                                 variance, continuity_correction)  # fmt: skip
    elif endpoint == "continuous":
        sd = require("sd", sd, "the continuous endpoint")
        detectable = continuous_detectable_effect(
            sd, size, alpha, beta, sided, allocation_ratio, continuous_method
        )
        if delta is not None:
            power = continuous_power(delta, sd, size, alpha, sided, allocation_ratio,
                                     continuous_method)  # fmt: skip
    else:
        raise TrialInputError("endpoint", endpoint, "binary, continuous or survival")
    return PowerAndEffect(endpoint, float(size), float(detectable), power, inputs)


def sample_size(
    endpoint: Literal["binary", "continuous", "survival"],
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    *,
    p_control: float | None = None,
    p_treatment: float | None = None,
    variance: Variance = "pooled",
    continuity_correction: bool = False,
    delta: float | None = None,
    sd: float | None = None,
    continuous_method: Literal["normal", "t"] = "t",
    hazard_ratio: float | None = None,
    survival_method: TTEMethod = "schoenfeld",
    median_control: float | None = None,
    control_hazard: PiecewiseExponential | None = None,
    accrual: float | None = None,
    follow_up: float | None = None,
    dropout_hazard: float = 0.0,
) -> FixedDesign:
    """The fixed two-arm design of `endpoint` from the inputs that endpoint reads (the others
    are ignored); a missing one is named. The portal and the CLI both call this."""
    needed_for = f"the {endpoint} endpoint"
    if endpoint == "binary":
        return binary_sample_size(
            require("p_control", p_control, needed_for),
            require("p_treatment", p_treatment, needed_for),
            alpha, beta, sided, allocation_ratio, variance, continuity_correction,
        )  # fmt: skip
    if endpoint == "continuous":
        return continuous_sample_size(
            require("delta", delta, needed_for), require("sd", sd, needed_for),
            alpha, beta, sided, allocation_ratio, continuous_method,
        )  # fmt: skip
    if endpoint == "survival":
        return survival_design(
            require("hazard_ratio", hazard_ratio, needed_for), alpha, beta, sided,
            allocation_ratio, survival_method, median_control=median_control,
            control_hazard=control_hazard, accrual=accrual, follow_up=follow_up,
            dropout_hazard=dropout_hazard,
        )  # fmt: skip
    raise TrialInputError("endpoint", endpoint, "binary, continuous or survival")


def survival_design(
    hazard_ratio: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    allocation_ratio: float = 1.0,
    method: TTEMethod = "schoenfeld",
    *,
    median_control: float | None = None,
    control_hazard: PiecewiseExponential | None = None,
    accrual: float | None = None,
    follow_up: float | None = None,
    dropout_hazard: float = 0.0,
) -> FixedDesign:
    """Events only when no accrual model is given; events and patients when it is: accrual,
    follow-up, the control arm's survival (its median, or its piecewise hazard) and a
    dropout hazard common to both arms."""
    if median_control is not None and control_hazard is not None:
        raise TrialInputError(
            "median_control", median_control, "either the control median or its hazard, not both"
        )
    if median_control is not None:
        control_hazard = PiecewiseExponential.from_median(median_control)
    if control_hazard is None and accrual is None and follow_up is None:
        return survival_event_design(hazard_ratio, alpha, beta, sided, allocation_ratio, method)
    needed_for = "patients (accrual, follow-up and the control median together)"
    control = require("median_control", control_hazard, needed_for)
    dropout = PiecewiseExponential.constant(dropout_hazard) if dropout_hazard else None
    return survival_sample_size(
        hazard_ratio, control, require("accrual", accrual, needed_for),
        require("follow_up", follow_up, needed_for), alpha, beta, sided, allocation_ratio,
        method, dropout,
    )  # fmt: skip
