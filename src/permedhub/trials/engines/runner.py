"""Run a block simulator over many trials and summarise it with Monte-Carlo standard errors.

A *block simulator* is any picklable callable `(rng, n_trials) -> {metric: array (n_trials,)}`
giving one number per simulated trial and metric (an indicator such as "H_S rejected", or a
count such as the total sample size). The runner reduces every block to its sum and sum of
squares per metric, combines the blocks in block order (so the floating-point sums do not depend
on the chunking either) and reports mean and Monte-Carlo standard error sqrt(var / n_sim).
"""

from __future__ import annotations

import atexit
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from permedhub.trials.errors import TrialInputError, check_int_range
from permedhub.trials.rng import BLOCK_SIZE, BlockPlan, block_generator, check_seed

ProgressCallback = Callable[[int, int], None]
"""Called as `progress(trials_done, n_sim)` after every finished chunk."""


class BlockSimulator(Protocol):
    def __call__(self, rng: np.random.Generator, n_trials: int) -> Mapping[str, np.ndarray]: ...


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A simulated quantity: the mean over trials and its Monte-Carlo standard error."""

    name: str
    mean: float
    se: float


@dataclass(frozen=True)
class BlockMoments:
    """Per-metric sum and sum of squares over the trials of one block."""

    n_trials: int
    names: tuple[str, ...]
    sums: np.ndarray
    sums_of_squares: np.ndarray


@dataclass(frozen=True)
class SimulationSummary:
    """Estimates of every metric from `n_sim` simulated trials with seed `seed`."""

    n_sim: int
    seed: int
    block_size: int
    estimates: dict[str, MonteCarloEstimate] = field(default_factory=dict)

    def __getitem__(self, name: str) -> MonteCarloEstimate:
        return self.estimates[name]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"metric": e.name, "estimate": e.mean, "mc_se": e.se} for e in self.estimates.values()]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_sim": self.n_sim,
            "seed": self.seed,
            "block_size": self.block_size,
            "estimates": {
                e.name: {"estimate": e.mean, "mc_se": e.se} for e in self.estimates.values()
            },
        }


def _block_moments(outcomes: Mapping[str, np.ndarray], n_trials: int) -> BlockMoments:
    names = tuple(outcomes)
    values = np.stack([np.asarray(outcomes[name], dtype=float) for name in names])
    if values.shape != (len(names), n_trials):
        raise ValueError(f"block simulator returned shape {values.shape}, expected per-trial")
    if not np.all(np.isfinite(values)):
        bad = [name for name, row in zip(names, values, strict=True) if not np.isfinite(row).all()]
        raise FloatingPointError(f"simulation produced non-finite values for {bad}")
    return BlockMoments(n_trials, names, values.sum(axis=1), np.square(values).sum(axis=1))


def run_blocks(
    simulator: BlockSimulator, seed: int, plan: BlockPlan, blocks: Sequence[int]
) -> list[BlockMoments]:
    """Simulate the given blocks, each from its own generator (one chunk of work)."""
    moments = []
    for block_index in blocks:
        n_trials = plan.block_trials(block_index)
        outcomes = simulator(block_generator(seed, block_index), n_trials)
        moments.append(_block_moments(outcomes, n_trials))
    return moments


def _run_chunk(args: tuple[BlockSimulator, int, BlockPlan, range]) -> list[BlockMoments]:
    simulator, seed, plan, blocks = args
    return run_blocks(simulator, seed, plan, blocks)


def summarise(
    moments: Sequence[BlockMoments], n_sim: int, seed: int, block_size: int
) -> SimulationSummary:
    """Combine per-block moments (in block order) into means and Monte-Carlo SEs."""
    names = moments[0].names
    sums = np.stack([m.sums for m in moments]).sum(axis=0)
    squares = np.stack([m.sums_of_squares for m in moments]).sum(axis=0)
    means = sums / n_sim
    if n_sim > 1:
        variances = np.maximum(squares - n_sim * means**2, 0.0) / (n_sim - 1)
    else:
        variances = np.zeros_like(means)
    ses = np.sqrt(variances / n_sim)
    estimates = {
        name: MonteCarloEstimate(name, float(mean), float(se))
        for name, mean, se in zip(names, means, ses, strict=True)
    }
    return SimulationSummary(n_sim=n_sim, seed=seed, block_size=block_size, estimates=estimates)


def run_simulation(
    simulator: BlockSimulator,
    n_sim: int,
    seed: int,
    *,
    blocks_per_chunk: int = 4,
    workers: int = 1,
    block_size: int = BLOCK_SIZE,
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
) -> SimulationSummary:
    """Simulate `n_sim` trials and return every metric's mean with its Monte-Carlo SE.

    `workers > 1` runs chunks in a process pool; `scheduler` ("local" or a Dask scheduler
    address such as "tcp://host:8786") runs them on Dask. Both give the same bits as a serial
    run, because every block has its own random stream and blocks are combined in order.
    """
    plan = BlockPlan(n_sim=n_sim, block_size=block_size)
    check_seed(seed)
    workers = check_int_range("workers", workers, 1, 1024)
    chunks = plan.chunks(blocks_per_chunk)
    tasks = [(simulator, seed, plan, chunk) for chunk in chunks]
    done = 0
    results: list[list[BlockMoments]] = []
    if scheduler is not None:
        results = _run_on_dask(tasks, scheduler, workers)
        done = n_sim
        if progress is not None:
            progress(done, n_sim)
    elif workers == 1 or len(tasks) == 1:
        for task in tasks:
            results.append(_run_chunk(task))
            done += sum(plan.block_trials(b) for b in task[3])
            if progress is not None:
                progress(done, n_sim)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for task, chunk_moments in zip(tasks, pool.map(_run_chunk, tasks), strict=True):
                results.append(chunk_moments)
                done += sum(plan.block_trials(b) for b in task[3])
                if progress is not None:
                    progress(done, n_sim)
    moments = [m for chunk_moments in results for m in chunk_moments]
    return summarise(moments, n_sim, seed, block_size)


_LOCAL_CLIENTS: dict[int, Any] = {}


def _local_dask_client(workers: int) -> Any:
    """One local Dask cluster per process and worker count, reused by later runs (starting a
    cluster takes seconds) and closed when the interpreter exits."""
    if workers not in _LOCAL_CLIENTS:
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
        atexit.register(cluster.close)
        atexit.register(client.close)
        _LOCAL_CLIENTS[workers] = client
    return _LOCAL_CLIENTS[workers]


def _run_on_dask(
    tasks: list[tuple[BlockSimulator, int, BlockPlan, range]], scheduler: str, workers: int
) -> list[list[BlockMoments]]:
    try:
        from dask.distributed import Client
    except ImportError as error:  # pragma: no cover - depends on the optional extra
        raise TrialInputError(
            "scheduler", scheduler, "Dask installed: pip install 'permedhub[dask]'"
        ) from error
    if scheduler == "local":
        client = _local_dask_client(workers)
        return list(client.gather(client.map(_run_chunk, tasks, pure=False)))
    with Client(scheduler) as remote:
        return list(remote.gather(remote.map(_run_chunk, tasks, pure=False)))


def proportion_se(p: float, n: int) -> float:
    """Binomial Monte-Carlo SE of an estimated probability `p` from `n` trials."""
    return math.sqrt(max(p * (1.0 - p), 0.0) / n)
