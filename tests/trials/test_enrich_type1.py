"""Adaptive enrichment keeps the family-wise error rate (strong control by closed testing).

Closed testing with inverse-normal combination tests and prespecified weights controls the FWER
at alpha whatever the selection rule or sample-size re-estimation (Bauer & Köhne 1994;
Brannath, Zuber, Branson et al. 2009, Stat Med 28:1445; Wassmer & Brannath 2016, Group
Sequential and Confirmatory Adaptive Designs in Clinical Trials, ch. 11). Each check uses
20,000 simulated trials of the summary-statistic engine and allows 3 Monte-Carlo SEs.
"""

from __future__ import annotations

import pytest

from permedhub.trials.engines.enrichment_summary import SummaryStatisticEngine
from permedhub.trials.engines.runner import run_simulation
from permedhub.trials.enrichment import (
    BinaryScenario,
    EnrichmentDesign,
    EnrichmentSimulator,
    NormalScenario,
    SampleSizeReestimation,
    Scenario,
)

N_SIM = 20_000
ALPHA = 0.025


def simulate(design: EnrichmentDesign, scenario: Scenario, seed: int = 11) -> dict[str, tuple]:
    simulator = EnrichmentSimulator(design, scenario, SummaryStatisticEngine(design, scenario))
    summary = run_simulation(simulator, N_SIM, seed=seed)
    return {name: (e.mean, e.se) for name, e in summary.estimates.items()}


def fwer_bound(se: float) -> float:
    return ALPHA + 3 * max(se, (ALPHA * (1 - ALPHA) / N_SIM) ** 0.5)


@pytest.mark.parametrize("test", ["simes", "bonferroni", "spiessens_debois"])
@pytest.mark.parametrize("selection", ["epsilon", "best", "all"])
def test_fwer_under_the_global_null(test: str, selection: str) -> None:
    design = EnrichmentDesign(
        stage_sample_sizes=(120, 120),
        prevalences=(0.4, 0.6),
        intersection_test=test,  # type: ignore[arg-type]
        selection=selection,  # type: ignore[arg-type]
        epsilon=0.1,
    )
    fwer, se = simulate(design, NormalScenario(0.0, 0.0))["fwer"]
    assert fwer <= fwer_bound(se)
    # Not grossly conservative either: the closed test spends most of its alpha.
    assert fwer >= 0.5 * ALPHA


def test_spiessens_debois_without_selection_exhausts_alpha() -> None:
    """With both populations always continuing, SD is exact for H_S ∩ H_F; the FWER is
    then alpha minus the small probability of rejecting only the intersection."""
    design = EnrichmentDesign(
        stage_sample_sizes=(150, 150),
        prevalences=(0.5, 0.5),
        intersection_test="spiessens_debois",
        selection="all",
    )
    fwer, se = simulate(design, NormalScenario(0.0, 0.0), seed=3)["fwer"]
    assert abs(fwer - ALPHA) <= 3 * se + 0.002


def test_fwer_under_the_partial_null_effect_only_in_the_complement() -> None:
    # H_S true (no effect in S), H_F false: only rejecting H_S is an error.
    design = EnrichmentDesign(
        stage_sample_sizes=(120, 120), prevalences=(0.4, 0.6), selection="epsilon", epsilon=0.1
    )
    results = simulate(design, NormalScenario(0.0, 0.4))
    fwer, se = results["fwer"]
    assert results["reject_S"][0] == fwer
    assert fwer <= fwer_bound(se)


def test_fwer_under_the_partial_null_where_f_has_no_average_effect() -> None:
    # prevalence 0.4: 0.4 * 0.3 + 0.6 * (-0.2) = 0, so H_F is true while H_S is false.
    design = EnrichmentDesign(
        stage_sample_sizes=(120, 120),
        prevalences=(0.4, 0.6),
        selection="epsilon",
        epsilon=0.1,
        intersection_test="spiessens_debois",
    )
    results = simulate(design, NormalScenario(0.3, -0.2))
    fwer, se = results["fwer"]
    assert results["reject_F"][0] == fwer
    assert fwer <= fwer_bound(se)
    assert results["reject_S"][0] > 0.3  # and the true effect in S is found


def test_fwer_with_conditional_power_sample_size_reestimation() -> None:
    design = EnrichmentDesign(
        stage_sample_sizes=(100, 100),
        prevalences=(0.5, 0.5),
        selection="epsilon",
        epsilon=0.2,
        ssr=SampleSizeReestimation(0.8, min_stage_size=50, max_stage_size=400),
    )
    results = simulate(design, NormalScenario(0.0, 0.0))
    fwer, se = results["fwer"]
    assert fwer <= fwer_bound(se)
    mean_size = results["sample_size"][0]
    assert 150 <= mean_size <= 500 and mean_size != 200  # the stage-2 size was re-estimated


def test_fwer_binary_endpoint_three_stages_with_early_efficacy() -> None:
    design = EnrichmentDesign(
        stage_sample_sizes=(100, 100, 100),
        prevalences=(0.3, 0.7),
        endpoint="binary",
        critical_values=(
            3.471,
            2.454,
            2.004,
        ),  # OBF, 3 looks: 2.004 sqrt(3/k), J&T (2000) Table 2.3
        selection="epsilon",
        epsilon=0.05,
    )
    results = simulate(design, BinaryScenario(0.2, 0.2, 0.2, 0.2))
    fwer, se = results["fwer"]
    assert fwer <= fwer_bound(se)


def test_power_grows_with_the_effect_in_s_and_selection_follows_it() -> None:
    design = EnrichmentDesign(
        stage_sample_sizes=(120, 120), prevalences=(0.4, 0.6), selection="epsilon", epsilon=0.1
    )
    weak = simulate(design, NormalScenario(0.2, 0.0))
    strong = simulate(design, NormalScenario(0.6, 0.0))
    assert strong["reject_S"][0] > weak["reject_S"][0] + 10 * strong["reject_S"][1]
    assert strong["select_S_only"][0] > weak["select_S_only"][0]
