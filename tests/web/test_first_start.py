"""`make run` on a fresh machine: the first start of the portal migrates an empty database and
seeds the family and every service's sourced seed, so each page opens on real records."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from permedhub.atlas.models import MappingRecord
from permedhub.db import make_engine
from permedhub.graph.models import Organisation
from permedhub.helpdesk.models import Body
from permedhub.regions.models import RegionEvent
from permedhub.web.app import create_app


def test_the_first_start_seeds_the_family_and_the_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERMEDHUB_SECRET_KEY", "first-start")
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    app = create_app(engine)
    with Session(engine) as session:
        for model in (Organisation, Body, MappingRecord, RegionEvent):
            assert session.scalar(select(func.count()).select_from(model)), model.__name__
    with TestClient(app, base_url="https://testserver") as client:
        answer = client.get("/helpdesk", params={"q": "Quem aprova ensaios clínicos no Brasil?"})
        assert answer.status_code == 200 and "ANVISA" in answer.text
    engine.dispose()
