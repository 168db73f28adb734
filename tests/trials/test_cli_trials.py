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
