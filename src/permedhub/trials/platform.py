"""Multi-arm multi-stage (MAMS) and platform trials with a shared control arm.

K experimental arms are compared with one shared control over J stages. At each interim,
arm k's cumulative z-statistic versus the control (normal endpoint: known sigma; binary:
pooled-variance z) is compared with an efficacy bound (H0_k rejected, arm stops) and a
futility bound (arm dropped). The trial ends when no arm is left; the control recruits as
long as any arm does.

Multiplicity (one-sided, strong FWER control of the efficacy bounds, futility non-binding):
* ``"dunnett"``: bounds b_j = c * shape_j with the single constant c making the probability
  that any arm crosses any bound under the global null equal to alpha. For one stage this is
  Dunnett's (1955) critical value, computed exactly by integrating over the shared control
  (equicorrelated z's with rho = n_k / (n_k + n_0)); for several stages it is the generalised
  Dunnett constant of Magirr, Jaki & Whitehead (2012, Biometrika 99:494), obtained as the
  (1 - alpha) quantile of max_{k, j} Z_kj / shape_j over `calibration_draws` simulated
  global-null trials (a Monte-Carlo approximation; the draws and seed are reported).
* ``"bonferroni"``: each arm gets the bounds of the same shape at level alpha / K (exact
  for one arm by the same quantile with K = 1).
* ``"none"``: level alpha per arm (no multiplicity control; for comparison only).
Shapes: ``"pocock"`` (shape_j = 1) and ``"obf"`` (shape_j = sqrt(I_J / I_j)).

Platform trials: `arm_entry_stages[k]` lets arm k join at a later calendar stage; each arm
then has its own J looks and is compared with CONCURRENT controls only (control patients
randomised while it was open), as recommended for platform trials. Staggered entry needs equal
stage sizes; the control recruits `control_ratio` x that size per calendar stage while any
arm is open. The Dunnett-type constant is then calibrated on the staggered correlation
structure (arms share only the controls of their overlapping stages).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import ndtr
from scipy.stats import norm

from permedhub.trials.engines.runner import SimulationSummary, run_simulation
from permedhub.trials.errors import (
    TrialInputError,
    check_alpha,
    check_int_range,
    check_positive,
    check_probability,
)

Multiplicity = Literal["dunnett", "bonferroni", "none"]
BoundaryShape = Literal["pocock", "obf"]


def dunnett_critical_value(alpha: float, arms: int, rho: float = 0.5) -> float:
    """One-sided many-to-one critical value c: P(max_k Z_k >= c) = alpha for K equicorrelated
    standard normals (rho = 1/2 for 1:1 allocation). Uses Z_k = sqrt(rho) X + sqrt(1 - rho) Y_k,
    so P(max < c) = integral phi(x) Phi((c - sqrt(rho) x) / sqrt(1 - rho))^K dx."""
    check_alpha("alpha", alpha)
    check_int_range("arms", arms, 1, 100)
    if not 0.0 <= rho < 1.0:
        raise TrialInputError("rho", rho, "a correlation in [0, 1)")

    def coverage(c: float) -> float:
        def integrand(x: float) -> float:
            return float(norm.pdf(x) * ndtr((c - math.sqrt(rho) * x) / math.sqrt(1 - rho)) ** arms)

        return float(quad(integrand, -12, 12, epsabs=1e-13, limit=200)[0])

    return float(brentq(lambda c: coverage(c) - (1 - alpha), 0.0, 10.0, xtol=1e-12))


@dataclass(frozen=True)
class PlatformDesign:
    """A MAMS design: `stage_sizes_per_arm[j]` patients per experimental arm in stage j and
    `control_ratio` control patients per experimental-arm patient."""

    arms: int
    stage_sizes_per_arm: tuple[int, ...]
    alpha: float = 0.025
    endpoint: Literal["normal", "binary"] = "normal"
    multiplicity: Multiplicity = "dunnett"
    boundary_shape: BoundaryShape = "obf"
    futility_bounds: tuple[float, ...] | None = None
    efficacy_bounds: tuple[float, ...] | None = None
    control_ratio: float = 1.0
    arm_entry_stages: tuple[int, ...] | None = None
    calibration_draws: int = 400_000
    calibration_seed: int = 20120494

    def __post_init__(self) -> None:
        check_int_range("arms", self.arms, 1, 50)
        if len(self.stage_sizes_per_arm) < 1:
            raise TrialInputError("stage_sizes_per_arm", self.stage_sizes_per_arm, "1+ stages")
        for j, size in enumerate(self.stage_sizes_per_arm):
            check_int_range(f"stage_sizes_per_arm[{j}]", size, 1, 10**6)
        check_alpha("alpha", self.alpha)
        if self.endpoint not in ("normal", "binary"):
            raise TrialInputError("endpoint", self.endpoint, "'normal' or 'binary'")
        if self.multiplicity not in ("dunnett", "bonferroni", "none"):
            raise TrialInputError(
                "multiplicity", self.multiplicity, "'dunnett', 'bonferroni' or 'none'"
            )
        if self.boundary_shape not in ("pocock", "obf"):
            raise TrialInputError("boundary_shape", self.boundary_shape, "'pocock' or 'obf'")
        stages = len(self.stage_sizes_per_arm)
        if self.futility_bounds is not None and len(self.futility_bounds) != stages - 1:
            raise TrialInputError("futility_bounds", self.futility_bounds, f"{stages - 1} values")
        if self.efficacy_bounds is not None and len(self.efficacy_bounds) != stages:
            raise TrialInputError("efficacy_bounds", self.efficacy_bounds, f"{stages} values")
        check_positive("control_ratio", self.control_ratio)
        check_int_range("calibration_draws", self.calibration_draws, 10_000, 10**8)
        if self.arm_entry_stages is not None:
            if len(self.arm_entry_stages) != self.arms:
                raise TrialInputError(
                    "arm_entry_stages", self.arm_entry_stages, f"{self.arms} calendar stages"
                )
            for k, entry in enumerate(self.arm_entry_stages):
                check_int_range(f"arm_entry_stages[{k}]", entry, 0, 50)
            if max(self.arm_entry_stages) > 0 and len(set(self.stage_sizes_per_arm)) > 1:
                raise TrialInputError(
                    "stage_sizes_per_arm", self.stage_sizes_per_arm,
                    "equal stage sizes when arms enter at different stages",
                )  # fmt: skip

    def entries(self) -> np.ndarray:
        """Calendar stage at which each arm opens (0 = at the start)."""
        if self.arm_entry_stages is None:
            return np.zeros(self.arms, dtype=int)
        return np.asarray(self.arm_entry_stages, dtype=int)

    @property
    def staggered(self) -> bool:
        return bool(self.entries().max() > 0)

    def control_stage_sizes(self) -> np.ndarray:
        """Control patients per calendar stage (while any arm is open)."""
        sizes = np.asarray(self.stage_sizes_per_arm, dtype=float)
        if not self.staggered:
            return sizes * self.control_ratio
        return np.full(int(self.entries().max()) + self.stages, sizes[0] * self.control_ratio)

    @property
    def stages(self) -> int:
        return len(self.stage_sizes_per_arm)

    def cumulative_sizes(self) -> tuple[np.ndarray, np.ndarray]:
        arm = np.cumsum(np.asarray(self.stage_sizes_per_arm, dtype=float))
        return arm, arm * self.control_ratio

    def shape(self) -> np.ndarray:
        arm, _ = self.cumulative_sizes()
        if self.boundary_shape == "pocock":
            return np.ones(self.stages)
        return np.sqrt(arm[-1] / arm)

    def bounds(self) -> np.ndarray:
        """Efficacy bounds per stage on the z scale (see the module docstring)."""
        if self.efficacy_bounds is not None:
            return np.asarray(self.efficacy_bounds, dtype=float)
        arms = self.arms if self.multiplicity == "dunnett" else 1
        level = self.alpha / self.arms if self.multiplicity == "bonferroni" else self.alpha
        rho = 1.0 / (1.0 + self.control_ratio)
        if self.stages == 1 and not self.staggered:
            return np.array([dunnett_critical_value(level, arms, rho)])
        return _calibrated_constant(self, arms, level) * self.shape()


def _null_z_paths(design: PlatformDesign, arms: int, draws: int, seed: int) -> np.ndarray:
    """Global-null z-statistics (draws, arms, looks), normal endpoint, concurrent controls.

    With `arms` equal to the design's arms the arms keep their entry stages (Dunnett); with
    one arm (Bonferroni / unadjusted) it opens at stage 0.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    entries = design.entries() if arms == design.arms else np.zeros(arms, dtype=int)
    control_sizes = design.control_stage_sizes()
    control = np.cumsum(rng.standard_normal((draws, len(control_sizes))) * np.sqrt(control_sizes),
                        axis=1)  # fmt: skip
    control_n = np.cumsum(control_sizes)
    n_arm, _ = design.cumulative_sizes()
    increments_arm = np.diff(np.concatenate([[0.0], n_arm]))
    treated = np.cumsum(
        rng.standard_normal((draws, arms, design.stages)) * np.sqrt(increments_arm), axis=2
    )
    z = np.empty_like(treated)
    for k, entry in enumerate(entries):
        looks = entry + np.arange(design.stages)
        concurrent = control[:, looks] - (control[:, [entry - 1]] if entry else 0.0)
        concurrent_n = control_n[looks] - (control_n[entry - 1] if entry else 0.0)
        difference = treated[:, k, :] / n_arm - concurrent / concurrent_n
        z[:, k, :] = difference / np.sqrt(1.0 / n_arm + 1.0 / concurrent_n)
    return z


