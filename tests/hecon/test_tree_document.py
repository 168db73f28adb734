"""Decision-tree model documents (YAML) and `permedhub hecon run` on them."""

from __future__ import annotations

import json

import pytest
from hecon_paths import EXAMPLES
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.hecon.errors import HeconError
from permedhub.hecon.tree_spec import TreeModel, load_tree_model

runner = CliRunner()


def test_migraine_document_reproduces_evans_1997() -> None:
    """Evans et al. 1997 / Briggs et al. 2006 Box 2.3: expected cost CAD 22.06 (sumatriptan);
    ICER CAD 29,366 per QALY (the published inputs give 29,363)."""
    model = TreeModel(load_tree_model(EXAMPLES / "migraine_tree.yaml"))
    r = model.evaluate().set_index("strategy")
    assert round(r.loc["sumatriptan", "cost"], 2) == 22.06
    icer = (r.loc["sumatriptan", "cost"] - r.loc["caffeine", "cost"]) / (
        r.loc["sumatriptan", "effect"] - r.loc["caffeine", "effect"]
    )
    assert icer == pytest.approx(29_366, abs=10)
    a = model.evaluate(300, seed=4)
    assert a.equals(model.evaluate(300, seed=4))
    assert a.cost.std() > 0


def test_tree_document_errors_name_the_node() -> None:
    doc = {
        "name": "bad",
        "tree": {
            "decision": "d",
            "options": [
                {
                    "label": "a",
                    "node": {
                        "chance": "c",
                        "branches": [
                            {"probability": 0.7, "node": {"terminal": "x"}},
                            {"probability": 0.7, "node": {"terminal": "y"}},
                        ],
                    },
                },
            ],
        },
    }
    with pytest.raises(HeconError, match=r"chance node 'c'.*sum to 1\.4"):
        TreeModel(load_tree_model(doc)).evaluate()
    with pytest.raises(HeconError, match="root of the tree must be a decision"):
        load_tree_model({"name": "x", "tree": {"terminal": "t"}})
    with pytest.raises(HeconError, match="exactly one of terminal/chance/decision"):
        load_tree_model(
            {
                "name": "x",
                "tree": {"decision": "d", "options": [{"node": {"terminal": "t", "chance": "c"}}]},
            }
        )


def test_cli_runs_tree_documents() -> None:
    result = runner.invoke(
        app, ["hecon", "run", "example:migraine_tree", "--psa", "200", "--seed", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["type"] == "decision_tree"
    assert {row["strategy"] for row in payload["icers"]} == {"sumatriptan", "caffeine"}
    listing = runner.invoke(app, ["hecon", "examples"])
    assert listing.exit_code == 0 and "migraine_tree" in listing.stdout
