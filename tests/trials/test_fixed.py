"""Fixed two-arm designs reproduce textbook formulas and reference implementations.

References:
  R stats (documented examples of power.prop.test and power.t.test, R >= 4; values printed by
  Rscript on this machine): power.prop.test(p1 = .50, p2 = .75, power = .90) -> n = 76.70693;
  power.prop.test(n = 50, p1 = .5, p2 = .75) -> power = 0.7401659;
  power.t.test(n = 20, delta = 1) -> power = 0.8689528;
  power.t.test(power = .90, delta = 1) -> n = 22.02110 (one-sided: 17.84713).
  Schoenfeld DA (1983) Biometrics 39:499-503: D = (z_a + z_b)^2 / (p(1-p) log(HR)^2);
  HR 0.7, two-sided 0.05, power 0.8, 1:1 -> 246.8, i.e. 247 events.
  Freedman LS (1982) Stat Med 1:121-129: D = (z_a + z_b)^2 (1 + HR)^2 / (1 - HR)^2 -> 252.04.
  rpact 3.3.4 getSampleSizeSurvival (patients from accrual, follow-up, dropout, piecewise
  hazards), run on this machine.
"""

from __future__ import annotations

import math

import pytest

from permedhub.trials.errors import TrialInputError
from permedhub.trials.fixed import (
    PiecewiseExponential,
    binary_detectable_effect,
    binary_power,
    binary_sample_size,
    continuous_detectable_effect,
    continuous_power,
    continuous_sample_size,
    hazard_from_rates,
    probability_of_event,
    survival_detectable_hazard_ratio,
    survival_event_design,
    survival_events,
    survival_power,
    survival_sample_size,
)


def test_binary_pooled_matches_r_power_prop_test() -> None:
    design = binary_sample_size(0.50, 0.75, alpha=0.05, beta=0.10)
    assert design.inputs["n_control_exact"] == pytest.approx(76.70693, abs=1e-4)
    assert (design.n_control, design.n_treatment) == (77, 77)
    assert design.power >= 0.9
    assert binary_power(0.50, 0.75, 50) == pytest.approx(0.7401659, abs=1e-7)


def test_binary_unpooled_is_the_textbook_formula() -> None:
    z = 1.959964 + 0.8416212
    expected = z**2 * (0.3 * 0.7 + 0.15 * 0.85) / 0.15**2
    design = binary_sample_size(0.3, 0.15, variance="unpooled")
    assert design.inputs["n_control_exact"] == pytest.approx(expected, rel=1e-6)


def test_binary_continuity_correction_fleiss_tytun_ury() -> None:
    plain = binary_sample_size(0.5, 0.75, beta=0.1).inputs["n_control_exact"]
    corrected = binary_sample_size(0.5, 0.75, beta=0.1, continuity_correction=True)
    # n' = n/4 (1 + sqrt(1 + 4 / (n |p1 - p2|))) ^ 2 for equal allocation.
    expected = plain / 4 * (1 + math.sqrt(1 + 4 / (plain * 0.25))) ** 2
    assert corrected.inputs["n_control_exact"] == pytest.approx(expected, rel=1e-10)
    # The power function inverts the corrected size exactly.
    exact = corrected.inputs["n_control_exact"]
    assert binary_power(0.5, 0.75, exact, continuity_correction=True) == pytest.approx(0.9)


def test_binary_unequal_allocation_and_detectable_effect_invert_each_other() -> None:
    design = binary_sample_size(0.2, 0.35, allocation_ratio=2.0, beta=0.2)
    assert design.n_treatment == math.ceil(2 * design.n_control)
    exact = design.inputs["n_control_exact"]
    p = binary_detectable_effect(0.2, exact, allocation_ratio=2.0, beta=0.2)
    assert p == pytest.approx(0.35, abs=1e-8)


def test_continuous_t_matches_r_power_t_test() -> None:
    assert continuous_power(1.0, 1.0, 20) == pytest.approx(0.8689528, abs=1e-7)
    two_sided = continuous_sample_size(1.0, 1.0, alpha=0.05, beta=0.10)
    assert two_sided.inputs["n_control_exact"] == pytest.approx(22.02110, abs=1e-4)
    assert two_sided.n_control == 23
    one_sided = continuous_sample_size(1.0, 1.0, alpha=0.05, beta=0.10, sided=1)
    assert one_sided.inputs["n_control_exact"] == pytest.approx(17.84713, abs=1e-4)


def test_continuous_normal_formula_and_t_needs_more_patients() -> None:
    normal = continuous_sample_size(0.5, 1.0, method="normal").inputs["n_control_exact"]
    assert normal == pytest.approx(2 * (1.959964 + 0.8416212) ** 2 / 0.25, rel=1e-6)
    assert continuous_sample_size(0.5, 1.0, method="t").inputs["n_control_exact"] > normal
    effect = continuous_detectable_effect(1.0, 64.0, method="t")
    assert continuous_power(effect, 1.0, 64.0) == pytest.approx(0.8, abs=1e-9)


def test_schoenfeld_and_freedman_event_counts() -> None:
    assert survival_events(0.7) == pytest.approx(246.787, abs=1e-3)
    assert math.ceil(survival_events(0.7)) == 247
    assert survival_events(0.7, method="freedman") == pytest.approx(252.036, abs=1e-3)
    # rpact 3.3.4 getSampleSizeSurvival(hazardRatio = 0.7, allocationRatioPlanned = 2): 277.6355
    assert survival_events(0.7, 0.025, 0.2, 1, 2.0) == pytest.approx(277.6355, abs=1e-4)


