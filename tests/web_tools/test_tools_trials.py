"""Trial-design pages (/tools/trials): the published design tables come through the pages
unchanged, simulations show the library's estimates and Monte-Carlo SEs for the same seed, and
bad input gets a 4xx answer naming the field and the valid range."""

from __future__ import annotations

import pytest
import yaml
from fastapi.testclient import TestClient
from tools_pages import csrf_token, figures, problem, table_rows, values

from permedhub.trials import (
    Assay,
    binary_outcomes,
    binary_sample_size,
    design_gsd,
    load_design,
    simulate_design,
    targeted_vs_untargeted,
)
from permedhub.trials.examples import example_path

NO_FILE = {"design_file": ("", b"", "application/octet-stream")}


@pytest.mark.parametrize(
    "path",
    [
        "/tools/trials",
        "/tools/trials/gsd",
        "/tools/trials/simon",
        "/tools/trials/sample-size",
        "/tools/trials/biomarker",
        "/tools/trials/checklist",
        "/tools/trials/simulate",
    ],
)
def test_every_page_renders_with_the_portal_layout(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert 'href="/tools/trials" aria-current="page"' in response.text
    assert "Cannot compute" not in response.text  # an empty form is not an error


def test_pocock_five_looks_reproduces_jennison_turnbull(client: TestClient) -> None:
    """Jennison & Turnbull (2000), Table 2.1: C_P(5, 0.05) = 2.413 (two-sided); Table 2.2:
    R_P(5, 0.05, 0.2) = 1.229."""
    query = "run=1&looks=5&boundary=pocock&alpha=0.05&beta=0.2&sided=2"
    response = client.get(f"/tools/trials/gsd?{query}")
    assert response.status_code == 200, response.text
    design = design_gsd(5, "pocock", 0.05, 0.2, 2)
    rows = table_rows(response.text, "Boundaries per look")
    assert [row[2] for row in rows] == [f"{z:,.4f}" for z in design.efficacy_bounds]
    assert rows[0][2] == "2.4132"
    assert f"<dd>{design.inflation_factor:.4f}</dd>" in response.text
    assert round(design.inflation_factor, 3) == 1.229
    boundary = figures(response.text)["boundaries"]["data"][0]
    assert values(boundary["y"]) == pytest.approx(design.efficacy_bounds)


def test_the_gsd_report_downloads_as_html(client: TestClient) -> None:
    response = client.get("/tools/trials/gsd?run=1&looks=3&boundary=obf&output=report")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert "plotly.js v" in response.text


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("looks=3&boundary=obf&alpha=0.7", "alpha", "0.7"),
        ("looks=3&boundary=obf&timing=0.5,0.4,1", "timing", "strictly increasing"),
        ("looks=3&boundary=obf&timing=a,b", "timing", "comma-separated numbers"),
        ("looks=50&boundary=obf", "looks", "less than or equal to 20"),
        ("looks=3&boundary=nonsense", "boundary", "nonsense"),
    ],
)
def test_bad_gsd_input_is_refused_naming_the_field(
    client: TestClient, query: str, field: str, words: str
) -> None:
    response = client.get(f"/tools/trials/gsd?run=1&{query}")
    assert response.status_code == 422
    message = problem(response.text)
    assert message.startswith(f"{field}:") and words in message
    assert f'<div class="field field-error">\n  <label for="{field}">' in response.text


def test_simon_reproduces_simon_1989_table_1(client: TestClient) -> None:
    """Simon, Controlled Clinical Trials 1989;10:1-10, Table 1 (p0 0.10, p1 0.30, alpha 0.05,
    beta 0.20): optimal 1/10, 5/29, EN0 15.0, PET0 0.74; minimax 1/15, 5/25, EN0 19.5."""
    response = client.get("/tools/trials/simon?run=1&p0=0.1&p1=0.3&alpha=0.05&beta=0.2")
    assert response.status_code == 200, response.text
    rows = {row[0]: row for row in table_rows(response.text, "Designs")}
    assert rows["optimal"][1:4] == ["1/10", "5/29", "15.01"]
    assert rows["optimal"][4] == "0.736"
    assert rows["minimax"][1:4] == ["1/15", "5/25", "19.51"]
    assert "simon" in figures(response.text)


