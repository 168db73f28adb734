"""Server-side log-out: each account's session version; a session cookie carries the version
it was issued under, and logging out increments it, so copies of the cookie stop working.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 05:25:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_version")
