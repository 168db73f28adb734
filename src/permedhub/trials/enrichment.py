"""Adaptive enrichment designs: two populations, S (marker-positive) and F = S ∪ S^c.

The trial runs K >= 2 stages with 1:1 randomisation. After each interim analysis a selection
rule decides which populations go on: S only (stage k+1 recruits only marker-positive
patients), F only, or both (stage k+1 recruits from the full population). Type I error is
controlled in the strong sense by the closed testing principle applied to H_S, H_F and
H_S ∩ H_F, each tested with an inverse-normal combination of stage-wise p-values with
prespecified weights (Bauer & Köhne 1994; Lehmacher & Wassmer 1999; the enrichment form of
Brannath et al. 2009 and Wassmer & Brannath 2016, ch. 11). The intersection hypothesis is
tested per stage by Simes, Bonferroni or the Spiessens–Debois test (2010), which uses the
correlation of the S and F statistics (sqrt(n_S / n_F) under 1:1 allocation, i.e. sqrt of the
prevalence in expectation) through the bivariate normal distribution.

Conventions: one-sided tests of "treatment better than control" (larger is better); stage
sizes count patients in both arms; `critical_values[k]` is the rejection bound of every
combination statistic at stage k. Without explicit values the design has no early efficacy
stop and the final bound is z_{1-alpha}.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from permedhub.trials.engines.stage_data import PopulationStatistics, StageData
from permedhub.trials.engines.stage_data import population_statistics as _statistics
from permedhub.trials.errors import (
    TrialInputError,
    check_alpha,
    check_int_range,
    check_positive,
    check_probability,
)

Endpoint = Literal["normal", "binary"]
IntersectionTest = Literal["simes", "bonferroni", "spiessens_debois"]
SelectionName = Literal["best", "epsilon", "threshold", "all"]
SelectionRule = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""A user rule: (measures (n, 2) for [S, F], active (n, 2) bool) -> selected (n, 2) bool."""

INTERSECTION_TESTS: tuple[str, ...] = ("simes", "bonferroni", "spiessens_debois")
SELECTION_RULES: tuple[str, ...] = ("best", "epsilon", "threshold", "all")
POPULATIONS = ("S", "F")
_P_FLOOR, _P_CEIL = 1e-300, 1.0 - 1e-15

# Gauss–Legendre nodes on [0, 1] for the bivariate-normal diagonal integral.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)
_GL_NODES = 0.5 * (_GL_NODES + 1.0)
_GL_WEIGHTS = 0.5 * _GL_WEIGHTS


def bivariate_normal_diagonal_cdf(z: np.ndarray | float, rho: np.ndarray | float) -> np.ndarray:
    """P(X <= z, Y <= z) for a standard bivariate normal with correlation rho in [0, 1).

    Uses Plackett's identity dPhi2/drho = phi2 along the diagonal, with r = sin(theta):
    Phi2(z, z; rho) = Phi(z)^2 + (1 / 2 pi) * integral_0^{arcsin rho} exp(-z^2 / (1 + sin t)) dt,
    a smooth integrand evaluated by 24-point Gauss–Legendre quadrature (vectorised; accurate to
    ~1e-15 for every rho < 1, where the usual r-integral has an endpoint singularity).
    """
    z_arr = np.asarray(z, dtype=float)
    upper = np.arcsin(np.asarray(rho, dtype=float))
    theta = upper[..., None] * _GL_NODES
    integrand = np.exp(-(z_arr[..., None] ** 2) / (1.0 + np.sin(theta)))
    integral = upper * (integrand * _GL_WEIGHTS).sum(axis=-1)
    return np.asarray(ndtr(z_arr) ** 2 + integral / (2.0 * math.pi))


def spiessens_debois_critical_value(alpha: float, rho: float) -> float:
    """The one-sided bound c with P(max(Z_S, Z_F) >= c) = alpha under the global null.

    (Z_S, Z_F) is standard bivariate normal with correlation rho (sqrt(prevalence) under 1:1
    allocation); rho = 0 gives the Šidák bound, rho -> 1 the unadjusted z_{1-alpha}.
    """
    check_alpha("alpha", alpha)
    if not 0.0 <= rho < 1.0:
        raise TrialInputError("rho", rho, "a correlation in [0, 1)")
    return float(
        brentq(lambda c: float(bivariate_normal_diagonal_cdf(c, rho)) - (1.0 - alpha), -1.0, 40.0)
    )


