"""Summary-statistic engine for enrichment trials: draw sufficient statistics directly.

Per stage and trial: the number of marker-positive patients among the n recruited is
Binomial(n, prevalence) (all n when only S is recruited), each stratum is split 1:1 by
stratified block randomisation (an odd patient goes to either arm with probability 1/2), and
each arm's outcome mean is drawn from N(mu, sigma^2 / n) (normal endpoint) or its response
count from Binomial(n, p) (binary). With `subgroup_sizes = "expected"` the stratum sizes are
the fractional prevalence * n / 2 per arm, as rpact's enrichment simulation uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from permedhub.trials.engines.stage_data import StageData
from permedhub.trials.enrichment import (
    BinaryScenario,
    EnrichmentDesign,
    NormalScenario,
    check_scenario,
)


def split_stratum_sizes(
    rng: np.random.Generator, n_stage: np.ndarray, s_only: np.ndarray, design: EnrichmentDesign
) -> np.ndarray:
    """Patients per (trial, sub-population, arm) for one stage, shape (n, 2, 2)."""
    prevalence = np.where(s_only, 1.0, design.prevalence)
    if design.subgroup_sizes == "expected":
        marker_positive = n_stage * prevalence
        per_group = np.stack([marker_positive, n_stage - marker_positive], axis=1)
        return np.repeat(per_group[:, :, None] / 2.0, 2, axis=2)
    whole = n_stage.astype(np.int64)
    marker_positive = rng.binomial(whole, prevalence)
    per_group = np.stack([marker_positive, whole - marker_positive], axis=1)
    odd_to_treatment = rng.integers(0, 2, size=per_group.shape)
    treated = per_group // 2 + (per_group % 2) * odd_to_treatment
    return np.stack([per_group - treated, treated], axis=2).astype(float)


@dataclass(frozen=True)
class SummaryStatisticEngine:
    """Draws per-stage means (normal) or response counts (binary) per stratum and arm."""

    design: EnrichmentDesign
    scenario: NormalScenario | BinaryScenario

    def __post_init__(self) -> None:
        check_scenario(self.design, self.scenario)

    def draw_stage(
        self, rng: np.random.Generator, n_stage: np.ndarray, s_only: np.ndarray
    ) -> StageData:
        n = split_stratum_sizes(rng, n_stage, s_only, self.design)
        means = self.scenario.means()
        has_patients = n > 0
        safe_n = np.where(has_patients, n, 1.0)
        if isinstance(self.scenario, BinaryScenario):
            if self.design.subgroup_sizes == "expected":
                # Fractional sizes: the normal approximation to the binomial proportion.
                sd = np.sqrt(means * (1.0 - means) / safe_n)
                mean = np.clip(means + sd * rng.standard_normal(n.shape), 0.0, 1.0)
            else:
                mean = rng.binomial(n.astype(np.int64), means) / safe_n
            variance = np.zeros_like(n)
        else:
            sds = self.scenario.sds()
            mean = means + sds / np.sqrt(safe_n) * rng.standard_normal(n.shape)
            variance = np.broadcast_to(sds**2, n.shape).copy()
        return StageData(n=n, mean=np.where(has_patients, mean, 0.0), variance=variance)
