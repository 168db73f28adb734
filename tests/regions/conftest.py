from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine


@pytest.fixture
def regions_engine(engine: Engine) -> Iterator[Engine]:
    """The seeded family database with regions/' seed (profiles, events) applied too."""
    from permedhub.regions.seed import seed

    seed(engine)
    yield engine
