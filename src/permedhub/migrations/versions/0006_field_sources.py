"""Per-field sources: a record whose facts come from several pages names, per field, the page
each was read on (`sources`, field -> citation), beside the record's main `source`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SOURCED_TABLES = ("topic", "organisation", "initiative", "participation", "link", "call")


def upgrade() -> None:
    for table in SOURCED_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("sources", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
            )


def downgrade() -> None:
    for table in SOURCED_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("sources")
