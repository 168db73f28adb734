"""Shared helpers for the hecon model tests."""

from __future__ import annotations

import pytest
from hecon_paths import EXAMPLES

from permedhub.hecon.spec import ModelSpec, load_model


@pytest.fixture
def hiv_model() -> ModelSpec:
    return load_model(EXAMPLES / "briggs_hiv.yaml")


@pytest.fixture
def thr_model() -> ModelSpec:
    return load_model(EXAMPLES / "briggs_thr.yaml")