def intersection_p_value(
    test: str, p_s: np.ndarray, p_f: np.ndarray, rho: np.ndarray
) -> np.ndarray:
    """Stage-wise p-value of H_S ∩ H_F from the elementary one-sided p-values."""
    low, high = np.minimum(p_s, p_f), np.maximum(p_s, p_f)
    if test == "simes":
        return np.minimum(2.0 * low, high)
    if test == "bonferroni":
        return np.minimum(2.0 * low, 1.0)
    if test == "spiessens_debois":
        z_max = ndtri(1.0 - np.clip(low, _P_FLOOR, _P_CEIL))
        return np.clip(1.0 - bivariate_normal_diagonal_cdf(z_max, rho), 0.0, 1.0)
    raise TrialInputError("intersection_test", test, f"one of {', '.join(INTERSECTION_TESTS)}")


def _z_from_p(p: np.ndarray) -> np.ndarray:
    return np.asarray(ndtri(1.0 - np.clip(p, _P_FLOOR, _P_CEIL)))


@dataclass(frozen=True)
class SampleSizeReestimation:
    """Conditional-power sample-size re-estimation of the second stage (two-stage designs).

    After stage 1 the stage-2 size is set so that the conditional power of the combination
    test of the selected population (S if only S continues, otherwise F), computed at the
    observed standardised effect, reaches `target_conditional_power`; it is then capped to
    [min_stage_size, max_stage_size] (the maximum when the observed effect is <= 0). The
    prespecified combination weights keep the type I error under any such rule.
    """

    target_conditional_power: float = 0.8
    min_stage_size: int = 1
    max_stage_size: int = 1000

    def __post_init__(self) -> None:
        check_probability("ssr.target_conditional_power", self.target_conditional_power)
        check_int_range("ssr.min_stage_size", self.min_stage_size, 1, 10**7)
        check_int_range("ssr.max_stage_size", self.max_stage_size, self.min_stage_size, 10**7)


