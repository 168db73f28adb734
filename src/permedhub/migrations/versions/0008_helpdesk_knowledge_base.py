"""The helpdesk's knowledge base: regulatory bodies, clinical-trial rules, funders and
programmes, FAQ entries; each with its source and the day it was verified there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 09:10:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _verified() -> list[sa.Column[object]]:
    """The columns every helpdesk fact shares (models.Verified)."""
    return [
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        *_sourced(),
    ]


def _sourced() -> list[sa.Column[object]]:
    return [
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.Column("sources", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("uncertain", sa.JSON(), nullable=False),
        sa.Column("approximate", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
    ]


def _organisation(table: str) -> list[Any]:
    return [
        sa.Column("organisation_id", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f(f"fk_{table}_organisation_id_organisation"),
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "helpdesk_body",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        *_organisation("helpdesk_body"),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("acronym", sa.String(length=80), nullable=True),
        sa.Column("website", sa.String(length=400), nullable=True),
        *_verified(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helpdesk_body")),
    )
    op.create_index("ix_helpdesk_body_jurisdiction_role", "helpdesk_body", ["jurisdiction", "role"])
    op.create_index(op.f("ix_helpdesk_body_organisation_id"), "helpdesk_body", ["organisation_id"])

    op.create_table(
        "helpdesk_rule",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("aspect", sa.String(length=30), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("legal_reference", sa.String(length=400), nullable=True),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("day_kind", sa.String(length=10), nullable=True),
        *_verified(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helpdesk_rule")),
    )
    op.create_index(
        "ix_helpdesk_rule_jurisdiction_aspect", "helpdesk_rule", ["jurisdiction", "aspect"]
    )

    op.create_table(
        "helpdesk_funding",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        *_organisation("helpdesk_funding"),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("acronym", sa.String(length=80), nullable=True),
        sa.Column("website", sa.String(length=400), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("funds_trials", sa.Boolean(), nullable=True),
        *_verified(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helpdesk_funding")),
    )
    op.create_index(
        "ix_helpdesk_funding_jurisdiction_kind", "helpdesk_funding", ["jurisdiction", "kind"]
    )
    op.create_index(
        op.f("ix_helpdesk_funding_organisation_id"), "helpdesk_funding", ["organisation_id"]
    )

    op.create_table(
        "helpdesk_faq",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("jurisdictions", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        *_sourced(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helpdesk_faq")),
    )
    op.create_index(op.f("ix_helpdesk_faq_language"), "helpdesk_faq", ["language"])


def downgrade() -> None:
    for table in ("helpdesk_faq", "helpdesk_funding", "helpdesk_rule", "helpdesk_body"):
        op.drop_table(table)
