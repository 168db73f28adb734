"""Health-economics pages (/tools/hecon): they show exactly what `permedhub.hecon` computes,
and bad uploads get a 4xx answer that names the field, the column or the model element."""

from __future__ import annotations

import html
import io
import re

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tool_psa_frames import psa_frame
from tools_pages import csrf_token, figures, problem, table_rows, values

from permedhub.hecon import cea, voi
from permedhub.hecon.run import run_analysis
from permedhub.hecon.spec import load_model
from permedhub.web.tools.hecon_views import example_models

NO_FILE = {"model_file": ("", b"", "application/octet-stream")}


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _effect(value: float) -> str:
    return f"{value:,.4f}"


def _post_model(client: TestClient, files: dict | None = None, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, "/tools/hecon/model"), **fields}
    return client.post("/tools/hecon/model", data=data, files=files or NO_FILE)


@pytest.mark.parametrize(
    "path",
    [
        "/tools/hecon",
        "/tools/hecon/model",
        "/tools/hecon/psa",
        "/tools/hecon/icers",
        "/tools/hecon/budget",
    ],
)
def test_every_page_renders_with_the_portal_layout(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert 'href="/tools/hecon" aria-current="page"' in response.text  # nav link, current
    assert "/tools/static/plotly.min.js" not in response.text  # no charts yet, no 4.8 MB


def test_plotly_js_is_served_from_the_installed_plotly_package(client: TestClient) -> None:
    response = client.get("/tools/static/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content.lstrip().startswith(b"/**\n* plotly.js v")


def test_the_briggs_hiv_example_shows_the_library_incremental_table(client: TestClient) -> None:
    """Briggs, Claxton & Sculpher (2006), Exercise 2.5, as shipped with permedhub.hecon."""
    response = _post_model(client, example="briggs_hiv", psa_draws="0")
    assert response.status_code == 200, response.text
    expected = run_analysis(load_model(example_models()["briggs_hiv"]))
    rows = table_rows(response.text, "Incremental analysis (ND")
    assert [row[0] for row in rows] == list(expected.icers["strategy"])
    combination = expected.icers.set_index("strategy").loc["combination"]
    shown = {row[0]: row for row in rows}["combination"]
    assert shown[1] == _money(combination["cost"])
    assert shown[2] == _effect(combination["effect"])
    assert shown[5] == _money(combination["icer"])
    assert shown[6] == combination["status"] == "ND"
    assert set(figures(response.text)) == {"frontier"}
    assert '<script src="/tools/static/plotly.min.js" defer></script>' in response.text


def test_a_psa_run_shows_the_library_ceac_and_ce_plane(client: TestClient) -> None:
    response = _post_model(
        client, example="personalised_medicine", psa_draws="300", seed="7", wtp_max="50000"
    )
    assert response.status_code == 200, response.text
    run = run_analysis(
        load_model(example_models()["personalised_medicine"]), 300, 7, wtp_max=50_000
    )
    assert run.ceac is not None and run.psa is not None
    shown = figures(response.text)
    assert {"frontier", "ce-plane", "ceac", "ceaf", "evpi"} <= set(shown)
    for trace in shown["ceac"]["data"]:
        if trace["name"] == "Frontier":
            continue
        expected = run.ceac[run.ceac["strategy"] == trace["name"]]["probability"]
        assert values(trace["y"]) == pytest.approx(expected.to_numpy())
    costs, effects = run.psa.matrices()
    plane = cea.ce_plane(cea.psa_sample(costs, effects, run.psa.strategies), run.psa.strategies[0])
    plotted = np.concatenate([values(t["y"]) for t in shown["ce-plane"]["data"]
                              if t["name"] != "WTP 20,000"])  # fmt: skip
    assert np.sort(plotted) == pytest.approx(np.sort(plane["inc_cost"].to_numpy()))
    # The CEAC's data table (its twin for screen readers): one row per WTP of the grid.
    twin = table_rows(response.text, "Cost-effectiveness acceptability curves")
    assert len(twin) == len(run.wtp_grid)  # type: ignore[arg-type]
    last = run.ceac[run.ceac["wtp"] == 50_000].set_index("strategy")["probability"]
    assert twin[-1][1:] == [f"{last[s]:,.4f}" for s in run.psa.strategies]
    summary = table_rows(response.text, "PSA summary")
    mean_cost = run.psa_summary.iloc[0]["mean"]  # type: ignore[union-attr]
    assert summary[0][2] == f"{mean_cost:,.4f}"


def test_the_report_downloads_as_one_self_contained_html_file(client: TestClient) -> None:
    response = _post_model(client, example="briggs_thr", output="report")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert html.escape(load_model(example_models()["briggs_thr"]).name) in response.text
    assert "plotly.js v" in response.text  # Plotly inlined, no CDN
    assert not re.search(r"<script[^>]+src=", response.text)  # nothing loaded from elsewhere


def test_an_uploaded_model_runs_like_the_same_file_on_disk(client: TestClient) -> None:
    path = example_models()["briggs_thr"]
    files = {"model_file": ("thr.yaml", path.read_bytes(), "application/yaml")}
    response = _post_model(client, files=files)
    assert response.status_code == 200, response.text
    expected = run_analysis(load_model(path)).icers
    shown = table_rows(response.text, "Incremental analysis (ND")
    assert [row[1] for row in shown] == [_money(c) for c in expected["cost"]]


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"name: [unclosed", "model_file"),
        (b"- just\n- a list\n", "must be a mapping"),
        (b"name: x\nsettings: {cycles: 0}\n", "settings.cycles"),
    ],
)
def test_a_bad_model_document_is_refused_naming_the_problem(
    client: TestClient, content: bytes, named: str
) -> None:
    response = _post_model(client, files={"model_file": ("bad.yaml", content, "text/yaml")})
    assert response.status_code == 422
    assert named in problem(response.text)


def test_an_unknown_state_is_named(client: TestClient) -> None:
    text = example_models()["briggs_hiv"].read_text(encoding="utf-8")
    broken = text.replace("  A: {A: C,", "  Q: {A: C,", 1)
    assert broken != text
    response = _post_model(client, files={"model_file": ("hiv.yaml", broken.encode(), "text/yaml")})
    assert response.status_code == 422
    assert "unknown state 'Q'" in problem(response.text)


def test_options_out_of_range_are_named(client: TestClient) -> None:
    response = _post_model(client, example="briggs_hiv", psa_draws="1000000")
    assert response.status_code == 422
    assert problem(response.text).startswith("psa_draws:")


def test_posting_without_the_csrf_token_is_refused(client: TestClient) -> None:
    response = client.post("/tools/hecon/model", data={"example": "briggs_hiv"}, files=NO_FILE)
    assert response.status_code == 403


# --------------------------------------------------------------------------- ICER table


def _post_csv(client: TestClient, path: str, field: str, text: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, path), **fields}
    return client.post(path, data=data, files={field: ("data.csv", text.encode(), "text/csv")})


def test_the_icer_table_marks_strong_and_extended_dominance(client: TestClient) -> None:
    # C costs more than B for less effect (D). E's ICER versus B (3,000) exceeds D's versus E
    # (1,500), so E is extended-dominated (ED) and D is compared with B directly.
    text = "strategy,cost,effect\nA,0,0\nB,100,0.5\nC,150,0.4\nD,1000,1.0\nE,400,0.6\n"
    response = _post_csv(client, "/tools/hecon/icers", "icers_file", text)
    assert response.status_code == 200, response.text
    rows = {row[0]: row for row in table_rows(response.text, "Incremental analysis")}
    assert {name: row[-1] for name, row in rows.items()} == {
        "A": "ND", "B": "ND", "D": "ND", "C": "D", "E": "ED"
    }  # fmt: skip
    expected = cea.calculate_icers([0, 100, 150, 1000, 400], [0, 0.5, 0.4, 1, 0.6], list("ABCDE"))
    assert rows["D"][5] == _money(expected.set_index("strategy").loc["D", "icer"]) == "1,800.00"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("strategy,cost\nA,1\nB,2\n", "missing column(s) ['effect']"),
        ("strategy,cost,effect\nA,1,0.5\nB,lots,0.7\n", "column 'cost', line 3"),
        ("name,cost,effect\nA,1,0.5\n", "missing column 'strategy'"),
        ("strategy,cost,effect\n", "no data rows"),
    ],
)
def test_a_bad_icer_file_is_refused_naming_the_column(
    client: TestClient, text: str, named: str
) -> None:
    response = _post_csv(client, "/tools/hecon/icers", "icers_file", text)
    assert response.status_code == 422
    assert named in problem(response.text)
    assert problem(response.text).startswith("icers_file:")


def test_an_upload_over_five_megabytes_is_refused(client: TestClient) -> None:
    text = "strategy,cost,effect\n" + "A,1,1\n" * 1_000_000
    response = _post_csv(client, "/tools/hecon/icers", "icers_file", text)
    assert response.status_code == 413


# --------------------------------------------------------------------------- PSA / VOI


def test_voi_page_shows_the_library_evpi_and_evppi(client: TestClient) -> None:
    frame = psa_frame()
    response = _post_csv(
        client, "/tools/hecon/psa", "psa_file", frame.to_csv(index=False),
        wtp="20000", parameters="p_response; c_drug; p_response,c_drug",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    sample = cea.psa_from_wide_frame(frame)
    evpi = voi.evpi(sample, [20_000])["evpi"].iloc[0]
    assert table_rows(response.text, "EVPI per person at 20,000")[0][1] == _money(evpi)
    expected = voi.evppi(
        sample, frame[["c_drug", "p_response"]], [["p_response"], ["c_drug"],
        ["p_response", "c_drug"]], wtp=[20_000], method="gam", seed=0,
    )  # fmt: skip
    shown = {row[0]: row for row in table_rows(response.text, "EVPPI per person")}
    for _, row in expected.iterrows():
        assert shown[row["parameters"]][2] == _money(row["evppi"])
    assert {"evppi", "evpi", "ceac", "ce-plane"} <= set(figures(response.text))


def _with_text_cell(frame: pd.DataFrame) -> pd.DataFrame:
    """'n/a' in column cost_old of draw 5 (line 6 of the file)."""
    return frame.astype({"cost_old": object}).assign(
        cost_old=lambda g: g["cost_old"].where(g.index != 4, "n/a")
    )


@pytest.mark.parametrize(
    ("mutate", "named"),
    [
        (lambda f: f.drop(columns=["effect_new"]), "effect_new"),
        (lambda f: f.drop(columns=["cost_new", "effect_new"]), "at least 2 strategies"),
        (_with_text_cell, "column 'cost_old', line 6"),
    ],
)  # fmt: skip
def test_a_bad_psa_file_is_refused_naming_the_column(client: TestClient, mutate, named) -> None:  # type: ignore[no-untyped-def]
    text = mutate(psa_frame(60)).to_csv(index=False)
    response = _post_csv(client, "/tools/hecon/psa", "psa_file", text, wtp="20000")
    assert response.status_code == 422
    assert named in problem(response.text)


def test_an_unknown_evppi_parameter_is_named(client: TestClient) -> None:
    text = psa_frame(60).to_csv(index=False)
    response = _post_csv(
        client, "/tools/hecon/psa", "psa_file", text, wtp="20000", parameters="p_respnse"
    )
    assert response.status_code == 422
    assert "unknown parameter column(s) ['p_respnse']" in problem(response.text)


def test_the_csv_helper_reads_what_pandas_writes() -> None:
    # The PSA page reads the same CSV text pandas writes (guards the test fixture above).
    frame = psa_frame(5)
    assert pd.read_csv(io.StringIO(frame.to_csv(index=False))).shape == frame.shape


def test_a_models_psa_sample_downloads_and_feeds_the_voi_page(client: TestClient) -> None:
    response = _post_model(
        client, example="briggs_hiv", psa_draws="250", seed="4", output="psa_csv"
    )
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    sample = pd.read_csv(io.StringIO(response.content.decode("utf-8-sig")))
    run = run_analysis(load_model(example_models()["briggs_hiv"]), 250, 4)
    assert run.psa is not None
    costs, _ = run.psa.matrices()
    assert sample["cost_monotherapy"].to_numpy() == pytest.approx(costs[:, 0])
    assert {"rr", "p_ab", "dmca"} <= set(sample.columns)
    voi_page = _post_csv(
        client, "/tools/hecon/psa", "psa_file", response.content.decode("utf-8-sig"),
        wtp="10000", parameters="rr",
    )  # fmt: skip
    assert voi_page.status_code == 200, voi_page.text
    expected = voi.evpi(cea.psa_from_wide_frame(sample), [10_000])["evpi"].iloc[0]
    assert table_rows(voi_page.text, "EVPI per person at 10,000")[0][1] == _money(expected)


def test_shipped_examples_download_for_editing(client: TestClient) -> None:
    response = client.get("/tools/hecon/examples/briggs_thr.yaml")
    assert response.status_code == 200
    assert response.content == example_models()["briggs_thr"].read_bytes()
    assert client.get("/tools/hecon/examples/nothing.yaml").status_code == 404


def test_tool_pages_keep_the_portal_csp_except_plotlys_empty_style_element(
    client: TestClient,
) -> None:
    portal = client.get("/search").headers["content-security-policy"]
    tools = client.get("/tools/hecon/model").headers["content-security-policy"]
    empty_style = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"  # SHA-256 of ""
    assert tools == portal.replace("style-src 'self'", f"style-src 'self' {empty_style}")
    assert "unsafe-inline" not in tools and "unsafe-eval" not in tools


# --------------------------------------------------------------------------- budget impact


def _post_budget(client: TestClient, document: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, "/tools/hecon/budget"), "document": document}
    return client.post(
        "/tools/hecon/budget", data=data, files={"budget_file": ("", b"", "text/yaml")}
    )


def test_the_example_budget_impact_matches_a_hand_calculation(client: TestClient) -> None:
    from permedhub.web.tools.hecon_budget import EXAMPLE_DOCUMENT

    assert EXAMPLE_DOCUMENT in client.get("/tools/hecon/budget").text
    response = _post_budget(client, EXAMPLE_DOCUMENT)
    assert response.status_code == 200, response.text
    year_one = table_rows(response.text, "Budget impact by year")[0]
    # Year 1: 1,200 prevalent + 400 incident patients. Reference: all on chemotherapy at
    # 12,000 = 19,200,000. Scenario: 20% (320) on test + targeted at 31,000 and 1,280 on
    # chemotherapy = 25,280,000. Budget impact 6,080,000.
    assert year_one[:4] == ["1", "25,280,000.00", "19,200,000.00", "6,080,000.00"]
    assert "budget" in figures(response.text)


@pytest.mark.parametrize(
    ("replace", "by", "named"),
    [
        ("test_and_targeted: [0.2,", "test_and_targeted: [0.3,", "year 1 sums to 1.1"),
        ("discount_rate: 0.0", "discount_rate: 0.0\nhorizon: 3", "horizon: Extra inputs"),
        ("horizon_years: 5", "horizon_years: 0", "horizon_years: Input should be greater"),
    ],
)
def test_a_bad_budget_document_is_refused_naming_the_key(
    client: TestClient, replace: str, by: str, named: str
) -> None:
    from permedhub.web.tools.hecon_budget import EXAMPLE_DOCUMENT

    assert replace in EXAMPLE_DOCUMENT
    response = _post_budget(client, EXAMPLE_DOCUMENT.replace(replace, by, 1))
    assert response.status_code == 422
    assert named in problem(response.text)


def test_too_many_evppi_sets_are_refused(client: TestClient) -> None:
    text = psa_frame(60).to_csv(index=False)
    sets = "; ".join(["p_response"] * 11)
    response = _post_csv(client, "/tools/hecon/psa", "psa_file", text, parameters=sets)
    assert response.status_code == 422
    assert problem(response.text) == "parameters: 11 parameter sets; at most 10 per request"


def test_results_download_as_json_like_the_cli(client: TestClient) -> None:
    response = _post_model(client, example="briggs_hiv", output="json")
    assert response.status_code == 200
    payload = response.json()
    expected = run_analysis(load_model(example_models()["briggs_hiv"])).icers
    assert [row["strategy"] for row in payload["icers"]] == list(expected["strategy"])
    assert payload["icers"][1]["icer"] == pytest.approx(expected["icer"].iloc[1])


def test_a_tornado_diagram_shows_the_library_one_way_analysis(client: TestClient) -> None:
    from permedhub.hecon import dsa
    from permedhub.hecon.markov import MarkovModel

    response = _post_model(
        client, example="briggs_hiv", wtp="10000", ranges="rr=0.365:0.71, c_lam=1500:2500"
    )
    assert response.status_code == 200, response.text
    rows, base = dsa.tornado(
        MarkovModel(load_model(example_models()["briggs_hiv"])),
        {"rr": (0.365, 0.71), "c_lam": (1500.0, 2500.0)},
        "combination",
        "monotherapy",
        10_000,
    )
    shown = table_rows(response.text, "One-way sensitivity: incremental NMB of combination")
    assert [row[0] for row in shown] == list(rows["parameter"]) == ["rr", "c_lam"]
    assert [row[1] for row in shown] == [_money(v) for v in rows["low"]]
    assert f"<dd>{base:,.2f}</dd>" in response.text
    assert "tornado" in figures(response.text)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"ranges": "rr"}, "ranges: 'rr': expected name=low:high"),
        ({"ranges": "zz=1:2"}, "unknown parameters ['zz']"),
        ({"ranges": "rr=0.4:0.7", "intervention": "placebo"}, "unknown strategy 'placebo'"),
    ],
)
def test_bad_tornado_input_is_named(client: TestClient, fields: dict[str, str], named: str) -> None:
    response = _post_model(client, example="briggs_hiv", **fields)
    assert response.status_code == 422
    assert named in problem(response.text)


def test_evsi_of_a_binary_study_is_the_librarys(client: TestClient) -> None:
    frame = psa_frame()
    response = _post_csv(
        client, "/tools/hecon/psa", "psa_file", frame.to_csv(index=False), wtp="20000",
        evsi_study="binary", evsi_parameters="p_response", evsi_sizes="20, 200", seed="3",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    expected = voi.evsi(
        cea.psa_from_wide_frame(frame), frame[["p_response"]],
        voi.study_from_name("binary", ["p_response"]), [20, 200], wtp=[20_000], seed=3,
    )  # fmt: skip
    rows = table_rows(response.text, "EVSI per person at 20,000: binary study of p_response")
    assert [row[2] for row in rows] == [_money(v) for v in expected["evsi"]]
    # More data is worth more, and never more than perfect information.
    assert expected["evsi"].iloc[0] <= expected["evsi"].iloc[1] <= expected["evpi"].iloc[1]
    assert "evsi" in figures(response.text)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"evsi_study": "binary", "evsi_parameters": "p_response", "evsi_sizes": "0"},
         "evsi_sizes: expected 1 to 20 whole numbers"),
        ({"evsi_study": "binary", "evsi_parameters": "p_respnse"},
         "evsi_parameters: unknown parameter column(s) ['p_respnse']"),
        ({"evsi_study": "trial_binary", "evsi_parameters": "p_response"},
         "informs 2 parameter(s)"),
    ],
)  # fmt: skip
def test_bad_evsi_input_is_named(client: TestClient, fields: dict[str, str], named: str) -> None:
    text = psa_frame(80).to_csv(index=False)
    response = _post_csv(client, "/tools/hecon/psa", "psa_file", text, **fields)
    assert response.status_code == 422
    assert named in problem(response.text)


def test_an_uploaded_model_cannot_read_files_on_the_server(client: TestClient) -> None:
    text = example_models()["briggs_hiv"].read_text(encoding="utf-8")
    leaking = text.replace(
        "  c_azt: 2278",
        "  c_azt: 2278\n  secret: {file: /etc/passwd, key: root, column: x, method: step}",
        1,
    )
    assert leaking != text
    files = {"model_file": ("leak.yaml", leaking.encode(), "text/yaml")}
    response = _post_model(client, files=files)
    assert response.status_code == 422
    assert "parameter(s) ['secret'] read a table from a file" in problem(response.text)


def test_the_migraine_decision_tree_runs_like_the_library(client: TestClient) -> None:
    """Evans et al. (1997) migraine tree, as in Briggs, Claxton & Sculpher (2006), Box 2.3."""
    from permedhub.hecon.tree_spec import load_tree_model

    response = _post_model(client, example="migraine_tree", psa_draws="200", seed="2")
    assert response.status_code == 200, response.text
    expected = run_analysis(load_tree_model(example_models()["migraine_tree"]), 200, 2)
    rows = table_rows(response.text, "Incremental analysis (ND")
    assert [row[0] for row in rows] == list(expected.icers["strategy"])
    assert [row[1] for row in rows] == [_money(c) for c in expected.icers["cost"]]
    assert "<dd>decision tree</dd>" in response.text
    assert {"ce-plane", "ceac", "ceaf", "evpi"} <= set(figures(response.text))
    tornado = _post_model(client, example="migraine_tree", ranges="p_x=0.1:0.2")
    assert tornado.status_code == 422
    assert "work on Markov cohort models only" in problem(tornado.text)


# --------------------------------------------------------------------------- payment strategies


def _post_payment(client: TestClient, **fields: str):  # type: ignore[no-untyped-def]
    from permedhub.web.tools.hecon_payment import EXAMPLE_VALUES

    data = {
        "csrf_token": csrf_token(client, "/tools/hecon/payment"),
        **EXAMPLE_VALUES,
        **fields,
    }
    return client.post("/tools/hecon/payment", data=data, files=NO_FILE)


def test_a_refund_scheme_shows_the_librarys_payment_profiles(client: TestClient) -> None:
    from permedhub.hecon import payment

    response = _post_payment(client, psa_draws="200", seed="5")
    assert response.status_code == 200, response.text
    spec = load_model(example_models()["personalised_medicine"])
    refund = payment.with_outcome_refund(
        spec, "test_and_treat", "assess_targeted", "no_response", "price_targeted", "drug", 1
    )
    before = payment.payment_profile(spec, "test_and_treat", "drug", 200, 5)
    after = payment.payment_profile(refund, "test_and_treat", "drug", 200, 5)
    rows = table_rows(response.text, "Payer's payments per patient")
    assert rows[0][1:3] == [_money(before.expected_cost), _money(before.sd)]
    assert rows[1][1:3] == [_money(after.expected_cost), _money(after.sd)]
    assert after.expected_cost < before.expected_cost  # refunds lower the expected payment
    assert "cashflows" in figures(response.text)


def test_unconditional_instalments_cost_their_present_value(client: TestClient) -> None:
    # Three instalments of 10,000 at the ends of cycles 1-3, discounted at 3.5% a year by
    # cycle index (the example's cycle_end convention): 10,000 x (1.035^-1 + 1.035^-2 +
    # 1.035^-3) = 28,016.37 for every draw.
    response = _post_payment(client, scheme="instalments", amount="10000", n_cycles="3")
    assert response.status_code == 200, response.text
    rows = table_rows(response.text, "Payer's payments per patient")
    assert rows[1][:3] == ["instalments", "28,016.37", "0.00"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"to_state": "progressed"}, "no transition assess_targeted->progressed"),
        ({"strategy": "placebo"}, "unknown strategy 'placebo'"),
        ({"to_state": ""}, "to_state: the refund scheme needs the flow's states"),
        ({"example": "migraine_tree"}, "payment schemes work on Markov cohort models only"),
        ({"psa_draws": "999999"}, "psa_draws:"),
    ],
)
def test_a_bad_payment_scheme_is_named(
    client: TestClient, fields: dict[str, str], named: str
) -> None:
    response = _post_payment(client, **fields)
    assert response.status_code == 422
    assert named in problem(response.text)


def test_names_from_an_upload_are_escaped_in_tables_and_charts(client: TestClient) -> None:
    script = "<script>alert(1)</script>"
    text = example_models()["briggs_thr"].read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("name:")
    hostile = "\n".join([f"name: '{script}'", *lines[1:]]).replace(
        "  standard:", "  'std<img src=x>':", 1
    )
    assert "std<img" in hostile
    files = {"model_file": ("x.yaml", hostile.encode(), "text/yaml")}
    response = _post_model(client, files=files, psa_draws="20", seed="1")
    assert response.status_code == 200, response.text
    assert script not in response.text and "<img src=x>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert any(t.get("name") == "std<img src=x>" for t in figures(response.text)["ceac"]["data"])
