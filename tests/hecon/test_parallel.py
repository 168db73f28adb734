"""Dask PSA gives the same result as the serial run with the same seed (optional extra)."""

from __future__ import annotations

import numpy as np
import pytest

from permedhub.hecon.markov import MarkovModel

dask = pytest.importorskip("dask")


def test_dask_psa_equals_serial_psa(hiv_model) -> None:
    from permedhub.hecon.parallel import run_psa_dask

    model = MarkovModel(hiv_model)
    serial = model.run(n_draws=500, seed=21)
    chunked = run_psa_dask(model, 500, seed=21, chunk_size=128, scheduler="threads")
    cols = ["strategy", "draw", "cost", "ly", "qaly"]
    assert chunked.summary[cols].equals(serial.summary[cols])
    np.testing.assert_allclose(
        chunked.trace[["A", "B", "C", "D"]], serial.trace[["A", "B", "C", "D"]], rtol=1e-12
    )
