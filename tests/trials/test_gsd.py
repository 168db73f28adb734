"""Group-sequential designs computed by numerical integration reproduce the published tables.

References:
  J&T = Jennison C, Turnbull BW (2000). Group Sequential Methods with Applications to Clinical
  Trials. Chapman & Hall/CRC. Tables 2.1 (Pocock C_P), 2.2 (Pocock inflation factor R_P),
  2.3 (O'Brien–Fleming C_B) and 2.4 (O'Brien–Fleming inflation factor R_B); all two-sided.
  rpact 3.3.4 (R package, getDesignGroupSequential / getDesignCharacteristics) for designs with
  spending functions and futility bounds, run on this machine (see benchmarks/trials_gsd.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from permedhub.trials.errors import TrialInputError
from permedhub.trials.gsd import (
    crossing_probabilities,
    design_gsd,
    efficacy_bounds,
    operating_characteristics,
    spending_function,
)

# J&T Table 2.1: C_P(K, alpha), two-sided, K = 1..10.
POCOCK_CP = {
    0.01: [2.576, 2.772, 2.873, 2.939, 2.986, 3.023, 3.053, 3.078, 3.099, 3.117],
    0.05: [1.960, 2.178, 2.289, 2.361, 2.413, 2.453, 2.485, 2.512, 2.535, 2.555],
    0.10: [1.645, 1.875, 1.992, 2.067, 2.122, 2.164, 2.197, 2.225, 2.249, 2.270],
}
# J&T Table 2.3: C_B(K, alpha), the final O'Brien–Fleming bound; b_k = C_B sqrt(K / k).
# (The 0.01 and 0.10 columns agree with rpact 3.3.4 typeOfDesign = "OF" to 4 decimals.)
OBF_CB = {
    0.01: [2.576, 2.580, 2.595, 2.609, 2.621, 2.631, 2.640, 2.648, 2.654, 2.660],
    0.05: [1.960, 1.977, 2.004, 2.024, 2.040, 2.053, 2.063, 2.072, 2.080, 2.087],
    0.10: [1.645, 1.678, 1.710, 1.733, 1.751, 1.765, 1.776, 1.786, 1.794, 1.801],
}
# J&T Table 2.2: R_P(K, alpha, beta) for power 0.8 and 0.9, K = 1..10.
POCOCK_RP = {
    (0.01, 0.2): [1.000, 1.092, 1.137, 1.166, 1.187, 1.203, 1.216, 1.226, 1.236, 1.243],
    (0.05, 0.2): [1.000, 1.110, 1.166, 1.202, 1.229, 1.249, 1.265, 1.279, 1.291, 1.301],
    (0.10, 0.2): [1.000, 1.121, 1.184, 1.224, 1.254, 1.277, 1.296, 1.311, 1.325, 1.337],
    (0.01, 0.1): [1.000, 1.084, 1.125, 1.152, 1.170, 1.185, 1.197, 1.206, 1.215, 1.222],
    (0.05, 0.1): [1.000, 1.100, 1.151, 1.183, 1.207, 1.225, 1.239, 1.252, 1.262, 1.271],
    (0.10, 0.1): [1.000, 1.110, 1.166, 1.202, 1.228, 1.249, 1.266, 1.280, 1.292, 1.302],
}
# J&T Table 2.4: R_B(K, alpha, beta).
OBF_RB = {
    (0.01, 0.2): [1.000, 1.001, 1.007, 1.011, 1.015, 1.017, 1.019, 1.021, 1.022, 1.024],
    (0.05, 0.2): [1.000, 1.008, 1.017, 1.024, 1.028, 1.032, 1.035, 1.037, 1.038, 1.040],
    (0.10, 0.2): [1.000, 1.016, 1.027, 1.035, 1.040, 1.044, 1.047, 1.049, 1.051, 1.053],
    (0.01, 0.1): [1.000, 1.001, 1.006, 1.010, 1.014, 1.016, 1.018, 1.020, 1.021, 1.022],
    (0.05, 0.1): [1.000, 1.007, 1.016, 1.022, 1.026, 1.030, 1.032, 1.034, 1.036, 1.037],
    (0.10, 0.1): [1.000, 1.014, 1.025, 1.032, 1.037, 1.041, 1.044, 1.046, 1.048, 1.049],
}


@pytest.mark.parametrize("alpha", sorted(POCOCK_CP))
def test_pocock_constants_reproduce_jennison_turnbull_table_2_1(alpha: float) -> None:
    computed = [efficacy_bounds(k, "pocock", alpha, sided=2, grid_r=16)[0] for k in range(1, 11)]
    np.testing.assert_allclose(computed, POCOCK_CP[alpha], atol=5e-4)


@pytest.mark.parametrize("alpha", sorted(OBF_CB))
def test_obrien_fleming_constants_reproduce_jennison_turnbull_table_2_3(alpha: float) -> None:
    for looks in range(1, 11):
        bounds = efficacy_bounds(looks, "obf", alpha, sided=2, grid_r=16)
        assert bounds[-1] == pytest.approx(OBF_CB[alpha][looks - 1], abs=5e-4)
        np.testing.assert_allclose(bounds, bounds[-1] * np.sqrt(looks / np.arange(1, looks + 1)))


@pytest.mark.parametrize(("alpha", "beta"), sorted(POCOCK_RP))
def test_inflation_factors_reproduce_jennison_turnbull_tables_2_2_and_2_4(
    alpha: float, beta: float
) -> None:
    for looks in (2, 3, 5, 8, 10):
        pocock = design_gsd(looks, "pocock", alpha, beta, sided=2, grid_r=16)
        obf = design_gsd(looks, "obf", alpha, beta, sided=2, grid_r=16)
        assert pocock.inflation_factor == pytest.approx(POCOCK_RP[alpha, beta][looks - 1], abs=5e-4)
        assert obf.inflation_factor == pytest.approx(OBF_RB[alpha, beta][looks - 1], abs=5e-4)


def test_lan_demets_obrien_fleming_spending_matches_gsdesign_and_rpact() -> None:
    # gsDesign sfLDOF, K = 3 equally spaced, one-sided 0.025: 3.7103, 2.5114, 1.9930; rpact
    # 3.3.4 asOF gives 3.710303, 2.511427, 1.993047.
    bounds = efficacy_bounds(3, "ld-obf", 0.025)
    np.testing.assert_allclose(bounds, [3.710303, 2.511427, 1.993047], atol=2e-6)


def test_spending_designs_spend_exactly_the_spending_function() -> None:
    rates = [0.3, 0.5, 0.8, 1.0]
    design = design_gsd(4, "ld-pocock", 0.025, 0.2, information_rates=rates)
    expected = spending_function("ld-pocock", 0.025, rates)
    np.testing.assert_allclose(design.cumulative_alpha_spent, expected, atol=1e-9)
    # rpact 3.3.4, typeOfDesign = "asP" at the same information rates.
    np.testing.assert_allclose(
        design.efficacy_bounds, [2.3118353, 2.3976453, 2.3272938, 2.3692059], atol=2e-6
    )


def test_wang_tsiatis_haybittle_peto_and_power_family_match_rpact() -> None:
    # rpact 3.3.4: typeOfDesign "WT" deltaWT = 0.25 (two-sided 0.05), "HP" (one-sided 0.025),
    # "asKD" gammaA = 3 (one-sided 0.025), K = 4 equally spaced.
    np.testing.assert_allclose(
        efficacy_bounds(4, "wt", 0.05, sided=2, delta_wt=0.25),
        [2.988714, 2.513199, 2.270932, 2.113340],
        atol=2e-6,
    )
    np.testing.assert_allclose(
        efficacy_bounds(4, "hp", 0.025), [3.0, 3.0, 3.0, 1.982751], atol=2e-6
    )
    np.testing.assert_allclose(
        efficacy_bounds(4, "power", 0.025, rho=3),
        [3.359354, 2.760397, 2.359363, 2.029301],
        atol=2e-6,
    )


def test_wang_tsiatis_delta_zero_and_half_are_obrien_fleming_and_pocock() -> None:
    np.testing.assert_allclose(
        efficacy_bounds(4, "wt", 0.05, 2, delta_wt=0.0), efficacy_bounds(4, "obf", 0.05, 2)
    )
    np.testing.assert_allclose(
        efficacy_bounds(4, "wt", 0.05, 2, delta_wt=0.5), efficacy_bounds(4, "pocock", 0.05, 2)
    )


def test_binding_beta_spending_futility_matches_rpact() -> None:
    # rpact 3.3.4: kMax = 3, alpha 0.025 one-sided, beta 0.1, asOF / bsOF, binding futility.
    design = design_gsd(3, "ld-obf", 0.025, 0.1, futility="binding")
    np.testing.assert_allclose(design.efficacy_bounds, [3.710303, 2.511395, 1.958784], atol=2e-6)
    np.testing.assert_allclose(design.futility_bounds[:2], [-0.7133670, 0.9758355], atol=2e-6)
    assert design.inflation_factor == pytest.approx(1.038787, abs=2e-6)
    assert design.drift == pytest.approx(3.303782, abs=2e-6)  # rpact shift 10.91498 = drift^2
    assert design.expected_sample_size_h1 == pytest.approx(0.8108829, abs=2e-6)
    assert design.expected_sample_size_h0 == pytest.approx(0.6645017, abs=2e-6)
    np.testing.assert_allclose(
        design.prob_efficacy_h1, [0.03570484, 0.5384338, 0.3258614], atol=2e-7
    )
    np.testing.assert_allclose(design.prob_futility_h1[:2], [0.004386101, 0.039568232], atol=2e-8)
    assert design.type_one_error_futility_obeyed == pytest.approx(0.025, abs=1e-9)
    assert design.power == pytest.approx(0.9, abs=1e-8)


def test_nonbinding_futility_keeps_efficacy_bounds_and_lowers_actual_alpha() -> None:
    # rpact 3.3.4: as above with bindingFutility = FALSE.
    design = design_gsd(3, "ld-obf", 0.025, 0.1, futility="nonbinding")
    np.testing.assert_allclose(design.efficacy_bounds, efficacy_bounds(3, "ld-obf", 0.025))
    np.testing.assert_allclose(design.futility_bounds[:2], [-0.6945412, 1.0024596], atol=2e-6)
    assert design.inflation_factor == pytest.approx(1.059393, abs=2e-6)
    assert design.expected_sample_size_h1 == pytest.approx(0.8227671, abs=2e-6)
    assert design.expected_sample_size_h0 == pytest.approx(0.6733313, abs=2e-6)
    assert design.cumulative_alpha_spent[-1] == pytest.approx(0.025, abs=1e-9)
    assert design.type_one_error_futility_obeyed < 0.025


def test_hsd_spending_with_unequal_looks_and_hsd_beta_spending_matches_rpact() -> None:
    # rpact 3.3.4: asHSD gammaA = -4, bsHSD gammaB = -2, informationRates 0.2, 0.5, 0.8, 1,
    # alpha 0.025, beta 0.2, non-binding futility.
    design = design_gsd(
        4, "hsd", 0.025, 0.2, information_rates=[0.2, 0.5, 0.8, 1.0], gamma=-4,
        futility="nonbinding", beta_spending="hsd", beta_gamma=-2,
    )  # fmt: skip
    np.testing.assert_allclose(
        design.efficacy_bounds, [3.252668, 2.801736, 2.346345, 2.021812], atol=2e-6
    )
    np.testing.assert_allclose(
        design.futility_bounds[:3], [-0.8494892, 0.3793576, 1.3686332], atol=2e-6
    )
    assert design.inflation_factor == pytest.approx(1.093656, abs=2e-6)


def test_classical_boundary_with_binding_futility_controls_alpha_exactly() -> None:
    design = design_gsd(3, "obf", 0.025, 0.1, futility="binding")
    assert design.type_one_error_futility_obeyed == pytest.approx(0.025, abs=1e-9)
    assert design.power == pytest.approx(0.9, abs=1e-8)
    assert design.futility_bounds[-1] == pytest.approx(design.efficacy_bounds[-1])


def test_crossing_probabilities_agree_with_monte_carlo() -> None:
    # Independent check of the integration: simulate Brownian motion at the looks.
    rates = np.array([0.25, 0.6, 1.0])
    upper = np.array([2.8, 2.3, 2.0])
    lower = np.array([-0.5, 0.4, 2.0])
    drift = 2.5
    up, down = crossing_probabilities(upper, lower, rates, drift)
    rng = np.random.default_rng(20240501)
    n = 200_000
    increments = rng.standard_normal((n, 3)) * np.sqrt(np.diff(rates, prepend=0.0))
    scores = np.cumsum(increments, axis=1) + drift * rates
    z = scores / np.sqrt(rates)
    alive = np.ones(n, dtype=bool)
    for k in range(3):
        hit_up = alive & (z[:, k] >= upper[k])
        hit_down = alive & (z[:, k] < lower[k])
        for exact, hits in ((up[k], hit_up), (down[k], hit_down)):
            se = np.sqrt(exact * (1 - exact) / n)
            assert abs(hits.mean() - exact) < 4 * se + 1e-12
        alive &= ~(hit_up | hit_down)


def test_integration_grid_is_converged() -> None:
    coarse = efficacy_bounds(5, "pocock", 0.05, 2, grid_r=16)
    fine = efficacy_bounds(5, "pocock", 0.05, 2, grid_r=64)
    np.testing.assert_allclose(coarse, fine, atol=1e-7)


def test_skipped_efficacy_look_carries_its_alpha_to_the_next_look() -> None:
    design = design_gsd(3, "ld-obf", 0.025, 0.2, efficacy_looks=[False, True, True])
    assert design.efficacy_bounds[0] == np.inf
    assert design.nominal_p_efficacy[0] == 0.0
    spent = spending_function("ld-obf", 0.025, [1 / 3, 2 / 3, 1.0])
    np.testing.assert_allclose(design.cumulative_alpha_spent, [0.0, spent[1], 0.025], atol=1e-9)


def test_futility_only_at_chosen_looks() -> None:
    design = design_gsd(
        3, "ld-obf", 0.025, 0.2, futility="nonbinding", futility_looks=[False, True, True]
    )
    assert design.futility_bounds[0] == -np.inf
    assert np.isfinite(design.futility_bounds[1])
    assert design.power == pytest.approx(0.8, abs=1e-6)


def test_operating_characteristics_under_h0_and_h1() -> None:
    design = design_gsd(4, "pocock", 0.025, 0.1)
    at_null = operating_characteristics(design, 0.0)
    assert at_null.power == pytest.approx(0.025, abs=1e-9)
    assert operating_characteristics(design, design.drift).power == pytest.approx(0.9, abs=1e-8)
    assert design.expected_sample_size_h1 < 1.0 < design.inflation_factor
    frame = design.to_frame()
    assert list(frame["look"]) == [1, 2, 3, 4]
    assert frame["prob_efficacy_h1"].sum() == pytest.approx(0.9, abs=1e-8)


def test_to_dict_is_json_ready_without_nan() -> None:
    import json

    payload = design_gsd(3, "ld-obf", 0.025, 0.2, efficacy_looks=[False, True, True]).to_dict()
    text = json.dumps(payload, allow_nan=False)
    assert '"efficacy_z": [null' in text


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"looks": 0}, "looks"),
        ({"looks": 1000}, "looks"),
        ({"alpha": 0.5}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"beta": 1.2}, "beta"),
        ({"beta": 0.99}, "beta"),  # power 0.01 below alpha: impossible target
        ({"sided": 3}, "sided"),
        ({"boundary": "fancy"}, "boundary"),
        ({"information_rates": [0.5, 0.4, 1.0]}, "information_rates"),
        ({"information_rates": [0.3, 0.6, 0.9]}, "information_rates"),
        ({"information_rates": [0.5, 1.0]}, "information_rates"),
        ({"boundary": "hsd"}, "gamma"),
        ({"boundary": "power", "rho": -1.0}, "rho"),
        ({"boundary": "wt"}, "delta_wt"),
        ({"futility": "sometimes"}, "futility"),
        ({"futility": "binding", "sided": 2, "alpha": 0.05}, "futility"),
        ({"efficacy_looks": [True, True, False]}, "efficacy_looks"),
        ({"efficacy_looks": [True]}, "efficacy_looks"),
        ({"boundary": "hp", "hp_interim": 1.0}, "hp_interim"),  # interim alone spends > alpha
        ({"boundary": "hp", "hp_interim": -3.0}, "hp_interim"),
        ({"looks": 2.5}, "looks"),
        ({"alpha": float("nan")}, "alpha"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"looks": 3, "boundary": "obf", "alpha": 0.025, "beta": 0.2}
    arguments.update(kwargs)
    with pytest.raises(TrialInputError) as error:
        design_gsd(**arguments)  # type: ignore[arg-type]
    assert error.value.field == field
    assert "expected" in str(error.value)


def test_unequal_timing_and_expected_sample_sizes_match_rpact() -> None:
    # rpact 3.3.4: typeOfDesign "OF", informationRates 0.3, 0.7, 1, alpha 0.025, beta 0.2;
    # getDesignCharacteristics: inflation 1.0184438, ASN H1 0.8629198, H0 1.0158790,
    # at half the effect 0.9834907.
    design = design_gsd(3, "obf", 0.025, 0.2, information_rates=[0.3, 0.7, 1.0])
    np.testing.assert_allclose(design.efficacy_bounds, [3.6672591, 2.4007846, 2.0086405], atol=1e-6)
    assert design.inflation_factor == pytest.approx(1.0184438, abs=1e-6)
    assert design.expected_sample_size_h1 == pytest.approx(0.8629198, abs=1e-6)
    assert design.expected_sample_size_h0 == pytest.approx(1.0158790, abs=1e-6)
    halfway = operating_characteristics(design, design.drift / 2)
    assert design.inflation_factor * halfway.expected_information == pytest.approx(
        0.9834907, abs=1e-6
    )
    # Two-sided Pocock, K = 4, alpha 0.05, beta 0.1: inflation 1.1831422, ASN H1 0.6974806,
    # H0 1.1560743; two-sided Haybittle-Peto K = 3: final bound 1.9750976.
    pocock = design_gsd(4, "pocock", 0.05, 0.1, sided=2)
    assert pocock.expected_sample_size_h1 == pytest.approx(0.6974806, abs=1e-6)
    assert pocock.expected_sample_size_h0 == pytest.approx(1.1560743, abs=1e-6)
    assert efficacy_bounds(3, "hp", 0.05, sided=2)[-1] == pytest.approx(1.9750976, abs=1e-6)


def test_one_boundary_figure_for_the_report_and_the_portal() -> None:
    two_sided = design_gsd(3, "obf", 0.05, 0.2, sided=2)
    names = [trace.name for trace in two_sided.to_figure().data]
    assert names == ["efficacy bound", "lower efficacy bound"]
    futile = design_gsd(3, "ld-obf", 0.025, 0.2, futility="nonbinding")
    figure = futile.to_figure("x")
    assert [trace.name for trace in figure.data] == ["efficacy bound", "futility bound"]
    assert list(figure.data[1].y) == pytest.approx(futile.futility_bounds)
    assert "futility bound" in futile.to_html()
