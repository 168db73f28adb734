"""The summary-statistic and patient-level enrichment engines describe the same trials.

The patient-level engine simulates every patient (marker, stratified block allocation,
outcome) and reduces them to the statistics the summary engine draws directly; power, FWER,
selection probabilities and sample sizes must agree within Monte-Carlo error (4 combined SEs).
"""

from __future__ import annotations

import math

import pytest

from permedhub.trials.engines.enrichment_patient import PatientLevelEngine, PatientOptions
from permedhub.trials.engines.enrichment_summary import SummaryStatisticEngine
from permedhub.trials.engines.runner import run_simulation
from permedhub.trials.enrichment import (
    BinaryScenario,
    EnrichmentDesign,
    EnrichmentSimulator,
    NormalScenario,
    Scenario,
)
from permedhub.trials.errors import TrialInputError

N_SIM = 20_000
COMPARED = ("reject_S", "reject_F", "fwer", "select_S_only", "select_both", "sample_size")


def run(design: EnrichmentDesign, scenario: Scenario, engine: object, seed: int) -> dict:
    summary = run_simulation(EnrichmentSimulator(design, scenario, engine), N_SIM, seed=seed)  # type: ignore[arg-type]
    return summary.estimates


@pytest.mark.parametrize(
    ("endpoint", "scenario"),
    [
        ("normal", NormalScenario(0.0, 0.0)),
        ("normal", NormalScenario(0.45, 0.1)),
        ("binary", BinaryScenario(0.25, 0.45, 0.25, 0.30)),
    ],
)
def test_engines_agree_on_power_and_fwer(endpoint: str, scenario: Scenario) -> None:
    design = EnrichmentDesign(
        stage_sample_sizes=(100, 100),
        prevalences=(0.4, 0.6),
        endpoint=endpoint,  # type: ignore[arg-type]
        intersection_test="spiessens_debois",
        selection="epsilon",
        epsilon=0.1,
    )
    summary = run(design, scenario, SummaryStatisticEngine(design, scenario), seed=1)
    patients = run(design, scenario, PatientLevelEngine(design, scenario), seed=2)
    for metric in COMPARED:
        a, b = summary[metric], patients[metric]
        tolerance = 4 * math.hypot(a.se, b.se) + 1e-12
        assert abs(a.mean - b.mean) <= tolerance, metric


def test_estimated_variance_and_dropout_keep_the_type_i_error() -> None:
    design = EnrichmentDesign(stage_sample_sizes=(80, 80), prevalences=(0.5, 0.5))
    scenario = NormalScenario(0.0, 0.0, sd_s=2.0, sd_r=1.0)
    options = PatientOptions(dropout=0.15, variance="estimated", covariate_effect=0.5)
    results = run(design, scenario, PatientLevelEngine(design, scenario, options), seed=5)
    fwer = results["fwer"]
    assert fwer.mean <= 0.025 + 3 * math.sqrt(0.025 * 0.975 / N_SIM)


def test_marker_positive_counts_are_binomial_not_prevalence_times_n() -> None:
    """With both populations always continuing, marker+ patients ~ Binomial(200, 0.4):
    mean 80, SD sqrt(200 * 0.4 * 0.6) = 6.93; fixed-fraction recruitment would have SD 0."""
    design = EnrichmentDesign(
        stage_sample_sizes=(100, 100), prevalences=(0.4, 0.6), selection="all"
    )
    scenario = NormalScenario(0.0, 0.0)
    for engine in (SummaryStatisticEngine(design, scenario), PatientLevelEngine(design, scenario)):
        count = run(design, scenario, engine, seed=3)["marker_positive_patients"]
        assert abs(count.mean - 80) < 4 * count.se
        assert count.se * math.sqrt(N_SIM) == pytest.approx(math.sqrt(48), rel=0.05)
    fixed = EnrichmentDesign(
        stage_sample_sizes=(100, 100),
        prevalences=(0.4, 0.6),
        selection="all",
        subgroup_sizes="expected",
    )
    count = run(fixed, scenario, SummaryStatisticEngine(fixed, scenario), seed=3)[
        "marker_positive_patients"
    ]
    assert count.mean == pytest.approx(80) and count.se == pytest.approx(0, abs=1e-9)


def test_accrual_gives_the_enrolment_duration() -> None:
    design = EnrichmentDesign(
        stage_sample_sizes=(100, 100), prevalences=(0.4, 0.6), selection="all"
    )
    scenario = NormalScenario(0.0, 0.0)
    engine = PatientLevelEngine(design, scenario, PatientOptions(accrual_rate=20.0))
    duration = run(design, scenario, engine, seed=4)["accrual_duration"]
    assert abs(duration.mean - 200 / 20.0) < 4 * duration.se  # Gamma(200, 1/20) has mean 10


def test_patient_level_enrichment_is_bit_identical_across_workers() -> None:
    design = EnrichmentDesign(stage_sample_sizes=(60, 60), prevalences=(0.4, 0.6))
    scenario = NormalScenario(0.3, 0.1)
    simulator = EnrichmentSimulator(design, scenario, PatientLevelEngine(design, scenario))
    serial = run_simulation(simulator, 5_000, seed=9, block_size=1_000, blocks_per_chunk=5)
    parallel = run_simulation(
        simulator, 5_000, seed=9, block_size=1_000, blocks_per_chunk=1, workers=2
    )
    assert serial.to_dict() == parallel.to_dict()


def test_scenario_must_match_the_endpoint_and_options_are_checked() -> None:
    design = EnrichmentDesign(stage_sample_sizes=(60, 60), endpoint="binary")
    with pytest.raises(TrialInputError, match="scenario"):
        SummaryStatisticEngine(design, NormalScenario(0.1, 0.1))
    with pytest.raises(TrialInputError, match="dropout"):
        PatientOptions(dropout=1.0)
    with pytest.raises(TrialInputError, match="control_s"):
        BinaryScenario(0.0, 0.3, 0.2, 0.2)


def test_ancova_recovers_the_precision_lost_to_a_prognostic_covariate() -> None:
    """A covariate with effect 1.5 adds variance 2.25 to sigma^2 = 1. Unadjusted, power drops;
    the stratified ANCOVA removes it again, matching the summary engine's power for the same
    trial without the covariate (within Monte-Carlo error plus the O(1/n) slope-estimation
    loss), and keeps the type I error with an estimated residual variance."""
    design = EnrichmentDesign(
        stage_sample_sizes=(100, 100), prevalences=(0.5, 0.5), selection="all"
    )
    effect = NormalScenario(0.35, 0.35)
    plain = run(design, effect, SummaryStatisticEngine(design, effect), seed=1)["reject_F"]
    unadjusted = run(
        design, effect, PatientLevelEngine(design, effect, PatientOptions(covariate_effect=1.5)), 2
    )["reject_F"]
    adjusted_options = PatientOptions(
        covariate_effect=1.5, covariate_adjustment=True, variance="estimated"
    )
    adjusted = run(design, effect, PatientLevelEngine(design, effect, adjusted_options), 3)[
        "reject_F"
    ]
    assert unadjusted.mean < plain.mean - 10 * math.hypot(unadjusted.se, plain.se)
    assert abs(adjusted.mean - plain.mean) <= 4 * math.hypot(adjusted.se, plain.se) + 0.01
    null = NormalScenario(0.0, 0.0)
    fwer = run(design, null, PatientLevelEngine(design, null, adjusted_options), 4)["fwer"]
    assert fwer.mean <= 0.025 + 3 * math.sqrt(0.025 * 0.975 / N_SIM)
