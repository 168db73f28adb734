"""The country x initiative x role aggregate behind country, region and count pages, filled
from the participations already stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:46:53.902880
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO country_activity (place_code, initiative_id, role, organisations)
SELECT o.{column}, p.initiative_id, p.role, count(*)
FROM participation p JOIN organisation o ON o.id = p.organisation_id
WHERE o.{column} IS NOT NULL
GROUP BY o.{column}, p.initiative_id, p.role
"""


def upgrade() -> None:
    op.create_table(
        "country_activity",
        sa.Column("place_code", sa.String(length=8), nullable=False),
        sa.Column("initiative_id", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("organisations", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_country_activity_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "place_code", "initiative_id", "role", name=op.f("pk_country_activity")
        ),
    )
    for column in ("country_code", "subdivision_code"):
        op.execute(BACKFILL.format(column=column))


def downgrade() -> None:
    op.drop_table("country_activity")
