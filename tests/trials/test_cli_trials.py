"""`permedhub trials gsd|simon|sample-size`: thin shells over the library, JSON on --json."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from permedhub.cli.main import app

runner = CliRunner()


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["trials", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_gsd_json_reports_pocock_constant_and_inflation_factor() -> None:
    # J&T (2000) Table 2.1: C_P(5, 0.05) = 2.413; Table 2.2: R_P(5, 0.05, 0.1) = 1.207.
    payload = _json(["gsd", "--looks", "5", "--boundary", "pocock", "--alpha", "0.05",
                     "--beta", "0.1", "--sided", "2"])  # fmt: skip
    assert payload["efficacy_z"][0] == pytest.approx(2.413, abs=5e-4)
    assert payload["inflation_factor"] == pytest.approx(1.207, abs=5e-4)
    assert payload["cumulative_alpha_spent"][-1] == pytest.approx(0.05, abs=1e-9)
    assert len(payload["nominal_p_efficacy"]) == 5


def test_gsd_with_timing_spending_parameter_and_futility() -> None:
    payload = _json(["gsd", "--looks", "3", "--boundary", "hsd", "--gamma", "-4",
                     "--timing", "0.3,0.6,1", "--futility", "nonbinding"])  # fmt: skip
    assert payload["information_rates"] == [0.3, 0.6, 1.0]
    assert payload["futility"] == "nonbinding"
    assert payload["futility_z"][-1] == pytest.approx(payload["efficacy_z"][-1])


def test_gsd_table_output() -> None:
    result = runner.invoke(app, ["trials", "gsd", "--looks", "2", "--boundary", "obf"])
    assert result.exit_code == 0
    assert "inflation factor" in result.stdout


def test_simon_json_optimal_design() -> None:
    # Simon (1989) Table 1: p0 0.1, p1 0.3, alpha 0.05, beta 0.2 -> optimal 1/10, 5/29.
    payload = _json(["simon", "--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--beta", "0.2",
                     "--design", "optimal"])  # fmt: skip
    optimal = payload["optimal"]
    assert (optimal["r1"], optimal["n1"], optimal["r"], optimal["n"]) == (1, 10, 5, 29)
    assert "minimax" not in payload


def test_simon_table_lists_admissible_designs() -> None:
    result = runner.invoke(app, ["trials", "simon", "--p0", "0.1", "--p1", "0.3"])
    assert result.exit_code == 0
    assert "admissible" in result.stdout and "5/29" in result.stdout


def test_sample_size_each_endpoint() -> None:
    binary = _json(["sample-size", "--endpoint", "binary", "--p-control", "0.5",
                    "--p-treatment", "0.75", "--beta", "0.1"])  # fmt: skip
    assert binary["n_control"] == 77  # R power.prop.test: 76.7
    continuous = _json(["sample-size", "--endpoint", "continuous", "--delta", "1", "--sd", "1",
                        "--beta", "0.1"])  # fmt: skip
    assert continuous["n_control"] == 23  # R power.t.test: 22.02
    events = _json(["sample-size", "--endpoint", "survival", "--hazard-ratio", "0.7"])
    assert events["events"] == 247  # Schoenfeld (1983)
    patients = _json(["sample-size", "--endpoint", "survival", "--hazard-ratio", "0.7",
                      "--alpha", "0.025", "--sided", "1", "--median-control", "12",
                      "--accrual", "24", "--follow-up", "12"])  # fmt: skip
    assert patients["n_total"] == 370  # rpact getSampleSizeSurvival: 369.57


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["gsd", "--looks", "3", "--boundary", "obf", "--alpha", "0.6"], "--alpha"),
        (["gsd", "--looks", "0", "--boundary", "obf"], "--looks"),
        (["gsd", "--looks", "3", "--boundary", "obf", "--timing", "0.6,0.3,1"], "--timing"),
        (["gsd", "--looks", "3", "--boundary", "obf", "--timing", "a,b"], "--timing"),
        (["gsd", "--looks", "3", "--boundary", "hsd"], "--gamma"),
        (["simon", "--p0", "0.3", "--p1", "0.2"], "--p1"),
        (["simon", "--p0", "1.3", "--p1", "0.2"], "--p0"),
        (["sample-size", "--endpoint", "binary", "--p-control", "0.3"], "--p-treatment"),
        (["sample-size", "--endpoint", "continuous", "--delta", "1", "--sd", "-2"], "--sd"),
        (["sample-size", "--endpoint", "survival", "--hazard-ratio", "1"], "--hazard-ratio"),
        (
            ["sample-size", "--endpoint", "binary", "--p-control", "0.3", "--n-control", "150.5"],
            "--n-control",
        ),
        (["sample-size", "--endpoint", "survival", "--events", "80.5"], "--events"),
        (
            [
                "sample-size",
                "--endpoint",
                "survival",
                "--hazard-ratio",
                "0.7",
                "--median-control",
                "12",
            ],
            "--accrual",
        ),
    ],
)
def test_bad_options_are_reported_on_stderr_naming_the_option(args: list[str], option: str) -> None:
    result = runner.invoke(app, ["trials", *args])
    assert result.exit_code == 2
    assert option in result.stderr
    assert result.stdout == ""


def test_sample_size_inverse_problems_report_power_and_detectable_effect() -> None:
    # R power.t.test(n = 20, delta = 1): power 0.8689528.
    continuous = _json(["sample-size", "--endpoint", "continuous", "--sd", "1", "--delta", "1",
                        "--n-control", "20"])  # fmt: skip
    assert continuous["power"] == pytest.approx(0.8689528, abs=1e-7)
    assert 0.8 < continuous["detectable_delta"] < 1.0
    # Schoenfeld: 247 events detect HR 0.70 with power 0.80 (two-sided 0.05).
    survival = _json(["sample-size", "--endpoint", "survival", "--events", "247",
                      "--hazard-ratio", "0.7"])  # fmt: skip
    assert survival["detectable_hazard_ratio"] == pytest.approx(0.7, abs=1e-3)
    assert survival["power"] == pytest.approx(0.8, abs=1e-3)
    binary = _json(["sample-size", "--endpoint", "binary", "--p-control", "0.5",
                    "--n-control", "50"])  # fmt: skip
    assert "power" not in binary and binary["detectable_p_treatment"] > 0.5


def test_gsd_out_writes_a_self_contained_html_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "gsd.html"
    result = runner.invoke(
        app,
        ["trials", "gsd", "--looks", "3", "--boundary", "ld-obf", "--futility", "binding",
         "--out", str(report), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # stdout stays pure JSON
    text = report.read_text()
    assert '<script src="http' not in text and "plotly" in text.lower()
    assert "futility bound" in text and "ld-obf" in text and "binding" in text


def test_gsd_per_look_flags() -> None:
    payload = _json(["gsd", "--looks", "3", "--boundary", "ld-obf", "--futility", "nonbinding",
                     "--efficacy-looks", "0,1,1", "--futility-looks", "1,0,1"])  # fmt: skip
    assert payload["efficacy_z"][0] is None
    assert payload["futility_z"][1] is None and payload["futility_z"][0] is not None
    result = runner.invoke(app, ["trials", "gsd", "--looks", "3", "--boundary", "obf",
                                 "--efficacy-looks", "1,1,0"])  # fmt: skip
    assert result.exit_code == 2
    assert "--efficacy-looks = [True, True, False]" in result.stderr


def _run_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["trials", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_gsd_size_matches_rpact_for_patients_and_events() -> None:
    # rpact 4 (getSampleSizeRates / getSampleSizeSurvival on the same designs): fixed 324.6688
    # patients, expected 329.5031 (H0) and 277.9851 (H1), maximum 330.32 -> 166 per arm; fixed
    # 246.7871 events, maximum 249.94 -> 250.
    binary = _run_json(
        "gsd-size", "--looks", "3", "--boundary", "obf", "--endpoint", "binary",
        "--p-control", "0.3", "--p-treatment", "0.45",
    )["size"]  # fmt: skip
    assert sum(binary["fixed"]) == pytest.approx(324.6688, abs=1e-3)
    assert binary["maximum_by_part"] == [166, 166] and binary["cumulative"] == [111, 222, 332]
    assert binary["expected_h0"] == pytest.approx(329.5031, abs=1e-3)
    assert binary["expected_h1"] == pytest.approx(277.9851, abs=1e-3)
    events = _run_json(
        "gsd-size", "--looks", "3", "--boundary", "ld-obf", "--endpoint", "survival",
        "--hazard-ratio", "0.7",
    )["size"]  # fmt: skip
    assert events["unit"] == "events" and events["maximum"] == 250
    assert events["fixed"][0] == pytest.approx(246.7871, abs=1e-3)


def test_gsd_size_keeps_the_allocation_ratio_and_shows_a_table() -> None:
    size = _run_json(
        "gsd-size", "--looks", "2", "--boundary", "pocock", "--endpoint", "continuous",
        "--delta", "0.5", "--sd", "1", "--allocation-ratio", "2",
    )["size"]  # fmt: skip
    control, treatment = size["fixed"]
    assert treatment == pytest.approx(2 * control)
    assert size["maximum_by_part"][1] >= 2 * size["maximum_by_part"][0] - 1
    table = runner.invoke(
        app, ["trials", "gsd-size", "--looks", "2", "--boundary", "pocock", "--endpoint",
              "continuous", "--delta", "0.5", "--sd", "1"],
    )  # fmt: skip
    assert table.exit_code == 0 and "cumulative patients" in table.stdout


def test_group_sequential_size_refuses_nonsense_sizes() -> None:
    from permedhub.trials.errors import TrialInputError
    from permedhub.trials.gsd import design_gsd, group_sequential_size

    design = design_gsd(2, "obf", 0.025, 0.2)
    for bad in ([], [0.0], [float("nan")], [True]):
        with pytest.raises(TrialInputError, match="fixed"):
            group_sequential_size(design, bad)


def test_biomarker_command_reports_every_design_family() -> None:
    from permedhub.trials import biomarker

    result = _run_json(
        "biomarker", "--endpoint", "continuous", "--prevalence", "0.3", "--sensitivity", "0.9",
        "--specificity", "0.85", "--effect-pos", "0.5", "--effect-neg", "0.1", "--sd", "1",
    )  # fmt: skip
    expected = biomarker.compare_designs(
        biomarker.continuous_outcomes(0.5, 0.1, 1.0), biomarker.Assay(0.3, 0.9, 0.85)
    )
    assert result == json.loads(json.dumps(expected.to_dict()))
    assert len(result["designs"]) == 6 and result["ratio_randomised"] > 1
    binary = _run_json(
        "biomarker", "--endpoint", "binary", "--prevalence", "0.4", "--control-pos", "0.2",
        "--control-neg", "0.2", "--treatment-pos", "0.45", "--treatment-neg", "0.2",
    )  # fmt: skip
    assert binary["designs"][0]["design"] == "targeted (enrichment)"


def test_single_analysis_basket_command_is_exact() -> None:
    from permedhub.trials import basket

    borrowed = _run_json("basket", "--rates", "0.2,0.2,0.4", "--p0", "0.2", "--n", "15")
    expected = basket.fujikawa_design((0.2, 0.2, 0.4), 0.2, 15)
    assert borrowed["rejection_probabilities"] == pytest.approx(expected.rejection_probabilities)
    assert borrowed["exact"] is True
    alone = _run_json("basket", "--rates", "0.2,0.4", "--p0", "0.2", "--n", "20", "--method",
                  "independent")  # fmt: skip
    # One exact binomial test per basket: reject when X > r, r the smallest with P0 <= 0.05.
    assert alone["details"]["r"] == 7
    assert alone["rejection_probabilities"][0] == pytest.approx(0.0321, abs=1e-4)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["basket", "--rates", "0.2,1.4", "--p0", "0.2", "--n", "10"], "--rates"),
        (["basket", "--rates", "0.2,x", "--p0", "0.2", "--n", "10"], "--rates"),
        (["basket", "--rates", "0.2,0.3", "--p0", "0.2", "--n", "10", "--lambda", "1.5"],
         "--lambda"),
        (["biomarker", "--endpoint", "continuous", "--prevalence", "0.3"], "--effect-pos"),
        (["biomarker", "--endpoint", "binary", "--prevalence", "1.3", "--control-pos", "0.2",
          "--control-neg", "0.2", "--treatment-pos", "0.4", "--treatment-neg", "0.2"],
         "--prevalence"),
        (["gsd-size", "--looks", "3", "--boundary", "obf", "--endpoint", "binary",
          "--p-control", "0.3"], "--p-treatment"),
        (["gsd-size", "--looks", "3", "--boundary", "obf", "--endpoint", "survival"],
         "--hazard-ratio"),
    ],
)  # fmt: skip
def test_new_commands_name_the_bad_option(args: list[str], option: str) -> None:
    result = runner.invoke(app, ["trials", *args])
    assert result.exit_code == 2 and option in result.stderr and result.stdout == ""
