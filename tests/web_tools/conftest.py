"""Fixtures for the tool pages: one app per test module on a copy of the seeded database
(the tool pages never touch the database), a fresh client per test, and page helpers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from permedhub.db import make_engine
from permedhub.web.app import create_app


@pytest.fixture(scope="module")
def tools_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("tools")
    shutil.copyfile(sqlite_template, folder / "x.sqlite")
    engine = make_engine(f"sqlite:///{folder / 'x.sqlite'}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PERMEDHUB_SECRET_KEY", "tools-test-secret")
        patch.setenv("PERMEDHUB_DATA_DIR", str(folder / "data"))
        app = create_app(engine, prepare_database=False)
    yield app
    engine.dispose()


@pytest.fixture
def client(tools_app: FastAPI) -> Iterator[TestClient]:
    # https: the session cookie is Secure, so a plain-http client would never send it back.
    with TestClient(tools_app, base_url="https://testserver") as test_client:
        yield test_client
