"""Indexes in the order two portal lists page through organisations: by subdivision and name
(the sub-national list), and by case-folded name (the organisations list). Replaces
ix_organisation_subdivision_code, which the first one leads with.

Without them SQLite sorted every sub-national organisation in a temporary B-tree for the right
part of the order, and all organisations by lower(name) for every page of the list.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 11:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organisation_subdivision_name", ["subdivision_code", "name", "id"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_organisation_subdivision_code"))
    # An expression index: outside the batch, which would rebuild the table on SQLite.
    op.create_index(
        "ix_organisation_folded_name",
        "organisation",
        [sa.text("lower(name)"), "name", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_organisation_folded_name", table_name="organisation")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_subdivision_code"), ["subdivision_code"], unique=False
        )
        batch_op.drop_index("ix_organisation_subdivision_name")
