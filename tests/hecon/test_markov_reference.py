"""The Markov engine against figures computed by the engine before the PSA speed-up of issue 17
(main at commit e9a0d69), stored in markov_reference.json: the shipped Markov examples and the
PSA benchmark's user-style model (life-table mortality, time-varying costs and utilities,
transition costs), also with 'point' discounting and with a tunnel state, deterministic and as
a 40-draw PSA. A change of the engine's arithmetic may move results by rounding only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hecon_paths import EXAMPLES
from hecon_test_models import gompertz_table, user_style, user_style_tunnel

from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model

REFERENCE = json.loads((Path(__file__).parent / "markov_reference.json").read_text("utf-8"))
COLUMNS = ["cost", "qaly", "ly", "cost_undiscounted", "qaly_undiscounted"]
RTOL = 1e-10


def _document(name: str, table: Path) -> Any:
    builders = {
        "user_style": lambda: user_style(table),
        "user_style_point": lambda: user_style(
            table, discount_method="point", counting="life_table"
        ),
        "user_style_tunnel": lambda: user_style_tunnel(table),
    }
    return builders[name]() if name in builders else str(EXAMPLES / f"{name}.yaml")


def _figures(doc: Any, draws: int | None) -> dict[str, list[float]]:
    result = MarkovModel(load_model(doc)).run(
        n_draws=draws, seed=11 if draws else None, keep_cashflows=True
    )
    mean = result.mean()
    out = {s: [float(mean.loc[s, c]) for c in COLUMNS] for s in result.strategies}
    last = result.strategies[-1]
    out["annual_costs"] = result.annual_costs(last)[:5].tolist()
    out["trace"] = result.trace[result.trace.strategy == last].iloc[-1, 2:].tolist()
    if draws:
        third = result.summary[result.summary.draw == 3].set_index("strategy")["cost"]
        out["draw3_cost"] = [float(third[s]) for s in result.strategies]
    return out


@pytest.mark.parametrize("key", [k for k in REFERENCE if k != "_about"])
def test_engine_reproduces_the_reference_figures(key: str, tmp_path: Path) -> None:
    name, draws = key.split("/")
    table = gompertz_table(tmp_path / "table.csv")
    got = _figures(_document(name, table), None if draws == "det" else int(draws))
    expected = REFERENCE[key]
    assert got.keys() == expected.keys()
    for what, values in expected.items():
        np.testing.assert_allclose(
            got[what], values, rtol=RTOL, atol=1e-13, err_msg=f"{key} {what}"
        )