@dataclass(frozen=True)
class EnrichmentDesign:
    """An adaptive enrichment design (see the module docstring for conventions)."""

    stage_sample_sizes: tuple[float, ...]
    prevalences: tuple[float, float] = (0.5, 0.5)
    endpoint: Endpoint = "normal"
    alpha: float = 0.025
    critical_values: tuple[float, ...] | None = None
    futility_bounds: tuple[float, ...] | None = None
    weights: tuple[float, ...] | None = None
    intersection_test: IntersectionTest = "simes"
    selection: SelectionName | SelectionRule = "epsilon"
    epsilon: float = 0.0
    threshold: float = -math.inf
    effect_measure: Literal["standardised_effect", "test_statistic"] = "standardised_effect"
    stratified: bool = True
    subgroup_sizes: Literal["binomial", "expected"] = "binomial"
    success_criterion: Literal["all", "at_least_one"] = "all"
    ssr: SampleSizeReestimation | None = None

    def __post_init__(self) -> None:
        sizes = tuple(self.stage_sample_sizes)
        if len(sizes) < 2:
            raise TrialInputError("stage_sample_sizes", sizes, "at least two stages")
        for index, size in enumerate(sizes):
            whole = isinstance(size, int | float) and math.isfinite(size) and size == int(size)
            if isinstance(size, bool) or not whole or size < 2:
                raise TrialInputError(
                    f"stage_sample_sizes[{index}]", size, "a whole number of patients >= 2"
                )
        if len(self.prevalences) != 2:
            raise TrialInputError("prevalences", self.prevalences, "two values (S, S^c)")
        for name, value in zip(("prevalences[0]", "prevalences[1]"), self.prevalences, strict=True):
            check_probability(name, value)
        if abs(sum(self.prevalences) - 1.0) > 1e-9:
            raise TrialInputError("prevalences", self.prevalences, "values summing to 1")
        if self.endpoint not in ("normal", "binary"):
            raise TrialInputError("endpoint", self.endpoint, "'normal' or 'binary'")
        check_alpha("alpha", self.alpha)
        stages = len(sizes)
        if self.critical_values is not None and len(self.critical_values) != stages:
            raise TrialInputError("critical_values", self.critical_values, f"{stages} values")
        if self.critical_values is not None and any(math.isnan(c) for c in self.critical_values):
            raise TrialInputError("critical_values", self.critical_values, "numbers, not NaN")
        if self.futility_bounds is not None and len(self.futility_bounds) != stages - 1:
            raise TrialInputError("futility_bounds", self.futility_bounds, f"{stages - 1} values")
        if self.weights is not None:
            if len(self.weights) != stages:
                raise TrialInputError("weights", self.weights, f"{stages} positive values")
            for index, weight in enumerate(self.weights):
                check_positive(f"weights[{index}]", weight)
        if self.intersection_test not in INTERSECTION_TESTS:
            raise TrialInputError(
                "intersection_test", self.intersection_test, f"one of {INTERSECTION_TESTS}"
            )
        if not callable(self.selection) and self.selection not in SELECTION_RULES:
            raise TrialInputError(
                "selection", self.selection, f"one of {SELECTION_RULES} or a callable"
            )
        check_positive("epsilon", self.epsilon, allow_zero=True)
        if math.isnan(self.threshold):
            raise TrialInputError("threshold", self.threshold, "a number (or -inf)")
        if self.effect_measure not in ("standardised_effect", "test_statistic"):
            raise TrialInputError(
                "effect_measure", self.effect_measure, "'standardised_effect' or 'test_statistic'"
            )
        if self.subgroup_sizes not in ("binomial", "expected"):
            raise TrialInputError("subgroup_sizes", self.subgroup_sizes, "'binomial' or 'expected'")
        if self.success_criterion not in ("all", "at_least_one"):
            raise TrialInputError(
                "success_criterion", self.success_criterion, "'all' or 'at_least_one'"
            )
        if self.ssr is not None and stages != 2:
            raise TrialInputError("ssr", "enabled", "a two-stage design (stage_sample_sizes of 2)")

    @property
    def stages(self) -> int:
        return len(self.stage_sample_sizes)

    @property
    def prevalence(self) -> float:
        return float(self.prevalences[0])

    def combination_weights(self) -> np.ndarray:
        """Prespecified inverse-normal weights (default sqrt of the planned stage fractions)."""
        if self.weights is not None:
            raw = np.asarray(self.weights, dtype=float)
        else:
            raw = np.sqrt(np.asarray(self.stage_sample_sizes, dtype=float))
        return raw / math.sqrt(float(np.sum(raw**2)))

    def bounds(self) -> np.ndarray:
        if self.critical_values is not None:
            return np.asarray(self.critical_values, dtype=float)
        bounds = np.full(self.stages, math.inf)
        bounds[-1] = float(ndtri(1.0 - self.alpha))
        return bounds


@dataclass(frozen=True)
class NormalScenario:
    """True treatment-minus-control mean differences and SDs in S and in S^c."""

    effect_s: float
    effect_r: float
    sd_s: float = 1.0
    sd_r: float = 1.0

    def __post_init__(self) -> None:
        for name in ("effect_s", "effect_r"):
            if not math.isfinite(getattr(self, name)):
                raise TrialInputError(name, getattr(self, name), "a finite number")
        check_positive("sd_s", self.sd_s)
        check_positive("sd_r", self.sd_r)

    def means(self) -> np.ndarray:
        """(2 sub-populations, 2 arms) outcome means; control means are 0."""
        return np.array([[0.0, self.effect_s], [0.0, self.effect_r]])

    def sds(self) -> np.ndarray:
        return np.array([[self.sd_s, self.sd_s], [self.sd_r, self.sd_r]])

    def effects(self, prevalence: float) -> tuple[float, float]:
        return self.effect_s, prevalence * self.effect_s + (1 - prevalence) * self.effect_r


@dataclass(frozen=True)
class BinaryScenario:
    """True response rates (control, treatment) in S and in S^c."""

    control_s: float
    treatment_s: float
    control_r: float
    treatment_r: float

    def __post_init__(self) -> None:
        for name in ("control_s", "treatment_s", "control_r", "treatment_r"):
            check_probability(name, getattr(self, name))

    def means(self) -> np.ndarray:
        return np.array([[self.control_s, self.treatment_s], [self.control_r, self.treatment_r]])

    def effects(self, prevalence: float) -> tuple[float, float]:
        effect_s = self.treatment_s - self.control_s
        effect_r = self.treatment_r - self.control_r
        return effect_s, prevalence * effect_s + (1 - prevalence) * effect_r


Scenario = NormalScenario | BinaryScenario


