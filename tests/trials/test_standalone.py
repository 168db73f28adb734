"""`permedhub.trials`'s package namespace re-exports the public API of every part (that it
imports nothing else from `permedhub` is tested with the other layering rules, in
tests/test_layering.py)."""

from __future__ import annotations

import permedhub.trials as trials


def test_public_api_is_exported() -> None:
    for name in trials.__all__:
        assert hasattr(trials, name), name
    design = trials.design_gsd(2, "pocock", 0.05, 0.1, sided=2)
    assert round(float(design.efficacy_bounds[0]), 3) == 2.178  # J&T Table 2.1
