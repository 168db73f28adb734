"""The family seed: ISO countries and regions, then the ICPerMed family from the package's YAML.

The YAML files go through `loading.load`, so the seed is validated by the same schemas as any
import and every seeded record has its audit entry ("seed").
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, delete, insert

from permedhub.graph import models, revision
from permedhub.graph.geography import REGIONS, country_rows, region_members
from permedhub.graph.loading import LoadReport, load
from permedhub.graph.models import table_of

SEED_FILES = (
    "taxonomy.yaml",
    "organisations.yaml",
    "initiatives.yaml",
    "funders.yaml",
    "csa-partners.yaml",
    "icpermed-members.yaml",
    "projects-jtc2018-2019.yaml",
    "projects-jtc2020-2022.yaml",
    "relations.yaml",
)


def seed_files() -> list[Path]:
    folder = resources.files("permedhub.graph") / "seed"
    return [Path(str(folder / name)) for name in SEED_FILES]


def load_geography(engine: Engine) -> None:
    """(Re)write countries, subdivisions, regions and memberships from the classifications."""
    with engine.begin() as connection:
        connection.execute(delete(table_of(models.RegionMembership)))
        connection.execute(delete(table_of(models.Region)))
        existing = set(
            connection.execute(
                table_of(models.Country).select().with_only_columns(models.Country.code)
            ).scalars()
        )
        rows = [r for r in country_rows() if r["code"] not in existing]
        # Countries before subdivisions: the parent must exist first.
        rows.sort(key=lambda r: r["parent_code"] is not None)
        if rows:
            connection.execute(insert(table_of(models.Country)), rows)
        connection.execute(
            insert(table_of(models.Region)),
            [{"id": r.id, "name": r.name, "rule": r.rule} for r in REGIONS],
        )
        members = region_members()
        connection.execute(
            insert(table_of(models.RegionMembership)),
            [
                {"region_id": rid, "country_code": code}
                for rid, codes in members.items()
                for code in codes
            ],
        )
        revision.bump(connection)


def seed(engine: Engine) -> LoadReport:
    """Geography plus the family; safe to run again (upserts by stable id)."""
    load_geography(engine)
    return load(engine, seed_files(), actor="seed")
