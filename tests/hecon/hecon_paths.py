"""Where the hecon tests find the shipped examples and the shared reference data.

A module of its own, not conftest: several test folders have a conftest, and `from conftest
import ...` picks whichever was imported first.
"""

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "permedhub" / "hecon" / "examples"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "hecon"