class StageEngine(Protocol):
    """Draws one stage of data for every simulated trial."""

    def draw_stage(
        self, rng: np.random.Generator, n_stage: np.ndarray, s_only: np.ndarray
    ) -> StageData: ...


def select_populations(
    design: EnrichmentDesign, measures: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """Populations carried to the next stage, shape (n, 2) for [S, F].

    `best` keeps the larger measure; `epsilon` keeps every population within `epsilon` of the
    best (both when their difference is <= epsilon); `threshold` keeps every population above
    `threshold`; `all` keeps both. `threshold` also applies to the other rules.
    """
    masked = np.where(active, measures, -np.inf)
    best = masked.max(axis=1, keepdims=True)
    rule = design.selection
    if callable(rule):
        chosen = np.asarray(rule(measures.copy(), active.copy()))
        if chosen.shape != active.shape:
            raise TrialInputError(
                "selection", f"callable returning shape {chosen.shape}", f"shape {active.shape}"
            )
        selected = chosen.astype(bool) & active
    elif rule == "best":
        first_best = np.argmax(masked, axis=1)
        selected = np.zeros_like(active)
        selected[np.arange(len(active)), first_best] = True
        selected &= active
    elif rule == "epsilon":
        selected = active & (masked >= best - design.epsilon)
    else:  # "threshold" and "all" keep every active population before the threshold
        selected = active.copy()
    return selected & (measures > design.threshold)


def _stage2_size_by_conditional_power(
    design: EnrichmentDesign,
    ssr: SampleSizeReestimation,
    z_stage1: np.ndarray,
    effect: np.ndarray,
    bounds: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Stage-2 size (both arms) giving the target conditional power at the observed effect."""
    w1, w2 = weights
    needed_z2 = (bounds[1] - w1 * z_stage1) / w2
    z_power = float(ndtri(ssr.target_conditional_power))
    positive = effect > 0
    size = 4.0 * ((needed_z2 + z_power) / np.where(positive, effect, 1.0)) ** 2
    size = np.where(positive & (needed_z2 + z_power > 0), size, ssr.min_stage_size)
    size = np.where(positive, size, ssr.max_stage_size)
    return np.clip(np.ceil(size), ssr.min_stage_size, ssr.max_stage_size)


def simulate_enrichment_block(
    design: EnrichmentDesign,
    scenario: Scenario,
    engine: StageEngine,
    rng: np.random.Generator,
    n_trials: int,
) -> dict[str, np.ndarray]:
    """Simulate `n_trials` trials; one value per trial and metric (see `ENRICHMENT_METRICS`)."""
    binary = design.endpoint == "binary"
    weights = design.combination_weights()
    bounds = design.bounds()
    futility = (
        np.full(design.stages - 1, -math.inf)
        if design.futility_bounds is None
        else np.asarray(design.futility_bounds, dtype=float)
    )
    effect_s, effect_f = scenario.effects(design.prevalence)
    true_null = np.array([effect_s <= 0.0, effect_f <= 0.0])

    active = np.ones((n_trials, 2), dtype=bool)
    running = np.ones(n_trials, dtype=bool)
    rejected = np.zeros((n_trials, 2), dtype=bool)
    intersection_rejected = np.zeros(n_trials, dtype=bool)
    weighted_z = np.zeros((n_trials, 3))  # S, F, S ∩ F: running sums of w_k z_k
    weight_sq = 0.0
    s_only = np.zeros(n_trials, dtype=bool)
    n_stage = np.full(n_trials, float(design.stage_sample_sizes[0]))
    sample_size = np.zeros(n_trials)
    marker_positive = np.zeros(n_trials)
    stopped_early = np.zeros(n_trials, dtype=bool)
    selected_first = np.zeros((n_trials, 2), dtype=bool)
    cumulative: StageData | None = None
    accrual_duration: np.ndarray | None = None

    for stage in range(design.stages):
        n_now = np.where(running, n_stage, 0.0)
        data = engine.draw_stage(rng, n_now, s_only)
        sample_size += n_now
        if data.accrual_time is not None:
            accrual_duration = (0.0 if accrual_duration is None else accrual_duration) + (
                data.accrual_time
            )
        marker_positive += np.where(running, data.n[:, 0].sum(axis=1), 0.0)
        cumulative = data if cumulative is None else cumulative.pooled_with(data)
        stats = _statistics(data, binary, design.stratified)
        p_s, p_f = ndtr(-stats.z_s), ndtr(-stats.z_f)
        p_joint = np.where(
            active[:, 0] & active[:, 1],
            intersection_p_value(design.intersection_test, p_s, p_f, stats.correlation),
            np.where(active[:, 0], p_s, p_f),
        )
        stage_z = np.stack([stats.z_s, stats.z_f, _z_from_p(p_joint)], axis=1)
        weighted_z += weights[stage] * stage_z
        weight_sq += weights[stage] ** 2
        combined = weighted_z / math.sqrt(weight_sq)
        bound = bounds[stage]
        intersection_rejected |= running & (combined[:, 2] >= bound)
        new_rejections = (
            running[:, None] & active & (combined[:, :2] >= bound) & intersection_rejected[:, None]
        )
        rejected |= new_rejections
        if stage == design.stages - 1:
            break
        done = (
            (rejected | ~active).all(axis=1) & rejected.any(axis=1)
            if design.success_criterion == "all"
            else rejected.any(axis=1)
        )
        active &= combined[:, :2] >= futility[stage]
        measures = (
            _statistics(cumulative, binary, design.stratified).standardised_effects()
            if design.effect_measure == "standardised_effect"
            else np.stack([combined[:, 0], combined[:, 1]], axis=1)
        )
        active = select_populations(design, measures, active)
        if stage == 0:
            selected_first = active.copy()
        newly_stopped = running & (done | ~active.any(axis=1))
        stopped_early |= newly_stopped
        running &= ~newly_stopped
        s_only = active[:, 0] & ~active[:, 1]
        n_stage = np.full(n_trials, float(design.stage_sample_sizes[stage + 1]))
        if design.ssr is not None:
            primary = np.where(s_only, 0, 1)
            rows = np.arange(n_trials)
            n_pop = np.where(s_only, stats.n_s, stats.n_f)
            z_primary = np.where(s_only, stats.z_s, stats.z_f)
            effect = np.where(n_pop > 0, 2.0 * z_primary / np.sqrt(np.maximum(n_pop, 1.0)), 0.0)
            n_stage = _stage2_size_by_conditional_power(
                design, design.ssr, combined[rows, primary], effect, bounds, weights
            )

    false_null = ~true_null
    metrics = {
        "reject_S": rejected[:, 0].astype(float),
        "reject_F": rejected[:, 1].astype(float),
        "reject_any": rejected.any(axis=1).astype(float),
        "fwer": (rejected & true_null).any(axis=1).astype(float),
        "power_any_false_null": (rejected & false_null).any(axis=1).astype(float),
        "select_S_only": (selected_first[:, 0] & ~selected_first[:, 1]).astype(float),
        "select_F_only": (~selected_first[:, 0] & selected_first[:, 1]).astype(float),
        "select_both": (selected_first[:, 0] & selected_first[:, 1]).astype(float),
        "stopped_early": stopped_early.astype(float),
        "sample_size": sample_size,
        "marker_positive_patients": marker_positive,
    }
    if accrual_duration is not None:
        metrics["accrual_duration"] = accrual_duration
    return metrics


ENRICHMENT_METRICS: tuple[str, ...] = (
    "reject_S",
    "reject_F",
    "reject_any",
    "fwer",
    "power_any_false_null",
    "select_S_only",
    "select_F_only",
    "select_both",
    "stopped_early",
    "sample_size",
    "marker_positive_patients",
)


@dataclass(frozen=True)
class EnrichmentSimulator:
    """A picklable block simulator binding a design, a scenario and an engine."""

    design: EnrichmentDesign
    scenario: Scenario
    engine: StageEngine = field(repr=False)

    def __call__(self, rng: np.random.Generator, n_trials: int) -> dict[str, np.ndarray]:
        return simulate_enrichment_block(self.design, self.scenario, self.engine, rng, n_trials)


def check_scenario(design: EnrichmentDesign, scenario: Scenario) -> None:
    """The scenario type must match the endpoint."""
    expected = BinaryScenario if design.endpoint == "binary" else NormalScenario
    if not isinstance(scenario, expected):
        raise TrialInputError(
            "scenario", type(scenario).__name__, f"a {expected.__name__} for a {design.endpoint}"
        )


def population_statistics(data: StageData, design: EnrichmentDesign) -> PopulationStatistics:
    """The S and F z-statistics of one stage's data under `design`'s analysis."""
    return _statistics(data, design.endpoint == "binary", design.stratified)
