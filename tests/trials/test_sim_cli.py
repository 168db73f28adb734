"""`permedhub trials simulate DESIGN.yaml`: design documents, JSON, HTML report, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.trials.design_spec import EnrichmentSpec, load_design, parse_design
from permedhub.trials.examples import example_names, example_path
from permedhub.trials.simulate import simulate_design

runner = CliRunner()

ENRICHMENT = {
    "design": "adaptive_enrichment",
    "stage_sample_sizes": [80, 80],
    "prevalences": [0.4, 0.6],
    "intersection_test": "simes",
    "selection": "epsilon",
    "epsilon": 0.1,
    "scenarios": [
        {"name": "null", "effect_s": 0.0, "effect_r": 0.0},
        {"name": "S", "effect_s": 0.5, "effect_r": 0.1},
    ],
}


def write(tmp_path: Path, document: dict, name: str = "design.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def run_json(*args: str) -> dict:
    result = runner.invoke(app, ["trials", "simulate", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_output_records_inputs_seed_versions_and_mc_errors(tmp_path: Path) -> None:
    report = run_json(str(write(tmp_path, ENRICHMENT)), "--n-sim", "3000", "--seed", "7")
    assert report["seed"] == 7 and report["n_sim"] == 3000 and report["engine"] == "summary"
    assert report["design"]["prevalences"] == [0.4, 0.6]
    assert report["software"]["permedhub"]
    null, effect = report["scenarios"]
    assert null["metrics"]["fwer"]["mc_se"] >= 0
    assert effect["metrics"]["reject_S"]["estimate"] > 0.3
    assert effect["metrics"]["reject_S"]["mc_se"] > 0
    assert report["boundaries"]["efficacy (combination z)"][1] == pytest.approx(1.959964, 1e-6)


def test_same_seed_same_bits_for_any_worker_count_and_json_design(tmp_path: Path) -> None:
    yaml_path = write(tmp_path, ENRICHMENT)
    json_path = tmp_path / "design.json"
    json_path.write_text(json.dumps(ENRICHMENT), encoding="utf-8")
    first = run_json(str(yaml_path), "--n-sim", "25000", "--seed", "3")
    second = run_json(str(json_path), "--n-sim", "25000", "--seed", "3", "--workers", "2")
    assert first["scenarios"] == second["scenarios"]


def test_patient_level_engine_from_the_cli(tmp_path: Path) -> None:
    report = run_json(str(write(tmp_path, ENRICHMENT)), "--n-sim", "2000", "--engine", "patient")
    assert report["engine"] == "patient"
    assert 0 <= report["scenarios"][0]["metrics"]["fwer"]["estimate"] < 0.1


def test_html_report_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(
        app,
        [
            "trials",
            "simulate",
            str(write(tmp_path, ENRICHMENT)),
            "--n-sim",
            "1000",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<script src=" not in page  # no external script (the bundle is inlined)
    assert "Plotly.newPlot" in page  # the library and the figures are inline
    for recorded in ("seed", "Monte-Carlo SE", "version of permedhub", "stage_sample_sizes"):
        assert recorded in page
    assert "Boundaries by stage" in page and "power curves" in page


@pytest.mark.parametrize("name", example_names())
def test_every_shipped_example_validates(name: str) -> None:
    spec = load_design(example_path(name))
    assert spec.design in ("adaptive_enrichment", "basket", "platform")


def test_basket_and_platform_documents_run_through_the_same_entry_point() -> None:
    platform = load_design(example_path("platform_mams"))
    report = simulate_design(platform, 2000, 5)
    assert report.boundaries["efficacy (z)"][1] < report.boundaries["efficacy (z)"][0]
    fujikawa = parse_design(
        {
            "design": "basket",
            "method": "fujikawa",
            "p0": 0.2,
            "n": 24,
            "lambda": 0.99,
            "epsilon": 2,
            "scenarios": [{"response_rates": [0.2, 0.2, 0.2]}],
        }
    )
    exact = simulate_design(fujikawa, 10, 1).scenarios[0]
    assert exact.exact
    # baskexact / Fujikawa et al. (2020) design (i): FWER 0.03600149 (see test_basket_fujikawa)
    assert exact.metrics["fwer"]["estimate"] == pytest.approx(0.03600149, abs=1e-7)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"prevalences": [0.4, 0.5]}, "prevalences"),
        ({"prevalences": [1.4, -0.4]}, "prevalences"),
        ({"alpha": 0.5}, "alpha"),
        ({"selection": "bestest"}, "selection"),
        ({"stage_sample_sizes": [80, -10]}, "stage_sample_sizes"),
        ({"scenarios": [{"effect_s": 0.1, "effect_r": 0.1, "sd_s": -1}]}, "sd_s"),
    ],
)
def test_bad_design_documents_are_reported_naming_the_field(
    tmp_path: Path, change: dict, named: str
) -> None:
    document = {**ENRICHMENT, **change}
    result = runner.invoke(app, ["trials", "simulate", str(write(tmp_path, document))])
    assert result.exit_code == 2
    assert named in result.stderr and result.stdout == ""


@pytest.mark.parametrize(("n_sim", "named"), [("0", "n_sim"), ("100000001", "n_sim")])
def test_n_sim_of_zero_or_absurd_is_rejected(tmp_path: Path, n_sim: str, named: str) -> None:
    result = runner.invoke(
        app, ["trials", "simulate", str(write(tmp_path, ENRICHMENT)), "--n-sim", n_sim]
    )
    assert result.exit_code == 2 and named in result.stderr and "100000000" in result.stderr


def test_basket_probabilities_outside_zero_one_and_wrong_engine(tmp_path: Path) -> None:
    basket = {
        "design": "basket",
        "p0": 0.2,
        "n": 10,
        "scenarios": [{"response_rates": [0.2, 1.5]}],
    }
    result = runner.invoke(app, ["trials", "simulate", str(write(tmp_path, basket))])
    assert result.exit_code == 2 and "response_rates" in result.stderr
    basket["scenarios"] = [{"response_rates": [0.2, 0.5]}]
    result = runner.invoke(
        app, ["trials", "simulate", str(write(tmp_path, basket)), "--engine", "patient"]
    )
    assert result.exit_code == 2 and "engine" in result.stderr


def test_missing_file_and_unknown_design_family(tmp_path: Path) -> None:
    result = runner.invoke(app, ["trials", "simulate", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2 and "design file" in result.stderr
    result = runner.invoke(
        app, ["trials", "simulate", str(write(tmp_path, {"design": "crossover", "scenarios": []}))]
    )
    assert result.exit_code == 2 and "design" in result.stderr


MALFORMED = {
    "design.yaml": ("design: adaptive_enrichment\nstage_sample_sizes: [80, 80\nalpha: 0.025\n",
                    "valid YAML: line 3, column 6"),
    "design.json": ('{"design": "basket",\n  "p0": 0.2,,\n}', "valid JSON: line 2, column 13"),
}  # fmt: skip


@pytest.mark.parametrize("command", ["simulate", "checklist"])
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_every_command_reports_a_malformed_document_with_its_line(
    tmp_path: Path, command: str, name: str
) -> None:
    text, where = MALFORMED[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["trials", command, str(path)])
    assert result.exit_code == 2, result.output
    assert where in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


@pytest.mark.parametrize("command", ["simulate", "checklist"])
def test_unreadable_documents_say_what_is_wrong_with_the_file(tmp_path: Path, command: str) -> None:
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("# a comment\ntitle: Pr\xe9vention\n".encode("latin-1"))
    for path, expected in (
        (tmp_path, "not a regular file"),
        (latin1, "UTF-8 text (byte 21 is not UTF-8, on line 2"),
        (tmp_path / "absent.yaml", "no such file"),
    ):
        result = runner.invoke(app, ["trials", command, str(path)])
        assert result.exit_code == 2 and expected in result.stderr, result.stderr


def test_patient_counts_must_be_whole_numbers(tmp_path: Path) -> None:
    document = {**ENRICHMENT, "stage_sample_sizes": [150.5, 2.7]}
    result = runner.invoke(app, ["trials", "simulate", str(write(tmp_path, document))])
    assert result.exit_code == 2 and result.stdout == ""
    assert "stage_sample_sizes[0] = 150.5 is invalid" in result.stderr
    assert "stage_sample_sizes[1] = 2.7 is invalid" in result.stderr
    assert "adaptive_enrichment." not in result.stderr  # the tag is not the user's field
    whole = {**ENRICHMENT, "stage_sample_sizes": [150.0, 80]}  # 150.0 is a whole number
    assert parse_design(whole).stage_sample_sizes == [150, 80]


def test_the_library_refuses_fractional_patient_counts_too() -> None:
    from permedhub.trials.enrichment import EnrichmentDesign
    from permedhub.trials.errors import TrialInputError

    with pytest.raises(TrialInputError, match=r"stage_sample_sizes\[1\] = 2\.7 .*whole number"):
        EnrichmentDesign(stage_sample_sizes=(150, 2.7))
    with pytest.raises(TrialInputError, match="whole number"):
        EnrichmentDesign(stage_sample_sizes=(True, 100))


def test_parse_design_returns_the_enrichment_schema() -> None:
    assert isinstance(parse_design(ENRICHMENT), EnrichmentSpec)


def test_examples_command_lists_and_prints_shipped_designs() -> None:
    listing = runner.invoke(app, ["trials", "examples", "--json"])
    assert listing.exit_code == 0
    names = json.loads(listing.stdout)
    assert "enrichment_simes_epsilon" in names and "basket_fujikawa" in names
    printed = runner.invoke(app, ["trials", "examples", "platform_mams"])
    assert printed.exit_code == 0 and "design: platform" in printed.stdout
    missing = runner.invoke(app, ["trials", "examples", "no_such_design"])
    assert missing.exit_code == 2 and "example" in missing.stderr


def test_basket_document_can_calibrate_lambda_to_a_fwer(tmp_path: Path) -> None:
    document = {
        "design": "basket",
        "method": "fujikawa",
        "p0": 0.2,
        "n": 15,
        "epsilon": 1,
        "tau": 0,
        "logbase": 2,
        "calibrate_lambda_to_fwer": 0.025,
        "scenarios": [{"name": "null", "response_rates": [0.2, 0.2, 0.2]}],
    }
    report = run_json(str(write(tmp_path, document)))
    scenario = report["scenarios"][0]
    # baskexact README: adjust_lambda -> lambda 0.9942, type 1 error rate 0.02451947
    assert scenario["parameters"]["lambda"] == 0.9942
    assert scenario["metrics"]["fwer"]["estimate"] == pytest.approx(0.02451947, abs=1e-7)


def test_a_basket_document_too_large_to_enumerate_says_how_to_simulate_it(tmp_path: Path) -> None:
    ten = {"design": "basket", "p0": 0.2, "n": 24, "scenarios": [{"response_rates": [0.2] * 10}]}
    refused = runner.invoke(app, ["trials", "simulate", str(write(tmp_path, ten))])
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "131,128,140 outcomes" in refused.stderr and "computation: simulated" in refused.stderr
    simulated = run_json(str(write(tmp_path, {**ten, "computation": "simulated"})), "--n-sim",
                         "500")  # fmt: skip
    scenario = simulated["scenarios"][0]
    assert scenario["exact"] is False and scenario["metrics"]["fwer"]["mc_se"] > 0


def test_simulated_basket_results_agree_with_the_exact_ones(tmp_path: Path) -> None:
    small = {"design": "basket", "p0": 0.2, "n": 12,
             "scenarios": [{"response_rates": [0.2, 0.2, 0.5]}]}  # fmt: skip
    exact = run_json(str(write(tmp_path, small)))["scenarios"][0]["metrics"]
    simulated = run_json(
        str(write(tmp_path, {**small, "computation": "simulated"})), "--n-sim", "4000"
    )["scenarios"][0]["metrics"]
    for key in ("reject_basket_1", "reject_basket_3", "fwer"):
        se = simulated[key]["mc_se"]
        assert abs(simulated[key]["estimate"] - exact[key]["estimate"]) < 4 * se + 1e-9
