"""A node over PostgreSQL (a SQLAlchemy URL): the same exact members as the oracle.

Runs where PERMEDHUB_TEST_POSTGRES_URL names a server (as `.ci/run` sets it); skipped
otherwise, and failed under CI=true if the server cannot be reached, like the portal's
PostgreSQL variants."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from federation_support import Region, make_node
from oracle import expected_members
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from permedhub.federation.cohort import parse_cohort
from permedhub.federation.store import write_tables
from permedhub.federation.synthetic import generate, region_spec

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_region() -> Iterator[Region]:
    admin_url = os.environ.get("PERMEDHUB_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.skip("PERMEDHUB_TEST_POSTGRES_URL is not set: PostgreSQL variant not run")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {admin_url} cannot be reached: {exc}")
        pytest.skip(f"PostgreSQL at {admin_url} cannot be reached: {exc}")
    name = f"permedhub_fed_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        synthetic = generate(region_spec("east", 2000, seed=8))
        write_tables(url, synthetic.tables)
        yield Region("east", url, synthetic)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize(
    "definition",
    [
        {"inclusion": [{"domain": "condition", "concept_ids": [201826]},
                       {"domain": "measurement", "concept_ids": [3004410],
                        "value": {"min": 7.0}, "start": "2010-01-01"}]},
        {"sex": ["female"], "age": {"min": 40, "max": 70},
         "observation": {"from": "2018-01-01", "to": "2020-12-31"},
         "exclusion": [{"domain": "drug", "concept_ids": [1545958]}]},
    ],
)  # fmt: skip
def test_a_postgresql_node_selects_exactly_the_planted_people(
    postgres_region: Region, tmp_path: Path, definition: dict
) -> None:
    cohort = parse_cohort(json.dumps({"name": "pg", "reference_date": "2024-01-01", **definition}))
    node = make_node(postgres_region, tmp_path)
    try:
        found = set(node.index.person_id[node.members(cohort)].tolist())
    finally:
        node.close()
    assert found == expected_members(postgres_region.synthetic.tables, cohort)