def test_events_only_design_reports_no_patient_numbers() -> None:
    design = survival_event_design(0.7)
    assert design.events == 247  # Schoenfeld (1983)
    assert design.n_control is None and design.n_total is None
    assert design.power >= 0.8


def test_survival_power_and_detectable_hazard_ratio_invert_the_event_count() -> None:
    events = survival_events(0.75, beta=0.1)
    assert survival_power(0.75, events) == pytest.approx(0.9, abs=1e-12)
    assert survival_detectable_hazard_ratio(events, beta=0.1) == pytest.approx(0.75, abs=1e-9)
    freedman = survival_events(0.75, beta=0.1, method="freedman")
    assert survival_power(0.75, freedman, method="freedman") == pytest.approx(0.9, abs=1e-12)


def test_probability_of_event_matches_the_closed_form_for_exponential_survival() -> None:
    # Constant hazard, uniform accrual over A, follow-up F:
    # P = 1 - (exp(-lam F) - exp(-lam (A + F))) / (lam A).
    lam, accrual, follow = 0.05, 24.0, 12.0
    closed = 1 - (math.exp(-lam * follow) - math.exp(-lam * (accrual + follow))) / (lam * accrual)
    computed = probability_of_event(PiecewiseExponential.constant(lam), accrual, follow)
    assert computed == pytest.approx(closed, rel=1e-10)


def test_patients_from_accrual_follow_up_dropout_match_rpact() -> None:
    control = PiecewiseExponential.from_median(12.0)
    plain = survival_sample_size(0.7, control, 24.0, 12.0, alpha=0.025, sided=1)
    assert plain.inputs["patients_exact"] == pytest.approx(369.5741, abs=1e-3)
    assert plain.events == 247
    # Dropout 10% by month 12 in both arms (rpact dropoutRate1/2 = 0.1, dropoutTime = 12).
    dropout = PiecewiseExponential.constant(-math.log(0.9) / 12.0)
    lossy = survival_sample_size(0.7, control, 24.0, 12.0, 0.025, 0.2, 1, dropout=dropout)
    assert lossy.inputs["patients_exact"] == pytest.approx(402.1, abs=1e-3)
    # Piecewise hazards 0.05, 0.03, 0.02 from months 0, 6, 12; 2:1 allocation.
    piecewise = hazard_from_rates([0.05, 0.03, 0.02], [0.0, 6.0, 12.0])
    design = survival_sample_size(0.7, piecewise, 24.0, 12.0, 0.025, 0.2, 1, 2.0)
    assert design.inputs["patients_exact"] == pytest.approx(643.3443, abs=1e-3)
    assert design.n_treatment == math.ceil(2 * design.n_control)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: binary_sample_size(1.2, 0.3), "p_control"),
        (lambda: binary_sample_size(0.3, 0.0), "p_treatment"),
        (lambda: binary_sample_size(0.3, 0.3), "p_treatment"),
        (lambda: binary_sample_size(0.3, 0.4, alpha=0.5), "alpha"),
        (lambda: binary_sample_size(0.3, 0.4, beta=0.98), "beta"),
        (lambda: binary_sample_size(0.3, 0.4, allocation_ratio=-1), "allocation_ratio"),
        (lambda: binary_sample_size(0.3, 0.4, variance="odd"), "variance"),  # type: ignore[arg-type]
        (lambda: binary_detectable_effect(0.3, 5, beta=0.01), "n_control"),
        (lambda: continuous_sample_size(0.0, 1.0), "delta"),
        (lambda: continuous_sample_size(1.0, -1.0), "sd"),
        (lambda: continuous_sample_size(float("nan"), 1.0), "delta"),
        (lambda: continuous_power(1.0, 1.0, 0), "n_control"),
        (lambda: survival_events(1.0), "hazard_ratio"),
        (lambda: survival_events(-0.5), "hazard_ratio"),
        (lambda: survival_events(0.7, sided=3), "sided"),
        (lambda: survival_power(0.7, -10), "events"),
        (lambda: PiecewiseExponential((0.1, 0.2), (0.0, -1.0)), "cuts"),
        (lambda: PiecewiseExponential((-0.1,), (0.0,)), "hazard rate"),
        (
            lambda: probability_of_event(PiecewiseExponential.constant(0.1), -1, 2),
            "accrual_duration",
        ),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    with pytest.raises(TrialInputError) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field


def test_power_and_effect_is_one_library_function_for_both_shells() -> None:
    from permedhub.trials.errors import TrialInputError
    from permedhub.trials.fixed import (
        continuous_detectable_effect,
        continuous_power,
        power_and_effect,
    )

    result = power_and_effect("continuous", 20, sd=1.0, delta=1.0)
    assert result.power == pytest.approx(continuous_power(1.0, 1.0, 20))
    assert result.detectable == pytest.approx(continuous_detectable_effect(1.0, 20))
    assert [label for label, _ in result.rows()] == [
        "patients per control arm", "detectable mean difference", "power",
    ]  # fmt: skip
    assert set(result.to_dict()) >= {"n_control", "detectable_delta", "power"}
    assert "power" not in power_and_effect("binary", 50, p_control=0.5).to_dict()
    with pytest.raises(TrialInputError, match="p_control"):
        power_and_effect("binary", 50)
    with pytest.raises(TrialInputError, match="endpoint"):
        power_and_effect("ordinal", 50)  # type: ignore[arg-type]
