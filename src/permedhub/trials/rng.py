"""Reproducible random streams for chunked and parallel simulation.

A simulation of `n_sim` trials is cut into fixed-size BLOCKS of `BLOCK_SIZE` trials (the last
block may be shorter). Block `b` draws all of its random numbers from its own generator, seeded
by `SeedSequence(seed, spawn_key=(b,))` -- exactly the child `SeedSequence(seed).spawn(...)[b]`
would give. A chunk (the unit of work of one process or one Dask task) is a run of whole blocks,
so no random number depends on how blocks are grouped into chunks or on the number of workers:
results are bit-identical for any chunk size and any worker count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from permedhub.trials.errors import TrialInputError, check_int_range

BLOCK_SIZE = 10_000
"""Trials per random-number block. Part of the reproducibility contract: changing it changes
the streams, so it is fixed here and recorded in every report."""

MAX_N_SIM = 100_000_000
"""Largest accepted number of simulated trials (1e8)."""

MAX_SEED = 2**63 - 1


def check_seed(seed: int) -> int:
    """Return `seed` if it is a non-negative integer SeedSequence accepts."""
    return check_int_range("seed", seed, 0, MAX_SEED)


def check_n_sim(n_sim: int) -> int:
    """Return `n_sim` if it lies in [1, 1e8]."""
    return check_int_range("n_sim", n_sim, 1, MAX_N_SIM)


def block_seed_sequence(seed: int, block_index: int) -> np.random.SeedSequence:
    """The seed sequence of block `block_index`: the `block_index`-th child of `seed`."""
    if block_index < 0:
        raise TrialInputError("block_index", block_index, "an integer >= 0")
    return np.random.SeedSequence(check_seed(seed), spawn_key=(block_index,))


def block_generator(seed: int, block_index: int) -> np.random.Generator:
    """A fresh PCG64 generator for block `block_index` of a run seeded with `seed`."""
    return np.random.Generator(np.random.PCG64(block_seed_sequence(seed, block_index)))


@dataclass(frozen=True)
class BlockPlan:
    """How `n_sim` trials are cut into blocks, and blocks into chunks."""

    n_sim: int
    block_size: int = BLOCK_SIZE

    def __post_init__(self) -> None:
        check_n_sim(self.n_sim)
        check_int_range("block_size", self.block_size, 1, MAX_N_SIM)

    @property
    def n_blocks(self) -> int:
        return -(-self.n_sim // self.block_size)

    def block_trials(self, block_index: int) -> int:
        """Number of trials in block `block_index` (the last block may be short)."""
        start = block_index * self.block_size
        return min(self.block_size, self.n_sim - start)

    def chunks(self, blocks_per_chunk: int) -> list[range]:
        """Consecutive runs of whole blocks, `blocks_per_chunk` blocks each (last may be short)."""
        check_int_range("blocks_per_chunk", blocks_per_chunk, 1, MAX_N_SIM)
        return [
            range(first, min(first + blocks_per_chunk, self.n_blocks))
            for first in range(0, self.n_blocks, blocks_per_chunk)
        ]
