"""One library function per job (issue 16): `fixed.sample_size` and `biomarker.cell_outcomes`
choose the endpoint's calculation and name a missing input; the CLI and the portal call them and
only translate the input's name into their own (an option, a form field)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.trials import biomarker, fixed
from permedhub.trials.errors import MissingInput


def test_sample_size_is_the_endpoints_own_calculation() -> None:
    assert fixed.sample_size("binary", 0.05, 0.2, p_control=0.3, p_treatment=0.5).to_dict() == (
        fixed.binary_sample_size(0.3, 0.5, 0.05, 0.2).to_dict()
    )
    assert fixed.sample_size("continuous", delta=1, sd=2).to_dict() == (
        fixed.continuous_sample_size(1, 2).to_dict()
    )
    assert fixed.sample_size("survival", hazard_ratio=0.7).to_dict() == (
        fixed.survival_event_design(0.7).to_dict()
    )
    with_patients = fixed.sample_size(
        "survival", hazard_ratio=0.7, median_control=12, accrual=24, follow_up=12
    )
    assert (
        with_patients.to_dict()
        == fixed.survival_sample_size(
            0.7, fixed.PiecewiseExponential.from_median(12), 24, 12
        ).to_dict()
    )


@pytest.mark.parametrize(
    ("endpoint", "given", "missing"),
    [
        ("binary", {"p_control": 0.3}, "p_treatment"),
        ("continuous", {"sd": 1.0}, "delta"),
        ("survival", {}, "hazard_ratio"),
        ("survival", {"hazard_ratio": 0.7, "accrual": 24}, "median_control"),
        ("survival", {"hazard_ratio": 0.7, "median_control": 12, "accrual": 24}, "follow_up"),
    ],
)
def test_a_missing_input_is_named(endpoint: str, given: dict, missing: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(MissingInput) as raised:
        fixed.sample_size(endpoint, **given)  # type: ignore[arg-type]
    assert raised.value.field == missing
    assert str(raised.value).startswith(f"{missing} is required for ")


def test_cell_outcomes_are_the_endpoints_own() -> None:
    cells = {"p_control_pos": 0.2, "p_control_neg": 0.2, "p_treatment_pos": 0.5,
             "p_treatment_neg": 0.25}  # fmt: skip
    assert biomarker.cell_outcomes("binary", **cells) == biomarker.binary_outcomes(**cells)
    with pytest.raises(MissingInput) as raised:
        biomarker.cell_outcomes("continuous", effect_pos=0.5, sd=1)
    assert raised.value.field == "effect_neg"


def test_the_cli_names_the_missing_option() -> None:
    result = CliRunner().invoke(
        app, ["trials", "sample-size", "--endpoint", "survival", "--hazard-ratio", "0.7",
              "--accrual", "24", "--median-control", "12"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--follow-up is required for patients" in result.output
    result = CliRunner().invoke(
        app, ["trials", "biomarker", "--endpoint", "binary", "--prevalence", "0.3",
              "--control-pos", "0.2", "--control-neg", "0.2", "--treatment-pos", "0.5"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--treatment-neg is required for the binary endpoint" in result.output
