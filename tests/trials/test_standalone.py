"""`permedhub.trials` is a standalone library (DESIGN.md: it imports nothing else from
`permedhub`), and its package namespace re-exports the public API of every part."""

from __future__ import annotations

import ast
from pathlib import Path

import permedhub.trials as trials

PACKAGE = Path(trials.__file__).resolve().parent


def test_trials_imports_only_itself_from_permedhub() -> None:
    offenders = []
    for source in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{source.name}: {name}"
                for name in names
                if name.startswith("permedhub") and not name.startswith("permedhub.trials")
            ]
    assert offenders == []


def test_public_api_is_exported() -> None:
    for name in trials.__all__:
        assert hasattr(trials, name), name
    design = trials.design_gsd(2, "pocock", 0.05, 0.1, sided=2)
    assert round(float(design.efficacy_bounds[0]), 3) == 2.178  # J&T Table 2.1
