"""Engine invariants for random models (hypothesis): mass is conserved, life-years are
bounded by the horizon, and a higher death probability never adds life-years."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permedhub.hecon.errors import HeconError
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model


def _model(rows: list[list[float]], death: float, cycles: int) -> dict:
    names = [f"s{i}" for i in range(len(rows))]
    transitions = {}
    for i, row in enumerate(rows):
        scale = 1 - death
        entry: dict[str, float | str] = {
            names[j]: float(p * scale) for j, p in enumerate(row) if j != i
        }
        entry[names[i]] = "C"
        entry["dead"] = float(death)
        transitions[names[i]] = entry
    return {
        "name": "random",
        "settings": {
            "cycles": cycles,
            "cycle_length": 1,
            "discount_costs": 0.0,
            "discount_outcomes": 0.0,
            "discount_method": "cycle_end",
            "counting": "end",
            "effect": "ly",
        },
        "states": [{"name": n} for n in names] + [{"name": "dead", "dead": True}],
        "strategies": {"s": {}},
        "transitions": transitions,
        "initial": {names[0]: 1},
    }


row_strategy = st.integers(2, 5).flatmap(
    lambda k: st.lists(
        st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k).map(
            lambda r: list(np.asarray(r) / np.sum(r))
        ),
        min_size=k,
        max_size=k,
    )
)


@settings(max_examples=25, deadline=None)
@given(rows=row_strategy, death=st.floats(0.0, 0.5), cycles=st.integers(1, 30))
def test_mass_conservation_and_bounds(rows: list[list[float]], death: float, cycles: int) -> None:
    res = MarkovModel(load_model(_model(rows, death, cycles))).run()
    occupancy = res.trace.drop(columns=["strategy", "cycle"]).to_numpy()
    np.testing.assert_allclose(occupancy.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(occupancy >= -1e-15)
    ly = float(res.mean().loc["s", "ly"])
    assert ly <= cycles + 1e-9
    assert ly == pytest.approx(sum((1 - death) ** t for t in range(1, cycles + 1)), rel=1e-9)


def test_worker_threads_give_the_same_result_as_one(hiv_model) -> None:
    """Blocks of draws on threads are independent and collected in order: bit-identical."""
    model = MarkovModel(hiv_model)
    one = model.run(n_draws=300, seed=7, chunk_size=64, workers=1)
    three = model.run(n_draws=300, seed=7, chunk_size=64, workers=3)
    pd.testing.assert_frame_equal(one.summary, three.summary, check_exact=True)
    pd.testing.assert_frame_equal(one.trace, three.trace, check_exact=True)
    with pytest.raises(HeconError, match="workers must be >= 1, got 0"):
        model.run(n_draws=10, seed=1, workers=0)