def test_simon_refuses_p1_not_above_p0(client: TestClient) -> None:
    response = client.get("/tools/trials/simon?run=1&p0=0.5&p1=0.3")
    assert response.status_code == 422
    assert problem(response.text).startswith("p1:")


def test_binary_sample_size_is_the_library_answer(client: TestClient) -> None:
    query = "run=1&endpoint=binary&p_control=0.3&p_treatment=0.5&alpha=0.05&beta=0.2"
    response = client.get(f"/tools/trials/sample-size?{query}")
    assert response.status_code == 200, response.text
    design = binary_sample_size(0.3, 0.5, 0.05, 0.2)
    rows = dict((row[0], row[1]) for row in table_rows(response.text, "Sample size"))
    assert rows["control arm"] == f"{design.n_control:,}"
    assert rows["total"] == f"{design.n_total:,}"


def test_schoenfeld_events_for_hazard_ratio_0_7(client: TestClient) -> None:
    """Schoenfeld (1983): D = 4 (z_0.975 + z_0.8)^2 / log(0.7)^2 = 246.8 -> 247 events."""
    response = client.get("/tools/trials/sample-size?run=1&endpoint=survival&hazard_ratio=0.7")
    assert response.status_code == 200, response.text
    rows = dict((row[0], row[1]) for row in table_rows(response.text, "Sample size"))
    assert rows["events"] == "247"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("endpoint=continuous&delta=0.5", "sd"),
        ("endpoint=binary&p_control=1.5&p_treatment=0.5", "p_control"),
        ("endpoint=survival&hazard_ratio=0.7&median_control=12&accrual=24", "follow_up"),
    ],
)
def test_bad_sample_size_input_names_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/tools/trials/sample-size?run=1&{query}")
    assert response.status_code == 422
    assert problem(response.text).startswith(f"{field}:")


def _simulate(client: TestClient, files: dict | None = None, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, "/tools/trials/simulate"), **fields}
    return client.post("/tools/trials/simulate", data=data, files=files or NO_FILE)


def test_simulating_an_example_gives_the_library_estimates_and_ses(client: TestClient) -> None:
    response = _simulate(client, example="enrichment_simes_epsilon", n_sim="2000", seed="5")
    assert response.status_code == 200, response.text
    report = simulate_design(load_design(example_path("enrichment_simes_epsilon")), 2000, 5)
    for scenario in report.scenarios:
        rows = {row[0]: row for row in table_rows(response.text, f"Scenario: {scenario.name}")}
        for metric, value in scenario.metrics.items():
            assert rows[metric][1] == f"{value['estimate']:,.5f}"
            assert rows[metric][2] == f"{value['mc_se']:,.5f}"
    assert "rejection" in figures(response.text)


def test_an_uploaded_design_runs_like_the_file_on_disk(client: TestClient) -> None:
    path = example_path("enrichment_ssr")
    files = {"design_file": ("ssr.yaml", path.read_bytes(), "application/yaml")}
    response = _simulate(client, files=files, n_sim="500", seed="2")
    assert response.status_code == 200, response.text
    first = simulate_design(load_design(path), 500, 2).scenarios[0]
    rows = {row[0]: row for row in table_rows(response.text, f"Scenario: {first.name}")}
    assert rows["reject_any"][1] == f"{first.metrics['reject_any']['estimate']:,.5f}"


def test_the_simulation_report_downloads(client: TestClient) -> None:
    response = _simulate(client, example="enrichment_ssr", n_sim="200", output="report")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert "Monte-Carlo SE" in response.text


