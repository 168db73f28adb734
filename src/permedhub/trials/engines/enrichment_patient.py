"""Patient-level engine for enrichment trials: simulate every patient, then summarise.

Each recruited patient gets a marker status (Bernoulli(prevalence), or exactly
round(prevalence * n) marker-positive patients with `subgroup_sizes = "expected"`; all
marker-positive when only S is recruited), an arm by stratified permuted blocks of two, an
optional prognostic baseline covariate X ~ N(0, 1) with effect `covariate_effect`, an outcome
(normal: mu + beta X + sigma e; binary: Bernoulli(p)) and an optional dropout (outcome missing
completely at random with probability `dropout`; dropouts still count towards the enrolled
sample size). With an accrual rate the stage's enrolment time (sum of exponential gaps, i.e.
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
        enrolled = np.rint(n_stage).astype(np.int64)
        n_max = int(enrolled.max()) if n_trials else 0
        patient = np.arange(n_max)
        recruited = patient[None, :] < enrolled[:, None]
        prevalence = np.where(s_only, 1.0, self.design.prevalence)
        if self.design.subgroup_sizes == "expected":
            positives = np.rint(enrolled * prevalence)
            marker = patient[None, :] < positives[:, None]
        else:
            marker = rng.random((n_trials, n_max)) < prevalence[:, None]
        stratum = np.where(marker, 0, 1)
        arm = self._stratified_block_allocation(rng, stratum, recruited)
        analysed = recruited
        if self.options.dropout > 0.0:
            analysed = recruited & (rng.random((n_trials, n_max)) >= self.options.dropout)
        means = self.scenario.means()
        if isinstance(self.scenario, BinaryScenario):
            outcome = (rng.random((n_trials, n_max)) < means[stratum, arm]).astype(float)
            known_variance = np.zeros((2, 2))
        else:
            sds = self.scenario.sds()
            outcome = means[stratum, arm] + sds[stratum, arm] * rng.standard_normal(
                (n_trials, n_max)
            )
            beta = self.options.covariate_effect
            if beta != 0.0:
                outcome += beta * rng.standard_normal((n_trials, n_max))
            known_variance = sds**2 + beta**2
        data = self._summarise(outcome, stratum, arm, analysed, known_variance)
        if self.options.accrual_rate is None:
            return data
        gaps_total = rng.gamma(np.maximum(enrolled, 1), 1.0 / self.options.accrual_rate)
        accrual_time = np.where(enrolled > 0, gaps_total, 0.0)
        return StageData(data.n, data.mean, data.variance, accrual_time)

    @staticmethod
    def _stratified_block_allocation(
        rng: np.random.Generator, stratum: np.ndarray, recruited: np.ndarray
    ) -> np.ndarray:
        """Arm (0/1) per patient: within each stratum consecutive patients form pairs and each
        pair gets one control and one treated patient in random order."""
        n_trials, n_max = stratum.shape
        in_s = recruited & (stratum == 0)
        in_r = recruited & (stratum == 1)
        rank = np.where(stratum == 0, np.cumsum(in_s, axis=1), np.cumsum(in_r, axis=1)) - 1
        rank = np.maximum(rank, 0)
        pair_first = rng.integers(0, 2, size=(n_trials, 2, n_max // 2 + 1))
        rows = np.arange(n_trials)[:, None]
        first_arm = pair_first[rows, stratum, rank // 2]
        return np.asarray(first_arm ^ (rank % 2))

    def _summarise(
        self,
        outcome: np.ndarray,
        stratum: np.ndarray,
        arm: np.ndarray,
        analysed: np.ndarray,
        known_variance: np.ndarray,
    ) -> StageData:
        n_trials = outcome.shape[0]
        cell = (np.arange(n_trials)[:, None] * 4 + stratum * 2 + arm)[analysed]
        values = outcome[analysed]
        size = n_trials * 4
        n = np.bincount(cell, minlength=size).reshape(n_trials, 2, 2).astype(float)
        sums = np.bincount(cell, weights=values, minlength=size).reshape(n_trials, 2, 2)
        safe_n = np.where(n > 0, n, 1.0)
        mean = sums / safe_n
        if self.options.variance == "estimated" and not isinstance(self.scenario, BinaryScenario):
            squares = np.bincount(cell, weights=values**2, minlength=size).reshape(n_trials, 2, 2)
            within = (squares - n * mean**2).sum(axis=2)
            n_stratum = n.sum(axis=2)
            enough = n_stratum >= 3
            pooled = np.where(enough, within / np.where(enough, n_stratum - 2, 1.0), 0.0)
            variance = np.repeat(np.maximum(pooled, 0.0)[:, :, None], 2, axis=2)
            n = np.where(enough[:, :, None], n, 0.0)
        else:
            variance = np.broadcast_to(known_variance, n.shape).copy()
        return StageData(n=n, mean=np.where(n > 0, mean, 0.0), variance=variance)
