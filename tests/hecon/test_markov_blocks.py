"""The Markov engine's cycle kernel takes the draws of a chunk a tile at a time
(markov.KERNEL_TILE) and the engine evaluates the time-varying state values of a block of draws
straight into stacks kept for the block: results must not depend on the size of the
blocks, checks must name the first failure wherever its block is, and a stack kept for
the strategies of a block must survive a strategy with its own values in between."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hecon_test_models import THREE_STATE, gompertz_table, three_state, user_style_tunnel

from permedhub.hecon import markov
from permedhub.hecon.errors import HeconError, ProbabilityError
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model

ONE_DRAW = 1  # draws: every tile is one draw
ALL_DRAWS = 10**12  # one tile for all draws


def _summary(doc: Any, **run: Any) -> Any:
    result = MarkovModel(load_model(doc)).run(**run)
    return result.summary.set_index(["strategy", "draw"]).sort_index()


def _explicit_rows(doc: dict) -> dict:
    """`doc` with stage1's row written out (no complement) so that it must sum to 1."""
    doc["transitions"]["stage1"] = {
        "stage1": "1 - pd1 - (1 - pd1) * p1 * hr",
        "dead": "pd1",
        "stage2": "(1 - pd1) * p1 * hr",
    }
    return doc


@pytest.mark.parametrize("explicit", [False, True])
def test_results_do_not_depend_on_the_block_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, explicit: bool
) -> None:
    """Life-table mortality, a tunnel, complements (and a row without one): one-cycle
    blocks give bit for bit the results of a single block."""
    doc = user_style_tunnel(gompertz_table(tmp_path / "table.csv"))
    doc = _explicit_rows(doc) if explicit else doc
    monkeypatch.setattr(markov, "KERNEL_TILE", ONE_DRAW)
    blocked = _summary(doc, n_draws=40, seed=5, chunk_size=16)
    monkeypatch.setattr(markov, "KERNEL_TILE", ALL_DRAWS)
    whole = _summary(doc, n_draws=40, seed=5, chunk_size=16)
    assert blocked.shape == whole.shape
    assert np.array_equal(blocked.to_numpy(), whole.to_numpy())


@pytest.mark.parametrize("block", [ONE_DRAW, ALL_DRAWS])
def test_a_complement_gone_negative_in_a_late_block_names_its_cycle(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """p_hs grows with the cycle; healthy's complement falls below 0 from cycle 10 on."""
    monkeypatch.setattr(markov, "KERNEL_TILE", block)
    doc = three_state(parameters={**THREE_STATE["parameters"], "p_hs": "0.1 * model_time"})
    with pytest.raises(ProbabilityError) as err:
        _summary(doc)
    msg = str(err.value)
    assert "healthy->healthy" in msg and "in cycle 10" in msg and "complement" in msg


@pytest.mark.parametrize("block", [ONE_DRAW, ALL_DRAWS])
def test_a_row_off_one_in_a_late_block_names_its_cycle(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(markov, "KERNEL_TILE", block)
    doc = three_state(
        transitions={
            "healthy": {
                "healthy": "0.88 if model_time < 8 else 0.8",
                "sick": "p_hs",
                "dead": "p_hd",
            },
            "sick": {"sick": "C", "dead": "p_sd"},
        }
    )
    with pytest.raises(ProbabilityError, match=r"from state 'healthy' sum to 0\.92 in cycle 8;"):
        _summary(doc)


def test_a_value_below_zero_within_the_tolerance_passes_in_every_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From cycle 6 on p_hd is -1e-12 (within the tolerance): the rows are then checked in
    detail, once, and pass; later blocks are still filled (same results as one block)."""
    doc = three_state(
        parameters={**THREE_STATE["parameters"], "p_hd": "0.02 if model_time < 6 else -1e-12"}
    )
    monkeypatch.setattr(markov, "KERNEL_TILE", ONE_DRAW)
    blocked = _summary(doc)
    monkeypatch.setattr(markov, "KERNEL_TILE", ALL_DRAWS)
    assert np.array_equal(blocked.to_numpy(), _summary(doc).to_numpy())


def test_a_kept_stack_survives_a_strategy_with_its_own_state_values(tmp_path: Path) -> None:
    """'usual' and 'drug_b' share their time-varying costs, whose stack is kept for the
    block; 'own' in between has its own (parameters of the model, so kept too): drug_b's
    results are those of a run without 'own'."""
    doc = user_style_tunnel(gompertz_table(tmp_path / "table.csv"))
    stages = [s["name"] for s in doc["states"] if not s.get("dead")]
    for i, _ in enumerate(stages, start=1):
        doc["parameters"][f"oc{i}"] = f"2 * c{i} * (1 + growth) ** (model_time - 1)"
    own = {"state_costs": {"medical": {s: f"oc{i}" for i, s in enumerate(stages, start=1)}}}
    with_own = dict(doc, strategies={**doc["strategies"], "own": own})
    order = ["usual", "own", "drug_a", "drug_b"]
    with_own["strategies"] = {name: with_own["strategies"][name] for name in order}
    both = _summary(with_own, n_draws=30, seed=2, chunk_size=10)
    alone = _summary(doc, n_draws=30, seed=2, chunk_size=10)
    for name in ("usual", "drug_b"):
        assert np.array_equal(both.loc[name].to_numpy(), alone.loc[name].to_numpy()), name
    assert both.loc["own", "cost"].mean() > both.loc["usual", "cost"].mean()


def test_a_bad_entry_in_a_late_block_is_reported_before_a_bad_transition_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Transition rewards and the initial state are evaluated before the cycle loop, the
    entries of later blocks in it: a model with both errors still reports the entry (what a
    check of the whole table finds first), as with one block."""
    monkeypatch.setattr(markov, "KERNEL_TILE", ONE_DRAW)
    doc = three_state(
        parameters={**THREE_STATE["parameters"], "p_hs": "0.1 * model_time"},
        transition_rewards=[{"from": "healthy", "to": "sick", "costs": {"medical": -5}}],
    )
    with pytest.raises(ProbabilityError, match=r"healthy->healthy.*in cycle 10"):
        _summary(doc)
    doc["parameters"]["p_hs"] = 0.1  # the cost alone
    with pytest.raises(HeconError, match="negative transition cost"):
        _summary(doc)