@functools.lru_cache(maxsize=32)
def _calibrated_constant(design: PlatformDesign, arms: int, level: float) -> float:
    z = _null_z_paths(design, arms, design.calibration_draws, design.calibration_seed)
    maximum = (z / design.shape()).max(axis=(1, 2))
    return float(np.quantile(maximum, 1.0 - level))


@dataclass(frozen=True)
class PlatformScenario:
    """True outcome means (normal: control mean and SD; binary: response rates)."""

    arm_means: tuple[float, ...]
    control_mean: float = 0.0
    sd: float = 1.0

    def check(self, design: PlatformDesign) -> None:
        if len(self.arm_means) != design.arms:
            raise TrialInputError("arm_means", self.arm_means, f"{design.arms} values")
        if design.endpoint == "binary":
            check_probability("control_mean", self.control_mean)
            for k, p in enumerate(self.arm_means):
                check_probability(f"arm_means[{k}]", p)
        else:
            check_positive("sd", self.sd)
            for k, m in enumerate((*self.arm_means, self.control_mean)):
                if not math.isfinite(m):
                    raise TrialInputError(f"arm_means[{k}]", m, "a finite number")


@dataclass(frozen=True)
class PlatformSimulator:
    """Summary-statistic block simulator of a MAMS trial."""

    design: PlatformDesign
    scenario: PlatformScenario
    efficacy: np.ndarray = field(repr=False)

    def __call__(self, rng: np.random.Generator, n_trials: int) -> dict[str, np.ndarray]:
        design, scenario = self.design, self.scenario
        arms, stages = design.arms, design.stages
        sizes = np.asarray(design.stage_sizes_per_arm, dtype=float)
        control_sizes = design.control_stage_sizes()
        entries = design.entries()
        futility = (
            np.full(stages - 1, -math.inf)
            if design.futility_bounds is None
            else np.asarray(design.futility_bounds, dtype=float)
        )
        futility = np.concatenate([futility, [-math.inf]])  # no futility stop at the last look
        means = np.asarray(scenario.arm_means, dtype=float)
        null = means <= scenario.control_mean
        open_ = np.ones((n_trials, arms), dtype=bool)  # not stopped for efficacy or futility
        rejected = np.zeros((n_trials, arms), dtype=bool)
        dropped = np.zeros((n_trials, arms), dtype=bool)
        sums_arm = np.zeros((n_trials, arms))
        n_arm = np.zeros((n_trials, arms))
        control_sum = np.zeros(n_trials)
        control_n = np.zeros(n_trials)
        base_sum = np.zeros((n_trials, arms))  # control totals when each arm opened
        base_n = np.zeros((n_trials, arms))
        for calendar in range(len(control_sizes)):
            look = calendar - entries
            in_window = (look >= 0) & (look < stages)
            look_index = np.clip(look, 0, stages - 1)
            opening = look == 0
            base_sum[:, opening] = control_sum[:, None]
            base_n[:, opening] = control_n[:, None]
            now = open_ & in_window[None, :]
            recruiting = now.any(axis=1)
            add_arm = np.where(now, sizes[look_index], 0.0)
            add_control = np.where(recruiting, control_sizes[calendar], 0.0)
            if design.endpoint == "binary":
                sums_arm += rng.binomial(add_arm.astype(np.int64), means)
                control_sum += rng.binomial(add_control.astype(np.int64), scenario.control_mean)
            else:
                noise_arm = np.sqrt(add_arm) * rng.standard_normal((n_trials, arms))
                noise_control = np.sqrt(add_control) * rng.standard_normal(n_trials)
                sums_arm += add_arm * means + scenario.sd * noise_arm
                control_sum += add_control * scenario.control_mean + scenario.sd * noise_control
            n_arm += add_arm
            control_n += add_control
            concurrent_sum = control_sum[:, None] - base_sum
            concurrent_n = np.maximum(control_n[:, None] - base_n, 1.0)
            safe_arm_n = np.maximum(n_arm, 1.0)
            inverse = 1.0 / safe_arm_n + 1.0 / concurrent_n
            if design.endpoint == "binary":
                pooled = (sums_arm + concurrent_sum) / (safe_arm_n + concurrent_n)
                variance = pooled * (1.0 - pooled) * inverse
            else:
                variance = scenario.sd**2 * inverse
            difference = sums_arm / safe_arm_n - concurrent_sum / concurrent_n
            z = np.where(variance > 0, difference / np.sqrt(np.maximum(variance, 1e-300)), 0.0)
            crossed = now & (z >= self.efficacy[look_index][None, :])
            rejected |= crossed
            futile = now & ~crossed & (z < futility[look_index][None, :])
            dropped |= futile
            open_ &= ~(crossed | futile)
        total = n_arm.sum(axis=1) + control_n
        metrics = {f"reject_arm_{k + 1}": rejected[:, k].astype(float) for k in range(arms)}
        metrics.update({f"futility_arm_{k + 1}": dropped[:, k].astype(float) for k in range(arms)})
        metrics["fwer"] = (rejected & null).any(axis=1).astype(float)
        metrics["any_correct_rejection"] = (rejected & ~null).any(axis=1).astype(float)
        metrics["sample_size"] = total
        return metrics


@dataclass(frozen=True)
class PlatformResult:
    design: PlatformDesign
    scenario: PlatformScenario
    efficacy_bounds: tuple[float, ...]
    summary: SimulationSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "efficacy_bounds": list(self.efficacy_bounds),
            "futility_bounds": list(self.design.futility_bounds or ()),
            "bounds_method": self.design.multiplicity
            if self.design.efficacy_bounds is None
            else "user",
            **self.summary.to_dict(),
        }


def simulate_platform(
    design: PlatformDesign,
    scenario: PlatformScenario,
    n_sim: int,
    seed: int,
    *,
    workers: int = 1,
    progress: Any = None,
    scheduler: str | None = None,
) -> PlatformResult:
    """Per-arm power, futility stops, FWER and expected sample size with Monte-Carlo SEs."""
    scenario.check(design)
    efficacy = design.bounds()
    simulator = PlatformSimulator(design, scenario, efficacy)
    summary = run_simulation(
        simulator, n_sim, seed, workers=workers, progress=progress, scheduler=scheduler
    )
    return PlatformResult(design, scenario, tuple(float(b) for b in efficacy), summary)
