"""Population payment schemes (/tools/hecon/payment/population) and coverage with evidence
development (/tools/hecon/payment/evidence): the pages show exactly what
`permedhub.hecon.payment` computes, and bad form values get a 4xx answer naming the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tool_psa_frames import psa_frame
from tools_pages import csrf_token, figures, problem, table_rows

from permedhub.hecon import payment, voi
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model
from permedhub.web.tools.columns import column
from permedhub.web.tools.hecon import EVIDENCE_EXAMPLE_VALUES, POPULATION_EXAMPLE_VALUES
from permedhub.web.tools.hecon_views import example_models

POPULATION = "/tools/hecon/payment/population"
EVIDENCE = "/tools/hecon/payment/evidence"
NO_FILE = {"model_file": ("", b"", "application/octet-stream")}
SPEND = "Payer's discounted spend over the horizon"
YEARLY = "Payer's spend per year (undiscounted)"


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _present_value(spend: np.ndarray, rate: float) -> np.ndarray:
    """Σ_y spend[y] (1 + rate)^-y, year 1 (index 0) undiscounted."""
    return np.asarray(spend @ (1 + rate) ** -np.arange(spend.shape[-1]))


def _post_population(client: TestClient, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, POPULATION), **POPULATION_EXAMPLE_VALUES, **fields}
    return client.post(POPULATION, data=data, files=NO_FILE)


@pytest.mark.parametrize("path", [POPULATION, EVIDENCE, "/tools/hecon/payment"])
def test_the_payment_pages_render_and_link_to_each_other(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.text
    assert 'href="/tools/hecon/payment/population"' in response.text or path == POPULATION
    assert 'href="/tools/hecon/payment/evidence"' in response.text or path == EVIDENCE


# --------------------------------------------------------------------------- price-volume


def test_a_price_volume_agreement_shows_the_librarys_yearly_spend(client: TestClient) -> None:
    response = _post_population(client, scheme="price_volume")
    assert response.status_code == 200, response.text
    volume = [80.0, 100.0, 120.0, 140.0, 160.0]
    tiers = [(0.0, 30_000.0), (120.0, 24_000.0)]
    agreed = payment.price_volume_spend(volume, tiers)
    # By hand: 140 units in year 4 = 120 at 30,000 + 20 at 24,000 = 4,080,000.
    assert agreed[3] == 4_080_000
    yearly = table_rows(response.text, YEARLY)
    assert [row[3] for row in yearly] == [_money(v) for v in agreed]
    assert yearly[3][2] == _money(140 * 30_000)  # list price spend
    assert yearly[3][4] == _money(4_080_000 / 140)  # average unit price
    present = float(_present_value(agreed, 0.035))
    patients = voi.population_multiplier(volume, 5, 0.035)
    summary = {row[0]: row for row in table_rows(response.text, SPEND)}
    shown = summary["price-volume agreement"]
    assert shown[1:5] == [_money(present), "0.00", _money(present), _money(present)]
    assert shown[6] == _money(present / patients)  # equivalent up-front price per patient
    assert summary["list price"][6] == "30,000.00"  # a single price is its own equivalent
    assert "cashflows" in figures(response.text)


# --------------------------------------------------------------------------- budget cap


def test_a_budget_cap_shows_the_librarys_capped_spend_under_the_psa(client: TestClient) -> None:
    response = _post_population(client, scheme="budget_cap", psa_draws="200", seed="3")
    assert response.status_code == 200, response.text
    spec = load_model(example_models()["personalised_medicine"])
    result = MarkovModel(spec).run(n_draws=200, seed=3, keep_cashflows=True)
    new_patients = [80.0, 100.0, 120.0, 140.0, 160.0]
    spend = payment.population_spend(result.cashflows["test_and_treat"]["drug"], new_patients)
    paid, rebate = payment.budget_cap(spend, 1_500_000.0)
    assert np.all(paid <= 1_500_000) and np.allclose(paid + rebate, spend)
    assert rebate.sum() > 0  # the example's cap binds
    yearly = table_rows(response.text, YEARLY)
    assert [row[3] for row in yearly] == [_money(v) for v in spend.mean(axis=0)]
    assert [row[4] for row in yearly] == [_money(v) for v in paid.mean(axis=0)]
    assert [row[7] for row in yearly] == [_money(v) for v in rebate.mean(axis=0)]
    summary = {row[0]: row for row in table_rows(response.text, SPEND)}
    present = _present_value(paid, 0.035)
    capped = summary["budget cap (payer)"]
    assert capped[1:5] == [
        _money(present.mean()),
        _money(present.std(ddof=1)),
        _money(np.percentile(present, 5)),
        _money(np.percentile(present, 95)),
    ]
    patients = voi.population_multiplier(new_patients, 5, 0.035)
    assert capped[6] == _money(present.mean() / patients)
    assert summary["without cap"][1] == _money(_present_value(spend, 0.035).mean())
    assert "cashflows" in figures(response.text)


def test_yearly_caps_apply_year_by_year(client: TestClient) -> None:
    response = _post_population(
        client, scheme="budget_cap", psa_draws="0", cap="0, 0, 1e12, 1e12, 1e12"
    )
    assert response.status_code == 200, response.text
    yearly = table_rows(response.text, YEARLY)
    assert [row[4] for row in yearly[:2]] == ["0.00", "0.00"]  # capped at zero: all rebated
    assert yearly[2][4] == yearly[2][3]  # a cap that never binds: the payer pays it all


def test_an_uploaded_model_is_capped_like_the_same_file_on_disk(client: TestClient) -> None:
    path = example_models()["personalised_medicine"]
    data = {
        "csrf_token": csrf_token(client, POPULATION),
        **POPULATION_EXAMPLE_VALUES,
        "scheme": "budget_cap",
        "example": "",
        "psa_draws": "0",
    }
    upload = {"model_file": ("pm.yaml", path.read_bytes(), "application/yaml")}
    uploaded = client.post(POPULATION, data=data, files=upload)
    shipped = _post_population(client, scheme="budget_cap", psa_draws="0")
    assert uploaded.status_code == shipped.status_code == 200, uploaded.text
    assert table_rows(uploaded.text, SPEND) == table_rows(shipped.text, SPEND)


def test_a_model_with_monthly_cycles_is_refused_for_yearly_spend(client: TestClient) -> None:
    path = example_models()["briggs_hiv"]
    monthly = path.read_text(encoding="utf-8").replace("cycle_length: 1", "cycle_length: 0.5", 1)
    assert monthly != path.read_text(encoding="utf-8")
    data = {
        "csrf_token": csrf_token(client, POPULATION),
        **POPULATION_EXAMPLE_VALUES,
        "scheme": "budget_cap",
        "example": "",
        "strategy": "monotherapy",
    }
    upload = {"model_file": ("hiv.yaml", monthly.encode(), "application/yaml")}
    response = client.post(POPULATION, data=data, files=upload)
    assert response.status_code == 422
    assert problem(response.text).startswith("model_file: a budget cap works on yearly spend")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"tiers": "0:30000, lots"}, "tiers: 'lots': expected from_volume:unit_price"),
        ({"tiers": "10:30000"}, "tiers: price-volume tiers must start at volume 0"),
        ({"new_patients": "80, -5"}, "new_patients: expected 1 to 50 numbers >= 0"),
        ({"new_patients": "many"}, "new_patients: expected comma-separated numbers"),
        ({"discount_rate": "1.5"}, "discount_rate:"),
        ({"scheme": "lottery"}, "scheme:"),
        ({"scheme": "budget_cap", "cap": "1, 2"}, "cap: expected 1 or 5 yearly caps"),
        ({"scheme": "budget_cap", "strategy": "placebo"}, "strategy: unknown strategy 'placebo'"),
        ({"scheme": "budget_cap", "category": "hotel"}, "category: unknown cost category"),
        ({"scheme": "budget_cap", "psa_draws": "999999"}, "psa_draws:"),
        ({"scheme": "budget_cap", "example": "migraine_tree"}, "model_file:"),
    ],
)
def test_bad_population_values_are_named(
    client: TestClient, fields: dict[str, str], named: str
) -> None:
    response = _post_population(client, **fields)
    assert response.status_code == 422
    assert named in problem(response.text)


def test_posting_without_the_csrf_token_is_refused(client: TestClient) -> None:
    population = client.post(POPULATION, data=POPULATION_EXAMPLE_VALUES, files=NO_FILE)
    evidence = client.post(EVIDENCE, data=EVIDENCE_EXAMPLE_VALUES, files=_psa_upload())
    assert population.status_code == evidence.status_code == 403


# --------------------------------------------------------------------------- evidence


def _psa_upload(frame: pd.DataFrame | None = None) -> dict:  # type: ignore[type-arg]
    text = (psa_frame() if frame is None else frame).to_csv(index=False)
    return {"psa_file": ("psa.csv", text.encode(), "text/csv")}


def _post_evidence(client: TestClient, files: dict | None = None, **fields: str):  # type: ignore[no-untyped-def,type-arg]
    data = {
        "csrf_token": csrf_token(client, EVIDENCE),
        **EVIDENCE_EXAMPLE_VALUES,
        "ced_parameters": "p_response",
        **fields,
    }
    return client.post(EVIDENCE, data=data, files=files or _psa_upload())


@pytest.mark.parametrize("study_cost", ["1000", "1e12"])
def test_coverage_with_evidence_development_is_the_librarys(
    client: TestClient, study_cost: str
) -> None:
    response = _post_evidence(client, study_cost=study_cost)
    assert response.status_code == 200, response.text
    frame = psa_frame()
    expected = payment.coverage_with_evidence_development(
        frame[["cost_old", "cost_new"]].to_numpy(), frame[["effect_old", "effect_new"]].to_numpy(),
        ["old", "new"], frame[["p_response"]], ["p_response"], 50, 200, 20_000, 1000, 10, 0.035,
        float(study_cost),
    )  # fmt: skip
    shown = dict(table_rows(response.text, "Value of the study at WTP 20,000 (n = 200)"))
    for key in ("evsi_per_person", "evpi_per_person", "population", "evsi_population",
                "study_cost", "expected_net_gain_of_sampling"):  # fmt: skip
        assert shown[column(key).heading] == _money(float(expected[key])), key
    assert float(expected["evsi_per_person"]) > 0
    decision = "collect evidence first" if study_cost == "1000" else "decide now"
    assert expected["decision"] == ("collect_evidence" if study_cost == "1000" else "decide_now")
    assert f"<dd>{decision}</dd>" in response.text
    assert {"ced", "ced-years"} <= set(figures(response.text))
    # Over the horizon: year by year the value accrues to the library's population EVSI.
    years = table_rows(response.text, "Value of the study's information over the decision")
    assert len(years) == 10
    assert years[0][1] == _money(1000)  # the first year's patients are not discounted
    assert years[-1][2] == _money(float(expected["evsi_population"]))
    assert years[-1][4] == _money(float(expected["expected_net_gain_of_sampling"]))


@pytest.mark.parametrize(
    ("fields", "files", "named"),
    [
        ({"sample_size": "0"}, None, "sample_size:"),
        ({"prior_sample_size": "-1"}, None, "prior_sample_size:"),
        ({"study_cost": "cheap"}, None, "study_cost:"),
        ({"horizon_years": "500"}, None, "horizon_years:"),
        ({"ced_parameters": "p_respnse"}, None, "ced_parameters: unknown parameter column(s)"),
        ({"sample": ""}, {"psa_file": ("", b"", "text/csv")}, "psa_file: choose a file"),
        ({"sample": "nosuch"}, {"psa_file": ("", b"", "text/csv")}, "sample: unknown sample"),
        ({}, _psa_upload(psa_frame(60).drop(columns=["effect_new"])), "psa_file: missing"),
    ],
)
def test_bad_evidence_values_are_named(
    client: TestClient,
    fields: dict[str, str],
    files: dict | None,  # type: ignore[type-arg]
    named: str,
) -> None:
    response = _post_evidence(client, files=files, **fields)
    assert response.status_code == 422
    assert named in problem(response.text)
