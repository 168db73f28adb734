"""The helpdesk's seed: sourced public facts, from the package's YAML, through `loading.load`.

It names graph organisations (funders, regulators) by id, so the family seed
(graph.seed.seed) must be in the database first.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy import Engine

from permedhub.graph.loading import LoadReport
from permedhub.helpdesk.loading import load


def seed_files() -> list[Path]:
    """Every YAML file of the package's seed folder, in name order."""
    folder = Path(str(resources.files("permedhub.helpdesk") / "seed"))
    return sorted(folder.glob("*.yaml"))


def seed(engine: Engine) -> LoadReport:
    """Load the helpdesk seed; safe to run again (upserts by stable id)."""
    return load(engine, seed_files(), actor="seed")
