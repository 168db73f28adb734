"""Optional Dask execution (`permedhub[dask]`): the same bits as a serial run."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")

from permedhub.trials.engines.enrichment_summary import SummaryStatisticEngine
from permedhub.trials.engines.runner import run_simulation
from permedhub.trials.enrichment import (
    EnrichmentDesign,
    EnrichmentSimulator,
    NormalScenario,
)


def test_dask_scheduler_address_reproduces_the_serial_run_bit_for_bit() -> None:
    """An in-process cluster (fast to start) reached through its address, as --scheduler."""
    from distributed import LocalCluster

    design = EnrichmentDesign(stage_sample_sizes=(60, 60), prevalences=(0.4, 0.6))
    scenario = NormalScenario(0.3, 0.1)
    simulator = EnrichmentSimulator(design, scenario, SummaryStatisticEngine(design, scenario))
    serial = run_simulation(simulator, 8_000, seed=11, block_size=1_000, blocks_per_chunk=3)
    with LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        on_dask = run_simulation(
            simulator, 8_000, seed=11, block_size=1_000, blocks_per_chunk=1,
            scheduler=cluster.scheduler_address,
        )  # fmt: skip
    assert on_dask.to_dict() == serial.to_dict()
