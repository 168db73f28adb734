"""The package is a standalone library with one public namespace."""

from __future__ import annotations

import re
from pathlib import Path

import permedhub.hecon as hecon

PACKAGE = Path(hecon.__file__).resolve().parent


def test_imports_nothing_else_from_permedhub() -> None:
    offenders = [
        p.name
        for p in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(from|import)\s+permedhub\.(?!hecon\b)", p.read_text(), re.M)
    ]
    assert offenders == []


def test_public_names_resolve() -> None:
    missing = [name for name in hecon.__all__ if not hasattr(hecon, name)]
    assert missing == []
    model = hecon.MarkovModel(hecon.load_model(PACKAGE / "examples" / "briggs_hiv.yaml"))
    assert round(model.run().mean().loc["monotherapy", "cost"]) == 44_663
