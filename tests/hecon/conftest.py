"""Shared helpers for the hecon model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from permedhub.hecon.spec import ModelSpec, load_model

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "permedhub" / "hecon" / "examples"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "hecon"


@pytest.fixture
def hiv_model() -> ModelSpec:
    return load_model(EXAMPLES / "briggs_hiv.yaml")


@pytest.fixture
def thr_model() -> ModelSpec:
    return load_model(EXAMPLES / "briggs_thr.yaml")
