"""Partitioned survival models written as documents (top-level key ``partitioned_survival``).

The document layer only turns parameters and expressions into the inputs of
:func:`permedhub.hecon.psm.partitioned_survival`; so the reference for every result here is that
function called directly with the same numbers (the engine itself is checked against a Markov
model with constant hazards, NICE DSU TSD 19, in ``test_psm.py``).
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hecon_paths import EXAMPLES
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.hecon.errors import DistributionError, HeconError, UnknownNameError
from permedhub.hecon.psm import CurveCrossingWarning, PSMStrategy, partitioned_survival
from permedhub.hecon.psm_spec import PSMModel, PSMModelSpec, load_psm_model
from permedhub.hecon.run import load_document, run_analysis, to_json
from permedhub.hecon.spec import Settings
from permedhub.hecon.survival import Survival

SETTINGS: dict[str, Any] = {
    "cycles": 40,
    "cycle_length": 0.25,
    "discount_costs": 0.035,
    "discount_outcomes": 0.015,
    "discount_method": "cycle_end",
    "counting": "life_table",
    "effect": "qaly",
}

# One strategy per curve family so that every survival distribution is read from a document.
DOCUMENT: dict[str, Any] = {
    "name": "test PSM",
    "settings": SETTINGS,
    "parameters": {
        "rate_pfs": 0.6,
        "hr": 0.7,
        "c_pf": 1000,
        "c_pd": 1500,
        "u_pf": 0.8,
        "u_pd": 0.6,
    },
    "partitioned_survival": {
        "state_costs": {"care": {"progression_free": "c_pf", "progressed": "c_pd"}},
        "state_utilities": {"progression_free": "u_pf", "progressed": "u_pd"},
        "strategies": {
            "a": {
                "pfs": {"distribution": "exponential", "rate": "rate_pfs"},
                "os": {"distribution": "weibull", "shape": 1.1, "scale": 3.0},
            },
            "b": {
                "parameters": {"c_pf": 2000},
                "pfs": {"distribution": "exponential", "rate": "rate_pfs * hr"},
                "os": {"distribution": "gompertz", "shape": 0.1, "rate": 0.1},
                "initial_costs": {"test": 300},
            },
            "c": {
                "pfs": {"distribution": "loglogistic", "shape": 1.8, "scale": 0.9},
                "os": {"distribution": "lognormal", "meanlog": 1.0, "sdlog": 0.7},
            },
        },
    },
}


def _run_direct() -> dict[str, np.ndarray]:
    costs = {"care": {"progression_free": 1000.0, "progressed": 1500.0}}
    utilities = {"progression_free": 0.8, "progressed": 0.6}
    strategies = {
        "a": PSMStrategy(
            Survival("exponential", {"rate": 0.6}),
            Survival("weibull", {"shape": 1.1, "scale": 3.0}),
            costs,
            utilities,
        ),
        "b": PSMStrategy(
            Survival("exponential", {"rate": 0.6 * 0.7}),
            Survival("gompertz", {"shape": 0.1, "rate": 0.1}),
            {"care": {"progression_free": 2000.0, "progressed": 1500.0}},
            utilities,
            {"test": 300.0},
        ),
        "c": PSMStrategy(
            Survival("loglogistic", {"shape": 1.8, "scale": 0.9}),
            Survival("lognormal", {"meanlog": 1.0, "sdlog": 0.7}),
            costs,
            utilities,
        ),
    }
    summary = partitioned_survival(strategies, Settings(**SETTINGS)).summary
    return {
        col: summary.set_index("strategy")[col].to_numpy() for col in ("cost", "qaly", "ly")
    } | {"strategy": summary["strategy"].to_numpy()}


def test_document_base_case_equals_the_engine_called_directly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CurveCrossingWarning)  # PFS < OS over the horizon
        run = run_analysis(load_document(copy.deepcopy(DOCUMENT)))
        direct = _run_direct()
    assert list(run.deterministic.index) == list(direct["strategy"])
    for col in ("cost", "qaly", "ly"):
        np.testing.assert_allclose(run.deterministic[col].to_numpy(), direct[col], rtol=1e-13)
    # effect = qaly as the settings say; the test cost is a category of its own
    np.testing.assert_array_equal(run.deterministic["effect"], run.deterministic["qaly"])
    assert run.deterministic.loc["b", "cost_test"] == 300.0
    assert run.deterministic.loc["a", "cost_test"] == 0.0
    assert run.trace is not None
    assert set(run.trace.columns) >= {"progression_free", "progressed", "dead"}


def test_example_base_case_equals_the_engine_with_the_same_inputs() -> None:
    """The shipped example: Weibull PH hazard ratios, scale * HR^(-1/shape), by hand."""
    run = run_analysis(load_document(EXAMPLES / "oncology_psm.yaml"))
    shape = 1.2
    pfs_scale, os_scale = 0.61, 1.60
    hr_pfs, hr_os = 0.55, 0.78  # lognormal (mean, se): base case = mean
    care = {"progression_free": 800.0, "progressed": 1500.0}
    utilities = {"progression_free": 0.75, "progressed": 0.55}
    spec = load_psm_model(EXAMPLES / "oncology_psm.yaml")
    direct = partitioned_survival(
        {
            "chemotherapy": PSMStrategy(
                Survival("weibull", {"shape": shape, "scale": pfs_scale}),
                Survival("weibull", {"shape": shape, "scale": os_scale}),
                {"drug": {"progression_free": 2500.0}, "care": care},
                utilities,
            ),
            "targeted": PSMStrategy(
                Survival("weibull", {"shape": shape, "scale": pfs_scale * hr_pfs ** (-1 / shape)}),
                Survival("weibull", {"shape": shape, "scale": os_scale * hr_os ** (-1 / shape)}),
                {"drug": {"progression_free": 5000.0}, "care": care},
                utilities,
                {"test": 400.0},
            ),
        },
        spec.settings,
    ).summary.set_index("strategy")
    for col in ("cost", "qaly", "ly", "cost_drug", "cost_care", "cost_test"):
        np.testing.assert_allclose(
            run.deterministic[col].to_numpy(), direct[col].to_numpy(), rtol=1e-12
        )


def test_psa_is_seeded_reproducible_and_matches_the_engine_draw_by_draw() -> None:
    spec = load_psm_model(EXAMPLES / "oncology_psm.yaml")
    first = run_analysis(spec, n_draws=300, seed=11)
    again = run_analysis(spec, n_draws=300, seed=11)
    other = run_analysis(spec, n_draws=300, seed=12)
    assert first.psa_costs is not None and again.psa_costs is not None
    assert other.psa_costs is not None
    np.testing.assert_array_equal(first.psa_costs, again.psa_costs)
    np.testing.assert_array_equal(first.psa_effects, again.psa_effects)
    assert not np.array_equal(first.psa_costs, other.psa_costs)
    assert first.strategies == ["chemotherapy", "targeted"]

    # each draw is the engine run on that draw's sampled parameters
    result, sampled = PSMModel(spec).run(300, seed=11)
    shape = 1.2
    hr_pfs, hr_os = sampled["hr_pfs"], sampled["hr_os"]
    pfs_scale, os_scale = sampled["pfs_scale"], sampled["os_scale"]
    care = {"progression_free": sampled["c_care_pf"], "progressed": sampled["c_care_pd"]}
    utilities = {"progression_free": sampled["u_pf"], "progressed": sampled["u_pd"]}
    targeted = partitioned_survival(
        {
            "targeted": PSMStrategy(
                Survival("weibull", {"shape": shape, "scale": pfs_scale * hr_pfs ** (-1 / shape)}),
                Survival("weibull", {"shape": shape, "scale": os_scale * hr_os ** (-1 / shape)}),
                {"drug": {"progression_free": 5000.0}, "care": care},
                utilities,
                {"test": 400.0},
            )
        },
        spec.settings,
    ).summary
    np.testing.assert_allclose(first.psa_costs[:, 1], targeted["cost"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(first.psa_effects[:, 1], targeted["qaly"].to_numpy(), rtol=1e-12)
    assert result.summary["cost"].std() > 0  # the draws do vary


def test_psa_evppi_and_json_payload() -> None:
    run = run_analysis(
        load_psm_model(EXAMPLES / "oncology_psm.yaml"), n_draws=200, seed=3, evppi_wtp=150_000
    )
    payload = to_json(run)
    assert payload["type"] == "partitioned_survival"
    assert payload["settings"]["counting"] == "life_table"
    assert payload["psa"]["draws"] == 200
    assert run.evppi is not None
    assert {"hr_pfs", "u_pf"} <= set(run.evppi["parameters"].astype(str))


def test_pfs_above_os_is_clamped_with_a_warning_naming_the_strategy() -> None:
    doc = copy.deepcopy(DOCUMENT)
    doc["partitioned_survival"]["strategies"]["a"]["pfs"] = {
        "distribution": "exponential",
        "rate": 0.05,  # PFS median 13.9 y, above OS
    }
    with pytest.warns(CurveCrossingWarning, match="strategy 'a'"):
        run = run_analysis(load_document(doc))
    assert run.trace is not None
    assert (run.trace[["progression_free", "progressed", "dead"]] >= 0).all().all()


def _bad(path: list[str], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOCUMENT)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def test_unknown_distribution_names_the_curve_and_the_choices() -> None:
    doc = _bad(["partitioned_survival", "strategies", "a", "os", "distribution"], "gamma")
    with pytest.raises(HeconError, match=r"strategies\.a\.os\.distribution.*'weibull'"):
        load_document(doc)


def test_negative_scale_names_strategy_curve_and_parameter() -> None:
    doc = _bad(["partitioned_survival", "strategies", "a", "os", "scale"], -2.5)
    with pytest.raises(DistributionError, match=r"strategy 'a' os \(weibull\): scale must be > 0"):
        run_analysis(load_document(doc))
    # also when the negative value comes from a parameter expression
    doc = _bad(["parameters", "rate_pfs"], "-0.6")
    with pytest.raises(DistributionError, match=r"strategy 'a' pfs \(exponential\): rate"):
        run_analysis(load_document(doc))


def test_missing_convention_is_an_error_not_a_default() -> None:
    for option in ("counting", "discount_method"):
        doc = _bad(["settings", option], None)
        with pytest.raises(HeconError, match=rf"settings\.{option}: Field required"):
            load_document(doc)


def test_other_bad_inputs_name_the_element() -> None:
    missing = _bad(["partitioned_survival", "strategies", "a", "os", "scale"], None)
    with pytest.raises(HeconError, match=r"strategies\.a\.os.*weibull needs parameters"):
        load_document(missing)
    state = _bad(["partitioned_survival", "state_utilities", "progresed"], 0.6)
    with pytest.raises(UnknownNameError, match="unknown state 'progresed'"):
        load_document(state)
    name = _bad(["partitioned_survival", "strategies", "c", "pfs", "scale"], "sclae_pfs")
    with pytest.raises(UnknownNameError, match=r"strategy 'c' pfs scale"):
        run_analysis(load_document(name))
    timed = _bad(["partitioned_survival", "strategies", "c", "pfs", "scale"], "0.1 * model_time")
    with pytest.raises(HeconError, match=r"strategy 'c' pfs scale: .*constant over time"):
        run_analysis(load_document(timed))
    negative = _bad(["parameters", "c_pd"], -5)
    with pytest.raises(HeconError, match=r"state cost care\[progressed\]: negative cost"):
        run_analysis(load_document(negative))


def test_load_document_dispatches_on_the_top_level_key() -> None:
    assert isinstance(load_document(copy.deepcopy(DOCUMENT)), PSMModelSpec)
    assert isinstance(load_document(EXAMPLES / "oncology_psm.yaml"), PSMModelSpec)


def test_cli_runs_the_example_with_json_and_html(tmp_path: Path) -> None:
    runner = CliRunner()
    report = tmp_path / "psm.html"
    with warnings.catch_warnings():
        warnings.simplefilter("error", CurveCrossingWarning)  # the example's curves never cross
        result = runner.invoke(
            app,
            [
                "hecon",
                "run",
                "example:oncology_psm",
                "--psa",
                "100",
                "--seed",
                "5",
                "--json",
                "--out",
                str(report),
            ],
        )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["type"] == "partitioned_survival"
    assert [r["strategy"] for r in payload["deterministic"]] == ["chemotherapy", "targeted"]
    assert payload["psa"]["seed"] == 5
    text = report.read_text(encoding="utf-8")
    assert "Partitioned survival structure" in text and "ILLUSTRATIVE" in text
    listing = runner.invoke(app, ["hecon", "examples", "--json"])
    assert "oncology_psm" in json.loads(listing.stdout)
