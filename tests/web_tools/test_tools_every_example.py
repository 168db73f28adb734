"""Every model the library ships runs on the model page, whatever its kind; pages that rewrite
Markov cohorts refuse the other kinds by name instead of running them as something else."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tools_pages import csrf_token, problem, table_rows

from permedhub.hecon.run import load_document, run_analysis
from permedhub.web.tools.hecon_views import example_models

NO_FILE = {"model_file": ("", b"", "application/octet-stream")}
KIND = {
    "ModelSpec": "Markov cohort",
    "MicrosimModelSpec": "individual-level microsimulation",
    "PSMModelSpec": "partitioned survival",
    "TreeModelSpec": "decision tree",
}


@pytest.mark.parametrize("name", sorted(example_models()))
def test_each_shipped_example_runs_and_shows_the_library_base_case(
    client: TestClient, name: str
) -> None:
    data = {"csrf_token": csrf_token(client, "/tools/hecon/model"), "example": name,
            "psa_draws": "0", "seed": "1", "wtp": "20000", "wtp_max": "100000"}  # fmt: skip
    response = client.post("/tools/hecon/model", data=data, files=NO_FILE)
    assert response.status_code == 200, response.text
    spec = load_document(example_models()[name])
    assert KIND[type(spec).__name__] in response.text
    expected = run_analysis(spec).deterministic.reset_index()
    rows = table_rows(response.text, "Base case per strategy")
    assert [r[0] for r in rows] == list(expected["strategy"])
    assert rows[0][1] == f"{expected['cost'].iloc[0]:,.2f}"


@pytest.mark.parametrize("name", ["oncology_psm", "biomarker_microsim", "migraine_tree"])
def test_payment_schemes_refuse_models_that_are_not_markov_cohorts(
    client: TestClient, name: str
) -> None:
    from permedhub.web.tools.hecon_payment import EXAMPLE_VALUES

    data = {"csrf_token": csrf_token(client, "/tools/hecon/payment"), **EXAMPLE_VALUES,
            "example": name}  # fmt: skip
    response = client.post("/tools/hecon/payment", data=data, files=NO_FILE)
    assert 400 <= response.status_code < 500
    assert "Markov cohort models only" in problem(response.text)