@pytest.mark.parametrize(
    ("fields", "upload", "named"),
    [
        ({"example": "enrichment_ssr", "n_sim": "100001"}, None, "n_sim:"),
        ({"example": "enrichment_ssr", "n_sim": "0"}, None, "n_sim:"),
        ({"example": "no_such_design"}, None, "example: unknown example 'no_such_design'"),
        ({}, None, "design_file: choose"),
        ({}, b"design: [unclosed", "design_file:"),
        ({}, b"design: basket\np0: 0.1\n", "scenarios: Field required"),
        ({}, b"title: no family\n", "design ="),
        ({"example": "basket_bhm", "n_sim": "20000"}, None, "Bayesian hierarchical"),
    ],
)
def test_a_bad_design_or_run_is_refused_naming_the_problem(
    client: TestClient, fields: dict[str, str], upload: bytes | None, named: str
) -> None:
    files = {"design_file": ("d.yaml", upload, "text/yaml")} if upload is not None else None
    response = _simulate(client, files=files, **fields)
    assert 400 <= response.status_code < 500
    assert named in problem(response.text)


def test_simulating_without_the_csrf_token_is_refused(client: TestClient) -> None:
    response = client.post(
        "/tools/trials/simulate", data={"example": "enrichment_ssr"}, files=NO_FILE
    )
    assert response.status_code == 403


def test_shipped_designs_download_for_editing(client: TestClient) -> None:
    response = client.get("/tools/trials/examples/platform_mams.yaml")
    assert response.status_code == 200
    assert response.content == example_path("platform_mams").read_bytes()
    assert client.get("/tools/trials/examples/nothing.yaml").status_code == 404


BIOMARKER = (
    "run=1&prevalence=0.3&sensitivity=0.9&specificity=0.95&p_control_pos=0.2"
    "&p_control_neg=0.2&p_treatment_pos=0.5&p_treatment_neg=0.2"
)


def test_biomarker_designs_show_the_library_sizes(client: TestClient) -> None:
    response = client.get(f"/tools/trials/biomarker?{BIOMARKER}")
    assert response.status_code == 200, response.text
    expected = targeted_vs_untargeted(
        binary_outcomes(0.2, 0.2, 0.5, 0.2), Assay(0.3, 0.9, 0.95), 0.05, 0.2, 2
    )
    rows = {row[0]: row for row in table_rows(response.text, "Patients by design")}
    assert rows["targeted (enrichment)"][2] == f"{expected.targeted.n_randomised:,}"
    assert rows["untargeted (randomise all)"][2] == f"{expected.untargeted.n_randomised:,}"
    assert "marker-stratified (interaction)" in rows
    assert "biomarker" in figures(response.text)


def test_a_design_that_does_not_apply_is_explained_not_hidden(client: TestClient) -> None:
    # Equal effects in marker-positive and -negative patients: no interaction to size for.
    query = "run=1&prevalence=0.3&endpoint=continuous&effect_pos=0.5&effect_neg=0.5&sd=1"
    response = client.get(f"/tools/trials/biomarker?{query}")
    assert response.status_code == 200
    assert "expected an effect differing by marker" in response.text
    assert "marker-stratified" not in str(table_rows(response.text, "Patients by design"))


def test_a_bad_prevalence_is_named(client: TestClient) -> None:
    response = client.get(f"/tools/trials/biomarker?{BIOMARKER.replace('0.3', '1.3', 1)}")
    assert response.status_code == 422
    assert problem(response.text).startswith("prevalence:")


def _post_checklist(client: TestClient, document: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, "/tools/trials/checklist"), "document": document}
    return client.post(
        "/tools/trials/checklist", data=data, files={"protocol_file": ("", b"", "text/yaml")}
    )


def test_the_permit_checklist_is_the_librarys_report(client: TestClient) -> None:
    from permedhub.trials import evaluate_protocol, parse_protocol
    from permedhub.web.tools.trials_views import EXAMPLE_PROTOCOL

    assert "FOSSE2023-R7" in client.get("/tools/trials/checklist").text
    response = _post_checklist(client, EXAMPLE_PROTOCOL)
    assert response.status_code == 200, response.text
    report = evaluate_protocol(parse_protocol(yaml.safe_load(EXAMPLE_PROTOCOL)))
    rows = {row[0]: row for row in table_rows(response.text, "Items")}
    assert {item: row[1] for item, row in rows.items()} == {i.id: i.status for i in report.items}
    assert rows["FOSSE2023-R7"][1] == "addressed"


