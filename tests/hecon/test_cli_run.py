"""`permedhub hecon run` and `examples` (CliRunner on the main app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hecon_paths import EXAMPLES
from typer.testing import CliRunner

from permedhub.cli.main import app

runner = CliRunner()


def test_run_json_reproduces_briggs_hiv() -> None:
    """Briggs et al. 2006 Ex. 2.5: ICER GBP 6,276 per life-year gained."""
    result = runner.invoke(app, ["hecon", "run", str(EXAMPLES / "briggs_hiv.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    icers = {row["strategy"]: row for row in payload["icers"]}
    assert round(icers["combination"]["icer"]) == 6_276
    assert icers["monotherapy"]["icer"] is None


def test_run_psa_is_seeded_and_writes_a_self_contained_report(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["hecon", "run", "example:personalised_medicine", "--psa", "200", "--seed", "9"]
    first = runner.invoke(app, [*args, "--json", "--out", str(out)])
    second = runner.invoke(app, [*args, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["psa"] == json.loads(second.stdout)["psa"]
    text = out.read_text()
    assert "<script src=" not in text  # Plotly inlined, no CDN
    assert "evpi" in json.loads(first.stdout)["psa"]
    for needle in (
        "sensitivity",
        "price_targeted",
        "Incremental analysis",
        "life_table",
        "perfect",
    ):
        assert needle in text


def test_run_table_output_and_examples_listing() -> None:
    result = runner.invoke(app, ["hecon", "run", "example:briggs_thr"])
    assert result.exit_code == 0, result.output
    assert "np1" in result.stdout
    listing = runner.invoke(app, ["hecon", "examples", "--json"])
    assert {"briggs_hiv", "briggs_thr", "personalised_medicine"} <= set(json.loads(listing.stdout))


def test_errors_go_to_stderr_with_nonzero_exit(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "briggs_hiv.yaml").read_text().replace("p_cd * rr_now", "1.5"))
    result = runner.invoke(app, ["hecon", "run", str(bad), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "C->D" in result.stderr and "expected a probability" in result.stderr
    missing_seed = runner.invoke(app, ["hecon", "run", "example:briggs_hiv", "--psa", "10"])
    assert missing_seed.exit_code == 2 and "--seed" in missing_seed.stderr


def test_tornado_and_threshold_commands(tmp_path: Path) -> None:
    out = tmp_path / "tornado.html"
    result = runner.invoke(
        app,
        [
            "hecon",
            "tornado",
            "example:briggs_hiv",
            "--range",
            "rr=0.365:0.71",
            "--range",
            "c_lam=1500:2500",
            "--intervention",
            "combination",
            "--comparator",
            "monotherapy",
            "--wtp",
            "10000",
            "--json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert rows[0]["parameter"] == "rr" and rows[0]["swing"] >= rows[1]["swing"]
    assert "Tornado" in out.read_text()
    result = runner.invoke(
        app,
        [
            "hecon",
            "threshold",
            "example:briggs_hiv",
            "--parameter",
            "c_lam",
            "--low",
            "0",
            "--high",
            "10000",
            "--intervention",
            "combination",
            "--comparator",
            "monotherapy",
            "--wtp",
            "6275.9556",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    # at WTP = the base-case ICER (Briggs Ex. 2.5), the break-even price is the list price
    assert json.loads(result.stdout)["threshold"] == pytest.approx(2086.5, abs=0.01)
    bad = runner.invoke(
        app,
        [
            "hecon",
            "tornado",
            "example:briggs_hiv",
            "--range",
            "rr",
            "--intervention",
            "combination",
            "--comparator",
            "monotherapy",
            "--wtp",
            "1",
        ],
    )
    assert bad.exit_code == 2 and "name=low:high" in bad.stderr


def test_payment_command_refund_and_instalments() -> None:
    base = [
        "hecon",
        "payment",
        "example:personalised_medicine",
        "--strategy",
        "test_and_treat",
        "--category",
        "drug",
        "--json",
    ]
    refund = runner.invoke(
        app,
        [
            *base,
            "--scheme",
            "refund",
            "--amount",
            "price_targeted",
            "--from",
            "assess_targeted",
            "--to",
            "no_response",
            "--until-cycle",
            "1",
        ],
    )
    assert refund.exit_code == 0, refund.output
    payload = json.loads(refund.stdout)
    assert payload["after"]["expected_cost"] < payload["before"]["expected_cost"]
    instal = runner.invoke(
        app, [*base, "--scheme", "instalments", "--amount", "3000", "--n-cycles", "5"]
    )
    assert instal.exit_code == 0, instal.output
    flows = json.loads(instal.stdout)["after"]["cashflows"]
    assert flows[0]["mean"] == 0 and flows[1]["mean"] > 0
    missing = runner.invoke(app, [*base, "--scheme", "refund", "--amount", "1"])
    assert missing.exit_code == 2 and "--from and --to" in missing.stderr


def test_run_reports_evppi_of_each_input() -> None:
    """EVPPI of every univariate input (GAM metamodel of hecon.voi): 0 <= EVPPI <= EVPI."""
    result = runner.invoke(
        app,
        [
            "hecon",
            "run",
            "example:briggs_hiv",
            "--psa",
            "400",
            "--seed",
            "2",
            "--evppi-wtp",
            "10000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["psa"]["evppi"]
    assert {r["parameters"] for r in rows} == {"rr", "dmca", "dmcb", "dmcc", "ccca", "cccb", "cccc"}
    assert all(0 <= r["evppi"] <= r["evpi"] + 1e-9 for r in rows)


def test_a_model_file_that_is_a_device_or_misspells_a_state_is_reported_truthfully(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["hecon", "run", "/dev/null"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: model file /dev/null: the file is empty (a character device, not a regular file)\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "briggs_hiv.yaml").read_text().replace("  A: {A: C,", "  Q: {A: C,"))
    result = runner.invoke(app, ["hecon", "run", str(bad), "--json"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: invalid model document: transitions.Q: unknown state 'Q' (origin of a row); "
    )
