"""Read-side aggregates and indexes for a graph of a million participations: per-place
totals (`place_total`), initiative activity per country, region and in all
(`initiative_activity`), organisations by
name and by country and name, country activity by initiative. Drops the indexes
ix_participation_organisation_id, which the unique constraint's index (organisation_id,
initiative_id, role) covers, and ix_organisation_country_code, which the new (country_code,
name) index covers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PLACE_TOTALS = """
INSERT INTO place_total (place_code, participations, initiatives)
SELECT place_code, sum(organisations), count(DISTINCT initiative_id)
FROM country_activity GROUP BY place_code
"""
PLACE_ACTIVITY = """
INSERT INTO initiative_activity (scope, initiative_id, participations)
SELECT a.place_code, a.initiative_id, sum(a.organisations)
FROM country_activity a JOIN country c ON c.code = a.place_code AND c.parent_code IS NULL
GROUP BY a.place_code, a.initiative_id
ORDER BY a.place_code, a.initiative_id
"""
# Regions and all countries ('*': ISO 3166-1 codes have no parent; subdivisions would count
# twice), from the place rows, with the per-country breakdown as a JSON object.
REGION_ACTIVITY = """
INSERT INTO initiative_activity (scope, initiative_id, participations, countries)
SELECT m.region_id, a.initiative_id, sum(a.participations), {object_agg}(a.scope, a.participations)
FROM initiative_activity a JOIN region_membership m ON m.country_code = a.scope
GROUP BY m.region_id, a.initiative_id
"""
ALL_COUNTRIES_ACTIVITY = """
INSERT INTO initiative_activity (scope, initiative_id, participations, countries)
SELECT '*', a.initiative_id, sum(a.participations), {object_agg}(a.scope, a.participations)
FROM initiative_activity a JOIN country c ON c.code = a.scope
WHERE c.parent_code IS NULL
GROUP BY a.initiative_id
"""
OBJECT_AGG = {"sqlite": "json_group_object", "postgresql": "json_object_agg"}


def upgrade() -> None:
    op.create_table(
        "place_total",
        sa.Column("place_code", sa.String(length=8), nullable=False),
        sa.Column("participations", sa.Integer(), nullable=False),
        sa.Column("initiatives", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("place_code", name=op.f("pk_place_total")),
    )
    op.create_table(
        "initiative_activity",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("initiative_id", sa.String(length=120), nullable=False),
        sa.Column("participations", sa.Integer(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_initiative_activity_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scope", "initiative_id", name=op.f("pk_initiative_activity")),
    )
    with op.batch_alter_table("initiative_activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_initiative_activity_rank", ["scope", "participations"], unique=False
        )
    with op.batch_alter_table("country_activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_country_activity_initiative", ["initiative_id", "place_code"], unique=False
        )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organisation_country_name", ["country_code", "name", "id"], unique=False
        )
        batch_op.create_index("ix_organisation_name", ["name", "id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_organisation_country_code"))
    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_organisation_id"))
    op.execute(PLACE_TOTALS)
    op.execute(PLACE_ACTIVITY)
    object_agg = OBJECT_AGG[op.get_bind().dialect.name]
    op.execute(REGION_ACTIVITY.format(object_agg=object_agg))
    op.execute(ALL_COUNTRIES_ACTIVITY.format(object_agg=object_agg))


def downgrade() -> None:
    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participation_organisation_id"), ["organisation_id"], unique=False
        )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_country_code"), ["country_code"], unique=False
        )
        batch_op.drop_index("ix_organisation_name")
        batch_op.drop_index("ix_organisation_country_name")
    with op.batch_alter_table("country_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_country_activity_initiative")
    with op.batch_alter_table("initiative_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_initiative_activity_rank")
    op.drop_table("initiative_activity")
    op.drop_table("place_total")
