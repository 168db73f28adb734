"""Reproducibility contract of the chunked Monte-Carlo runner (permedhub.trials.rng/engines)."""

from __future__ import annotations

import numpy as np
import pytest

from permedhub.trials.engines.runner import run_simulation
from permedhub.trials.errors import TrialInputError
from permedhub.trials.rng import BlockPlan, block_generator, block_seed_sequence


def noisy_trial(rng: np.random.Generator, n_trials: int) -> dict[str, np.ndarray]:
    """A toy simulator: a z-statistic per trial and whether it crosses 1.96."""
    z = rng.normal(size=n_trials) + 0.5
    return {"z": z, "reject": (z > 1.96).astype(float)}


def test_block_streams_are_the_spawned_children_of_the_seed() -> None:
    children = np.random.SeedSequence(123).spawn(3)
    for index, child in enumerate(children):
        assert block_seed_sequence(123, index).generate_state(4).tolist() == (
            child.generate_state(4).tolist()
        )


def test_results_are_bit_identical_for_any_chunk_size_and_worker_count() -> None:
    reference = run_simulation(noisy_trial, 10_007, seed=42, block_size=1000, blocks_per_chunk=1)
    for blocks_per_chunk, workers in [(3, 1), (11, 1), (2, 2), (5, 2)]:
        other = run_simulation(
            noisy_trial,
            10_007,
            seed=42,
            block_size=1000,
            blocks_per_chunk=blocks_per_chunk,
            workers=workers,
        )
        for name in ("z", "reject"):
            assert other[name].mean == reference[name].mean  # exact, not approximate
            assert other[name].se == reference[name].se


def test_different_seeds_give_different_streams_and_se_matches_binomial_formula() -> None:
    a = run_simulation(noisy_trial, 20_000, seed=1)
    b = run_simulation(noisy_trial, 20_000, seed=2)
    assert a["z"].mean != b["z"].mean
    p = a["reject"].mean
    assert a["reject"].se == pytest.approx(np.sqrt(p * (1 - p) / 20_000), rel=1e-3)
    # P(N(0.5, 1) > 1.96) = 1 - Phi(1.46) = 0.0721
    assert abs(p - 0.07215) < 4 * a["reject"].se


def test_last_block_is_short_and_chunks_hold_whole_blocks() -> None:
    plan = BlockPlan(n_sim=25, block_size=10)
    assert plan.n_blocks == 3
    assert [plan.block_trials(b) for b in range(3)] == [10, 10, 5]
    assert plan.chunks(2) == [range(0, 2), range(2, 3)]
    assert block_generator(5, 0).random() == block_generator(5, 0).random()


@pytest.mark.parametrize("n_sim", [0, -5, 100_000_001])
def test_n_sim_outside_one_to_1e8_is_rejected_by_name(n_sim: int) -> None:
    with pytest.raises(TrialInputError, match="n_sim"):
        run_simulation(noisy_trial, n_sim, seed=1)


def test_negative_seed_is_rejected_by_name() -> None:
    with pytest.raises(TrialInputError, match="seed"):
        run_simulation(noisy_trial, 10, seed=-1)
