"""Microsimulation documents: a Markov document plus a top-level ``microsimulation`` block.

References: the document runs :func:`permedhub.hecon.microsim.microsimulate` (checked against
the Briggs THR cohort model in ``test_microsim.py``), so its results must equal that function
called directly, and in expectation the prevalence-weighted mix of the cohort model run for
marker-positive and marker-negative patients (tolerance: 4 Monte-Carlo standard errors).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hecon_paths import EXAMPLES
from hecon_test_models import THREE_STATE
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.hecon.errors import HeconError
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.microsim import microsimulate
from permedhub.hecon.microsim_spec import (
    MicrosimModelSpec,
    load_microsim_model,
    patient_characteristics,
)
from permedhub.hecon.run import load_document, run_analysis, to_json


def _document(patients: int = 4000, seed: int = 3) -> dict[str, Any]:
    doc = copy.deepcopy(THREE_STATE)
    doc["parameters"].update(
        {"marker": 0, "age": 60, "p_hs": "0.05 + 0.15 * marker", "p_hd": "0.0004 * age"}
    )
    doc["strategies"]["new"]["parameters"] = {"p_sd": 0.1}
    doc["microsimulation"] = {
        "patients": patients,
        "seed": seed,
        "characteristics": {
            "marker": {"categories": [1, 0], "probabilities": [0.3, 0.7]},
            "age": {"distribution": "normal", "mean": 60, "sd": 5},
        },
    }
    return doc


def test_document_equals_microsimulate_called_directly() -> None:
    spec = load_document(_document())
    assert isinstance(spec, MicrosimModelSpec)
    run = run_analysis(spec)
    characteristics = patient_characteristics(spec)
    assert set(characteristics) == {"marker", "age"}
    direct = microsimulate(MarkovModel(spec), 4000, seed=3, characteristics=characteristics)
    summary = direct.summary.set_index(["strategy", "outcome"])
    for strategy in ("usual", "new"):
        for outcome in ("cost", "qaly", "ly"):
            assert run.deterministic.loc[strategy, outcome] == pytest.approx(
                summary.loc[(strategy, outcome), "mean"], rel=1e-12
            )
            assert run.deterministic.loc[strategy, f"mc_se_{outcome}"] == pytest.approx(
                summary.loc[(strategy, outcome), "mc_se"], rel=1e-12
            )
    assert run.trace is not None
    np.testing.assert_allclose(run.trace[["healthy", "sick", "dead"]].sum(axis=1), 1.0)


def test_characteristics_follow_their_distribution_and_match_the_cohort_mix() -> None:
    """Only the biomarker varies here: the mean is then exactly linear in the marker share."""
    doc = _document(patients=8000, seed=7)
    del doc["microsimulation"]["characteristics"]["age"]
    spec = load_microsim_model(doc)
    marker = patient_characteristics(spec)["marker"]
    assert set(np.unique(marker)) == {0.0, 1.0}
    share = marker.mean()
    # binomial: |share - 0.3| within 4 standard errors
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / marker.size)
    run = run_analysis(spec)
    model = MarkovModel(spec)
    pos = model.run(sampled={"marker": [1.0]}).mean()
    neg = model.run(sampled={"marker": [0.0]}).mean()
    for strategy in ("usual", "new"):
        for outcome in ("cost", "qaly"):
            expected = share * pos.loc[strategy, outcome] + (1 - share) * neg.loc[strategy, outcome]
            se = run.deterministic.loc[strategy, f"mc_se_{outcome}"]
            assert abs(run.deterministic.loc[strategy, outcome] - expected) < 4 * se


def test_seeded_and_reproducible() -> None:
    first = run_analysis(load_document(_document(seed=5)))
    again = run_analysis(load_document(_document(seed=5)))
    other = run_analysis(load_document(_document(seed=6)))
    np.testing.assert_array_equal(first.deterministic.to_numpy(), again.deterministic.to_numpy())
    assert first.deterministic.loc["usual", "cost"] != other.deterministic.loc["usual", "cost"]


def test_bad_input_names_the_element() -> None:
    doc = _document()
    del doc["microsimulation"]["seed"]
    with pytest.raises(HeconError, match=r"microsimulation\.seed: Field required"):
        load_document(doc)
    doc = _document()
    doc["microsimulation"]["characteristics"] = {"marker": 0.3}
    with pytest.raises(HeconError, match=r"characteristic 'marker': expected \{distribution"):
        load_document(doc)
    doc = _document()
    doc["microsimulation"]["characteristics"]["weight"] = {
        "distribution": "normal",
        "mean": 60,
        "sd": 5,
    }
    with pytest.raises(HeconError, match="characteristic 'weight' is not a parameter of the model"):
        run_analysis(load_document(doc))
    doc = _document()
    doc["microsimulation"]["characteristics"]["marker"]["probabilities"] = [0.3, 0.6]
    with pytest.raises(HeconError, match=r"characteristic 'marker': .*sum to 1"):
        load_document(doc)
    doc = _document()
    doc["microsimulation"]["characteristics"]["marker"] = {
        "distribution": "bootstrap",
        "data": {"marker": [1, 0]},
        "outputs": ["marker"],
    }
    with pytest.raises(HeconError, match="characteristic 'marker': a bootstrap draw is the mean"):
        load_document(doc)
    doc = _document()
    del doc["settings"]["counting"]
    with pytest.raises(HeconError, match=r"settings\.counting: Field required"):
        load_document(doc)
    with pytest.raises(HeconError, match="without --psa"):
        run_analysis(load_document(_document()), n_draws=10, seed=1)


def test_cli_runs_the_example_with_json_and_html(tmp_path: Path) -> None:
    runner = CliRunner()
    report = tmp_path / "micro.html"
    result = runner.invoke(
        app, ["hecon", "run", "example:biomarker_microsim", "--json", "--out", str(report)]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["type"] == "microsimulation"
    assert payload["microsimulation"]["patients"] == 4000
    rows = {r["strategy"]: r for r in payload["deterministic"]}
    assert set(rows) == {"standard_care", "test_and_treat"}
    assert rows["test_and_treat"]["cost_test"] == 300.0
    assert rows["standard_care"]["mc_se_cost"] > 0
    spec = load_document(EXAMPLES / "biomarker_microsim.yaml")
    assert to_json(run_analysis(spec)) == payload  # the CLI is a thin shell
    text = report.read_text(encoding="utf-8")
    assert "Microsimulation (patients, seed, characteristics)" in text and "ILLUSTRATIVE" in text
