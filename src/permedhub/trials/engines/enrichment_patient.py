"""Patient-level engine for enrichment trials: simulate every patient, then summarise.

Each recruited patient gets a marker status (Bernoulli(prevalence), or exactly
round(prevalence * n) marker-positive patients with `subgroup_sizes = "expected"`; all
marker-positive when only S is recruited), an arm by stratified permuted blocks of two, an
optional prognostic baseline covariate X ~ N(0, 1) with effect `covariate_effect`, an outcome
(normal: mu + beta X + sigma e; binary: Bernoulli(p)) and an optional dropout (outcome missing
completely at random with probability `dropout`; dropouts still count towards the enrolled
sample size). With `covariate_adjustment` the analysis is a stratified ANCOVA (common slope
per stratum; known variance sigma^2, or the residual variance with `variance="estimated"`).
With an accrual rate the stage's enrolment time (sum of exponential gaps, i.e.
Gamma(n, 1 / rate)) is accumulated as the trial's accrual duration.

The patients are then reduced to the same per-stratum, per-arm `StageData` the summary engine
draws directly, so both engines share one analysis. `variance = "estimated"` replaces the known
sigma^2 by the pooled within-stratum sample variance (strata with fewer than 3 analysed
patients then carry no information).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from permedhub.trials.engines.stage_data import StageData
from permedhub.trials.enrichment import (
    BinaryScenario,
    EnrichmentDesign,
    NormalScenario,
    check_scenario,
)
from permedhub.trials.errors import TrialInputError, check_positive


@dataclass(frozen=True)
class PatientOptions:
    """Patient-level features the summary engine cannot represent."""

    dropout: float = 0.0
    accrual_rate: float | None = None
    covariate_effect: float = 0.0
    covariate_adjustment: bool = False
    variance: Literal["known", "estimated"] = "known"

    def __post_init__(self) -> None:
        if not 0.0 <= self.dropout < 1.0:
            raise TrialInputError("dropout", self.dropout, "a probability in [0, 1)")
        if self.accrual_rate is not None:
            check_positive("accrual_rate", self.accrual_rate)
        if not np.isfinite(self.covariate_effect):
            raise TrialInputError("covariate_effect", self.covariate_effect, "a finite number")
        if self.variance not in ("known", "estimated"):
            raise TrialInputError("variance", self.variance, "'known' or 'estimated'")


@dataclass(frozen=True)
class PatientLevelEngine:
    """Simulates individual patients stage by stage (vectorised over trials and patients)."""

    design: EnrichmentDesign
    scenario: NormalScenario | BinaryScenario
    options: PatientOptions = field(default_factory=PatientOptions)

    def __post_init__(self) -> None:
        check_scenario(self.design, self.scenario)
        if isinstance(self.scenario, BinaryScenario) and self.options.covariate_effect != 0.0:
            raise TrialInputError(
                "covariate_effect", self.options.covariate_effect, "0 for a binary endpoint"
            )

    def draw_stage(
        self, rng: np.random.Generator, n_stage: np.ndarray, s_only: np.ndarray
    ) -> StageData:
        n_trials = len(n_stage)
        enrolled = np.rint(n_stage).astype(np.int32)
        n_max = int(enrolled.max()) if n_trials else 0
        patient = np.arange(n_max, dtype=np.int32)
        recruited = patient[None, :] < enrolled[:, None]
        prevalence = np.where(s_only, 1.0, self.design.prevalence)
        if self.design.subgroup_sizes == "expected":
            positives = np.rint(enrolled * prevalence).astype(np.int32)
            marker = patient[None, :] < positives[:, None]
        else:
            uniform = rng.random((n_trials, n_max), dtype=np.float32)
            marker = uniform < prevalence.astype(np.float32)[:, None]
        arm = self._stratified_block_allocation(rng, marker)
        analysed = recruited
        if self.options.dropout > 0.0:
            kept = rng.random((n_trials, n_max), dtype=np.float32) >= self.options.dropout
            analysed = recruited & kept
        # cell = 2 * stratum + arm (stratum 0 = S); patients not analysed go to a spare bin.
        cell = np.where(marker, 0, 2).astype(np.int8) + arm
        key = np.arange(n_trials, dtype=np.int64)[:, None] * 4 + cell
        key = np.where(analysed, key, 4 * n_trials).ravel()
        data = self._summarise(rng, key, cell, n_trials)
        if self.options.accrual_rate is None:
            return data
        gaps_total = rng.gamma(np.maximum(enrolled, 1), 1.0 / self.options.accrual_rate)
        accrual_time = np.where(enrolled > 0, gaps_total, 0.0)
        return StageData(data.n, data.mean, data.variance, accrual_time)

    @staticmethod
    def _stratified_block_allocation(rng: np.random.Generator, marker: np.ndarray) -> np.ndarray:
        """Arm (0/1) per patient: within each stratum consecutive patients form pairs and each
        pair gets one control and one treated patient in random order."""
        n_trials, n_max = marker.shape
        positives_so_far = np.cumsum(marker, axis=1, dtype=np.int32)
        index = np.arange(n_max, dtype=np.int32)[None, :]
        rank = np.where(marker, positives_so_far - 1, index - positives_so_far)  # within stratum
        pairs = n_max // 2 + 1
        coins = rng.integers(0, 2, size=(n_trials, 2 * pairs), dtype=np.int8)
        column = np.where(marker, 0, pairs) + (rank >> 1)
        first_arm = np.take_along_axis(coins, column, axis=1)
        return np.asarray(first_arm ^ (rank & 1).astype(np.int8))

    def _summarise(
        self, rng: np.random.Generator, key: np.ndarray, cell: np.ndarray, n_trials: int
    ) -> StageData:
        """Draw every patient's outcome and reduce to per-(trial, stratum, arm) statistics."""
        size = 4 * n_trials + 1
        shape = (n_trials, 2, 2)

        def per_cell(weights: np.ndarray | None = None) -> np.ndarray:
            counts = np.bincount(key, weights=None if weights is None else weights.ravel(),
                                 minlength=size)  # fmt: skip
            return np.asarray(counts[:-1], dtype=float).reshape(shape)

        n = per_cell()
        safe_n = np.where(n > 0, n, 1.0)
        means = self.scenario.means()
        if isinstance(self.scenario, BinaryScenario):
            probability = np.take(means.ravel().astype(np.float32), cell)
            responses = rng.random(cell.shape, dtype=np.float32) < probability
            mean = per_cell(responses) / safe_n
            return StageData(n=n, mean=np.where(n > 0, mean, 0.0), variance=np.zeros(shape))
        sds = self.scenario.sds()
        beta = self.options.covariate_effect
        z = rng.standard_normal(cell.shape, dtype=np.float32)
        if beta == 0.0:
            noise, scale = z, sds  # sd is constant within a cell: scale the cell sums
        else:
            covariate = rng.standard_normal(cell.shape, dtype=np.float32)
            noise, scale = np.take(sds.ravel(), cell) * z + beta * covariate, np.ones((2, 2))
        noise_sum = per_cell(noise)
        mean = means + scale * noise_sum / safe_n
        within: np.ndarray | None = None  # within-cell sums of squares, pooled per stratum
        if self.options.variance == "estimated":
            squares = scale**2 * per_cell(np.square(noise, dtype=np.float64))
            within = (squares - n * (mean - means) ** 2).sum(axis=2)
        parameters = 2  # two arm means per stratum
        if beta != 0.0 and self.options.covariate_adjustment:
            x = covariate.astype(np.float64)
            x_sum = per_cell(x)
            x_mean = x_sum / safe_n
            sxx = (per_cell(x * x) - x_sum * x_mean).sum(axis=2)
            sxy = (per_cell(x * noise) - x_sum * (mean - means)).sum(axis=2)
            slope = np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1.0), 0.0)
            stratum_x_mean = x_sum.sum(axis=2) / np.maximum(n.sum(axis=2), 1.0)
            # ANCOVA: arm means adjusted to the stratum's covariate mean with a common slope.
            mean = mean - slope[:, :, None] * (x_mean - stratum_x_mean[:, :, None])
            if within is not None:
                within = within - slope**2 * sxx
            parameters = 3  # and the slope
        if within is not None:
            n_stratum = n.sum(axis=2)
            enough = n_stratum > parameters
            pooled = np.where(enough, within / np.where(enough, n_stratum - parameters, 1.0), 0.0)
            variance = np.repeat(np.maximum(pooled, 0.0)[:, :, None], 2, axis=2)
            n = np.where(enough[:, :, None], n, 0.0)
        else:
            residual = 0.0 if self.options.covariate_adjustment else beta**2
            variance = np.broadcast_to(sds**2 + residual, shape).copy()
        return StageData(n=n, mean=np.where(n > 0, mean, 0.0), variance=variance)
