"""`permedhub federation synth` and the operator's `permedhub node pending|approve|audit`."""

from __future__ import annotations

import json
from pathlib import Path

from federation_support import Region, make_node
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.federation.synthetic import generate, region_spec

COHORT = json.dumps({"name": "T2DM", "reference_date": "2024-01-01",
                     "inclusion": [{"domain": "condition", "concept_ids": [201826]}]})  # fmt: skip


def test_synth_writes_a_labelled_region_and_prints_the_planted_counts(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'west.duckdb'}"
    done = CliRunner().invoke(app, ["federation", "synth", "--data", url, "--region", "west",
                                    "--persons", "1500", "--seed", "4", "--json"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == generate(region_spec("west", 1500, 4)).planted
    from permedhub.federation.store import Store

    store = Store(url)
    assert (
        store.source_label().startswith("SYNTHETIC") and store.person_index().person_id.size == 1500
    )
    store.close()


def test_synth_refuses_a_database_that_already_holds_the_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite'}"
    runner = CliRunner()
    arguments = ["federation", "synth", "--data", url, "--region", "x", "--persons", "50"]
    assert runner.invoke(app, arguments).exit_code == 0
    again = runner.invoke(app, arguments)
    assert again.exit_code == 2 and "already holds table(s)" in again.stderr


def test_the_operator_lists_approves_and_audits(regions: dict[str, Region], tmp_path: Path) -> None:
    node = make_node(regions["north"], tmp_path, require_approval=True)
    pending = node.submit("alice", COHORT)
    state = ["--state", str(tmp_path)]
    runner = CliRunner()
    listed = runner.invoke(app, ["node", "pending", *state, "--json"])
    assert [(q["id"], q["user"], q["cohort"]["name"]) for q in json.loads(listed.stdout)] == [
        (pending["query_id"], "alice", "T2DM")
    ]
    approved = runner.invoke(app, ["node", "approve", pending["query_id"], *state,
                                   "--operator", "olga"])  # fmt: skip
    assert approved.exit_code == 0, approved.output
    assert node.submit("alice", COHORT)["status"] == "answered"
    again = runner.invoke(app, ["node", "approve", pending["query_id"], *state])
    assert again.exit_code == 2 and "expected a pending query" in again.stderr
    audit = json.loads(runner.invoke(app, ["node", "audit", *state, "--json"]).stdout)
    assert [e["event"] for e in audit] == ["awaiting approval", "approved", "answered"]
    assert audit[1]["detail"] == {"operator": "olga"}
    node.close()


def test_a_node_over_a_database_without_omop_tables_does_not_start(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.yaml"
    credentials.write_text(f"users: {{alice: {{secret: {'s' * 40}}}}}\n", encoding="utf-8")
    done = CliRunner().invoke(app, [
        "node", "serve", "--data", f"sqlite:///{tmp_path / 'empty.sqlite'}",
        "--credentials", str(credentials), "--state", str(tmp_path / "state")])  # fmt: skip
    assert done.exit_code == 2
    assert "expected an OMOP CDM database" in done.stderr
