"""The expert register of partner search (match/): consented listings only.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_expert",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("country_code", sa.String(length=8), nullable=False),
        sa.Column("sector", sa.String(length=30), nullable=False),
        sa.Column("organisation_id", sa.String(length=120), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("expertise", sa.Text(), nullable=True),
        sa.Column("consent_statement", sa.Text(), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["country_code"], ["country.code"], name=op.f("fk_match_expert_country_code_country")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_match_expert_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_expert")),
    )
    op.create_index(op.f("ix_match_expert_country_code"), "match_expert", ["country_code"])
    op.create_index(op.f("ix_match_expert_organisation_id"), "match_expert", ["organisation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_match_expert_organisation_id"), table_name="match_expert")
    op.drop_index(op.f("ix_match_expert_country_code"), table_name="match_expert")
    op.drop_table("match_expert")
