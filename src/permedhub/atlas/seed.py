"""The atlas seed: sourced mapping records from the package's YAML, through `loading.load`.

It names graph organisations and topics by id, so the family seed (graph.seed.seed) must be in
the database first.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy import Engine

from permedhub.atlas.loading import load
from permedhub.graph.loading import LoadReport


def seed_files() -> list[Path]:
    """Every YAML file of the package's seed folder, in name order."""
    folder = Path(str(resources.files("permedhub.atlas") / "seed"))
    return sorted(folder.glob("*.yaml"))


def seed(engine: Engine) -> LoadReport:
    """Load the atlas seed; safe to run again (upserts by stable id)."""
    return load(engine, seed_files(), actor="seed")
