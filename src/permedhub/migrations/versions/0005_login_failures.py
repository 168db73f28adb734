"""Failed logins kept in the database, so that login limiting holds across restarts and
worker processes and can count per address, per account and per (account, address).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 05:35:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_login_failure_name", "login_failure", ["name", "failed_at"])
    op.create_index("ix_login_failure_address", "login_failure", ["address", "failed_at"])


def downgrade() -> None:
    op.drop_table("login_failure")