def test_an_unknown_checklist_item_is_named(client: TestClient) -> None:
    from permedhub.web.tools.trials_views import EXAMPLE_PROTOCOL

    response = _post_checklist(client, EXAMPLE_PROTOCOL.replace("FOSSE2023-R7", "NOPE-1"))
    assert response.status_code == 422
    assert "addressed[0].id" in problem(response.text) and "NOPE-1" in problem(response.text)


def test_calculators_download_json_like_the_cli(client: TestClient) -> None:
    simon = client.get("/tools/trials/simon?run=1&p0=0.1&p1=0.3&output=json")
    assert simon.status_code == 200
    assert simon.json()["optimal"]["n"] == 29 and simon.json()["minimax"]["n"] == 25
    query = "run=1&endpoint=binary&p_control=0.3&p_treatment=0.5&output=json"
    size = client.get(f"/tools/trials/sample-size?{query}")
    assert size.json()["n_total"] == binary_sample_size(0.3, 0.5).n_total


def test_power_and_detectable_effect_at_a_given_size(client: TestClient) -> None:
    from permedhub.trials import binary_power, survival_detectable_hazard_ratio

    query = "run=1&endpoint=survival&hazard_ratio=0.7&events=247"
    rows = dict(
        (row[0], row[1])
        for row in table_rows(client.get(f"/tools/trials/sample-size?{query}").text, "Power")
    )
    # 247 events are the Schoenfeld size for HR 0.7 (rounded up from 246.8), so the
    # detectable HR is 0.7 or just closer to 1.
    detectable = survival_detectable_hazard_ratio(247, 0.05, 0.2, 2)
    assert rows["detectable hazard ratio"] == f"{detectable:,.4f}" and 0.7 <= detectable < 0.701
    assert float(rows["power"]) >= 0.8
    query = "run=1&endpoint=binary&p_control=0.3&p_treatment=0.5&n_control=93"
    rows = dict(
        (row[0], row[1])
        for row in table_rows(client.get(f"/tools/trials/sample-size?{query}").text, "Power")
    )
    assert rows["power"] == f"{binary_power(0.3, 0.5, 93, 0.05, 2):,.4f}"


def test_binding_futility_with_hsd_beta_spending_is_the_librarys(client: TestClient) -> None:
    query = "run=1&looks=3&boundary=hsd&gamma=-4&futility=binding&beta_spending=hsd&beta_gamma=-2"
    response = client.get(f"/tools/trials/gsd?{query}")
    assert response.status_code == 200, response.text
    design = design_gsd(
        3, "hsd", 0.025, 0.2, 1, None, futility="binding", gamma=-4,
        beta_spending="hsd", beta_gamma=-2,
    )  # fmt: skip
    rows = table_rows(response.text, "Boundaries per look")
    assert [row[3] for row in rows] == [f"{z:,.4f}" for z in design.futility_bounds]
    assert len(figures(response.text)["boundaries"]["data"]) == 2  # efficacy and futility


def test_per_look_flags_reach_the_library(client: TestClient) -> None:
    query = "run=1&looks=3&boundary=ld-obf&efficacy_looks=0,1,1"
    response = client.get(f"/tools/trials/gsd?{query}")
    assert response.status_code == 200, response.text
    design = design_gsd(3, "ld-obf", 0.025, 0.2, 1, None, efficacy_looks=[False, True, True])
    rows = table_rows(response.text, "Boundaries per look")
    assert rows[0][2] == "∞"  # no efficacy stop at the first look
    assert [row[2] for row in rows[1:]] == [f"{z:,.4f}" for z in design.efficacy_bounds[1:]]
    bad = client.get("/tools/trials/gsd?run=1&looks=3&boundary=obf&efficacy_looks=0,maybe,1")
    assert bad.status_code == 422
    assert problem(bad.text).startswith("efficacy_looks: expected comma-separated 1/0 flags")


def test_the_sample_size_page_marks_a_missing_survival_input(client: TestClient) -> None:
    response = client.get(
        "/tools/trials/sample-size",
        params={"run": "1", "endpoint": "survival", "hazard_ratio": "0.7", "accrual": "24",
                "follow_up": "12"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "median_control is required for patients" in response.text
    assert 'class="field field-error"' in response.text
