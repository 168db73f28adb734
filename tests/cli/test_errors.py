"""Every command reports a problem the same way: `error: MESSAGE` on stderr, exit code 2, and
brackets in the message are text (a file name or a list), never console markup."""

from __future__ import annotations

from typer.testing import CliRunner

from permedhub.cli.main import app


def test_a_federation_error_reads_as_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cohort = tmp_path / "cohort [draft].json"
    cohort.write_text("{not json", encoding="utf-8")
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text("nodes: []\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["federation", "query", str(cohort), "--nodes", str(nodes)])
    assert result.exit_code == 2
    assert "[red]" not in result.output and "error:" in result.output
    assert "[draft]" in result.output


def test_a_trial_design_error_keeps_its_brackets() -> None:
    result = CliRunner().invoke(
        app, ["trials", "sample-size", "--endpoint", "binary", "--p-control", "0.3"]
    )
    assert result.exit_code == 2
    assert "error: --p-treatment is required for the binary endpoint" in result.output
