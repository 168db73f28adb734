"""Example design documents shipped with the package (`permedhub trials simulate` input)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def example_names() -> list[str]:
    """Names (without .yaml) of the shipped example designs."""
    folder = resources.files(__name__)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def example_path(name: str) -> Path:
    """Path of a shipped example design."""
    from permedhub.trials.errors import TrialInputError

    if name not in example_names():
        raise TrialInputError("example", name, f"one of {', '.join(example_names())}")
    return Path(str(resources.files(__name__) / f"{name}.yaml"))
