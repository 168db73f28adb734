"""The package has one public namespace (that it is a standalone library, importing nothing
else from `permedhub`, is tested in tests/test_layering.py)."""

from __future__ import annotations

from pathlib import Path

import permedhub.hecon as hecon

PACKAGE = Path(hecon.__file__).resolve().parent


def test_public_names_resolve() -> None:
    missing = [name for name in hecon.__all__ if not hasattr(hecon, name)]
    assert missing == []
    model = hecon.MarkovModel(hecon.load_model(PACKAGE / "examples" / "briggs_hiv.yaml"))
    assert round(model.run().mean().loc["monotherapy", "cost"]) == 44_663
