"""Per-stage sufficient statistics of an enrichment trial and the z-statistics built from them.

Both enrichment engines produce the same `StageData` for every stage: for each simulated trial,
sub-population g (0 = marker-positive S, 1 = marker-negative R = S^c) and arm a (0 = control,
1 = treatment) the number of analysed patients, the outcome mean (a response rate for binary
endpoints) and the per-patient outcome variance used by the test (the true sigma^2 for a
known-variance z-test, or the sample variance). The analysis code never sees patients, so
the two engines can only differ in how these statistics are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUBGROUP_S, SUBGROUP_R = 0, 1
CONTROL, TREATMENT = 0, 1


@dataclass(frozen=True)
class StageData:
    """Arrays shaped (n_trials, 2 sub-populations, 2 arms)."""

    n: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    accrual_time: np.ndarray | None = None
    """Calendar time to enrol the stage, shape (n_trials,), when the engine models accrual."""

    def pooled_with(self, other: StageData) -> StageData:
        """Cumulative data of two stages (means and variances weighted by patients)."""
        n = self.n + other.n
        safe = np.where(n > 0, n, 1.0)
        mean = (self.n * self.mean + other.n * other.mean) / safe
        variance = (self.n * self.variance + other.n * other.variance) / safe
        return StageData(n=n, mean=mean, variance=variance)


@dataclass(frozen=True)
class PopulationStatistics:
    """z-statistics of S and F from one stage (or cumulative data), shape (n_trials,)."""

    z_s: np.ndarray
    z_f: np.ndarray
    correlation: np.ndarray
    n_s: np.ndarray
    n_f: np.ndarray

    def standardised_effects(self) -> np.ndarray:
        """Estimated standardised effects (n_trials, 2): 2 z / sqrt(n) under 1:1 allocation."""
        n = np.stack([self.n_s, self.n_f], axis=1)
        z = np.stack([self.z_s, self.z_f], axis=1)
        return np.where(n > 0, 2.0 * z / np.sqrt(np.maximum(n, 1.0)), 0.0)


def _safe_ratio(numerator: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """numerator / sqrt(variance), 0 where there is no information (variance 0)."""
    positive = variance > 0
    return np.where(positive, numerator / np.sqrt(np.where(positive, variance, 1.0)), 0.0)


def population_statistics(data: StageData, binary: bool, stratified: bool) -> PopulationStatistics:
    """Treatment-minus-control z-statistics in S and in F = S ∪ R, and their correlation.

    A sub-population with an empty arm carries no information: its variance is set to 0 and
    it gets weight 0 (z = 0 when nothing is left), so a rare empty stratum never yields NaN.
    """
    n, mean = data.n, data.mean
    both_arms = (n[:, :, CONTROL] > 0) & (n[:, :, TREATMENT] > 0)
    inv_n = np.where(n > 0, 1.0 / np.where(n > 0, n, 1.0), 0.0)
    if binary:
        n_group = n.sum(axis=2)
        pooled = (n * mean).sum(axis=2) / np.where(n_group > 0, n_group, 1.0)
        patient_variance = (pooled * (1.0 - pooled))[:, :, None] * np.ones_like(n)
    else:
        patient_variance = data.variance
    difference = np.where(both_arms, mean[:, :, TREATMENT] - mean[:, :, CONTROL], 0.0)
    variance = np.where(both_arms, (patient_variance * inv_n).sum(axis=2), 0.0)
    z_s = _safe_ratio(difference[:, SUBGROUP_S], variance[:, SUBGROUP_S])
    n_group = np.where(both_arms, n.sum(axis=2), 0.0)
    n_f = n_group.sum(axis=1)
    if stratified:
        weights = n_group / np.where(n_f > 0, n_f, 1.0)[:, None]
        difference_f = (weights * difference).sum(axis=1)
        variance_f = (weights**2 * variance).sum(axis=1)
        covariance = weights[:, SUBGROUP_S] * variance[:, SUBGROUP_S]
    else:
        n_arm = np.where(both_arms[:, :, None], n, 0.0).sum(axis=1)
        inv_arm = np.where(n_arm > 0, 1.0 / np.where(n_arm > 0, n_arm, 1.0), 0.0)
        arm_means = (np.where(both_arms[:, :, None], n * mean, 0.0)).sum(axis=1) * inv_arm
        difference_f = arm_means[:, TREATMENT] - arm_means[:, CONTROL]
        if binary:
            pooled_f = (arm_means * n_arm).sum(axis=1) / np.maximum(n_arm.sum(axis=1), 1.0)
            variance_f = pooled_f * (1.0 - pooled_f) * inv_arm.sum(axis=1)
            pooled_s = np.where(both_arms[:, SUBGROUP_S], pooled[:, SUBGROUP_S], 0.0)
            covariance = pooled_s * (1.0 - pooled_s) * inv_arm.sum(axis=1)
        else:
            weighted = np.where(both_arms[:, :, None], n * patient_variance, 0.0).sum(axis=1)
            variance_f = (weighted * inv_arm**2).sum(axis=1)
            s_variance = np.where(both_arms[:, SUBGROUP_S, None], patient_variance[:, 0], 0.0)
            covariance = (s_variance * inv_arm).sum(axis=1)
    z_f = _safe_ratio(difference_f, variance_f)
    denominator = np.sqrt(variance[:, SUBGROUP_S] * variance_f)
    correlation = np.where(
        denominator > 0, covariance / np.where(denominator > 0, denominator, 1.0), 0.0
    )
    return PopulationStatistics(
        z_s=z_s,
        z_f=z_f,
        correlation=np.clip(correlation, 0.0, 0.999999),
        n_s=n_group[:, SUBGROUP_S],
        n_f=n_f,
    )
