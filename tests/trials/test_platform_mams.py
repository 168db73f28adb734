"""Multi-arm multi-stage trials with a shared control (permedhub.trials.platform)."""

from __future__ import annotations

import math

import pytest

from permedhub.trials.errors import TrialInputError
from permedhub.trials.platform import (
    PlatformDesign,
    PlatformScenario,
    dunnett_critical_value,
    simulate_platform,
)

ALPHA = 0.025
N_SIM = 40_000


def test_dunnett_critical_values() -> None:
    # Dunnett (1955, JASA 50:1096), one-sided, infinite df, rho = 1/2: 2.35 for 3 arms at
    # 0.025 (Bechhofer & Dunnett 1988 tables give 2.349); one arm is the plain z quantile.
    assert dunnett_critical_value(ALPHA, 3) == pytest.approx(2.349, abs=1e-3)
    assert dunnett_critical_value(ALPHA, 1) == pytest.approx(1.959964, abs=1e-6)
    # Fewer control patients per arm patient -> weaker correlation -> larger bound.
    assert dunnett_critical_value(ALPHA, 3, rho=1 / 3) > dunnett_critical_value(ALPHA, 3)


def test_calibrated_two_stage_pocock_constant_for_one_arm_matches_jennison_turnbull() -> None:
    # One arm vs control, 2 equal stages, Pocock shape: C_P = 2.178 (Jennison & Turnbull 2000,
    # Table 2.1, two-sided 0.05, whose upper half is one-sided 0.025 up to ~1e-6).
    design = PlatformDesign(arms=1, stage_sizes_per_arm=(50, 50), boundary_shape="pocock")
    assert design.bounds() == pytest.approx([2.178, 2.178], abs=0.01)


@pytest.mark.parametrize("stages", [(100,), (40, 40, 40)])
def test_dunnett_bounds_control_the_fwer_under_the_global_null(stages: tuple[int, ...]) -> None:
    futility = None if len(stages) == 1 else (0.0,) * (len(stages) - 1)
    design = PlatformDesign(arms=3, stage_sizes_per_arm=stages, futility_bounds=futility)
    result = simulate_platform(design, PlatformScenario((0.0, 0.0, 0.0)), N_SIM, seed=21)
    fwer = result.summary["fwer"]
    assert fwer.mean <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_SIM)


def test_without_multiplicity_control_the_fwer_is_inflated_and_bonferroni_is_conservative() -> None:
    null = PlatformScenario((0.0, 0.0, 0.0))
    none = simulate_platform(
        PlatformDesign(arms=3, stage_sizes_per_arm=(100,), multiplicity="none"), null, N_SIM, 4
    ).summary["fwer"]
    bonferroni = simulate_platform(
        PlatformDesign(arms=3, stage_sizes_per_arm=(100,), multiplicity="bonferroni"),
        null,
        N_SIM,
        4,
    ).summary["fwer"]
    assert none.mean > ALPHA + 10 * none.se  # about 0.06 with three arms
    assert bonferroni.mean < none.mean
    assert bonferroni.mean <= ALPHA + 3 * bonferroni.se


def test_power_futility_and_expected_sample_size() -> None:
    design = PlatformDesign(arms=3, stage_sizes_per_arm=(50, 50), futility_bounds=(0.0,))
    result = simulate_platform(design, PlatformScenario((0.45, 0.0, 0.0)), N_SIM, seed=8)
    s = result.summary
    assert s["reject_arm_1"].mean > 0.75
    assert s["futility_arm_2"].mean == pytest.approx(0.5, abs=4 * s["futility_arm_2"].se + 0.02)
    # Arms dropped after stage 1 save patients: fewer than the maximum 4 x 100.
    assert s["sample_size"].mean < 400 - 10 * s["sample_size"].se
    assert all(e.se >= 0 for e in s.estimates.values())
    assert result.to_dict()["efficacy_bounds"] == list(result.efficacy_bounds)


def test_binary_endpoint_controls_the_fwer() -> None:
    design = PlatformDesign(arms=2, stage_sizes_per_arm=(60, 60), endpoint="binary")
    result = simulate_platform(design, PlatformScenario((0.3, 0.3), control_mean=0.3), N_SIM, 6)
    fwer = result.summary["fwer"]
    assert fwer.mean <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_SIM)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: PlatformDesign(arms=0, stage_sizes_per_arm=(10,)), "arms"),
        (lambda: PlatformDesign(arms=2, stage_sizes_per_arm=(10, -5)), "stage_sizes_per_arm[1]"),
        (lambda: PlatformDesign(arms=2, stage_sizes_per_arm=(10,), alpha=0.5), "alpha"),
        (
            lambda: PlatformDesign(arms=2, stage_sizes_per_arm=(10,), multiplicity="holm"),
            "multiplicity",
        ),  # type: ignore[arg-type]
        (
            lambda: simulate_platform(
                PlatformDesign(arms=2, stage_sizes_per_arm=(10,), endpoint="binary"),
                PlatformScenario((0.2, 1.3), control_mean=0.2),
                100,
                1,
            ),
            "arm_means[1]",
        ),
        (
            lambda: simulate_platform(
                PlatformDesign(arms=2, stage_sizes_per_arm=(10,)), PlatformScenario((0.2,)), 100, 1
            ),
            "arm_means",
        ),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(TrialInputError) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


def test_staggered_entry_uses_concurrent_controls_and_keeps_the_fwer() -> None:
    design = PlatformDesign(
        arms=3, stage_sizes_per_arm=(50, 50), futility_bounds=(0.0,), arm_entry_stages=(0, 0, 1)
    )
    assert design.control_stage_sizes().tolist() == [50, 50, 50]  # three calendar stages
    result = simulate_platform(design, PlatformScenario((0.0, 0.0, 0.0)), N_SIM, seed=13)
    fwer = result.summary["fwer"]
    assert fwer.mean <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_SIM)
    late = simulate_platform(design, PlatformScenario((0.0, 0.0, 0.45)), N_SIM, seed=13)
    assert late.summary["reject_arm_3"].mean > 0.7


def test_arms_with_disjoint_concurrent_controls_get_the_sidak_bound() -> None:
    """One look each, the second arm opening when the first has finished: the two z's share
    no controls, are independent, and the bound is Šidák's z_{(1 - alpha)^(1/2)} = 2.2390."""
    design = PlatformDesign(arms=2, stage_sizes_per_arm=(60,), arm_entry_stages=(0, 1))
    assert design.bounds()[0] == pytest.approx(2.2390, abs=0.01)


def test_staggered_entry_needs_equal_stage_sizes_and_one_entry_per_arm() -> None:
    with pytest.raises(TrialInputError, match="stage_sizes_per_arm"):
        PlatformDesign(arms=2, stage_sizes_per_arm=(40, 60), arm_entry_stages=(0, 1))
    with pytest.raises(TrialInputError, match="arm_entry_stages"):
        PlatformDesign(arms=2, stage_sizes_per_arm=(40, 40), arm_entry_stages=(0,))
