"""regions/: region profiles (innovation group, population figures), barrier and readiness
survey responses, the family's events and their registrations.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 11:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _sourced() -> list[sa.Column[object]]:
    """The columns of graph.models.Sourced."""
    return [
        sa.Column("source", sa.Text(), nullable=True),
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


def upgrade() -> None:
    op.create_table(
        "region_profile",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("nuts_code", sa.String(length=8), nullable=True),
        sa.Column("ris_group", sa.String(length=30), nullable=True),
        sa.Column("ris_edition", sa.Integer(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_year", sa.Integer(), nullable=True),
        sa.Column("area_km2", sa.Float(), nullable=True),
        sa.Column("stated_density", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        *_sourced(),
        sa.ForeignKeyConstraint(
            ["code"], ["country.code"], name=op.f("fk_region_profile_code_country")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_region_profile")),
    )
    op.create_table(
        "region_survey_response",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("respondent_id", sa.String(length=80), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("stakeholder", sa.String(length=40), nullable=False),
        sa.Column("survey_date", sa.Date(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("batch", sa.String(length=40), nullable=False),
        sa.Column("file", sa.String(length=400), nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["country.code"],
            name=op.f("fk_region_survey_response_region_code_country"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_survey_response")),
    )
    op.create_index(
        op.f("ix_region_survey_response_region_code"), "region_survey_response", ["region_code"]
    )
    op.create_index(op.f("ix_region_survey_response_batch"), "region_survey_response", ["batch"])
    op.create_index(
        "ix_region_survey_response_respondent", "region_survey_response", ["respondent_id"]
    )
    op.create_table(
        "region_event",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("initiative_id", sa.String(length=120), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("venue", sa.String(length=300), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("agenda", sa.JSON(), nullable=False),
        sa.Column("outcomes", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("registration_open", sa.Boolean(), nullable=False),
        *_sourced(),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_region_event_initiative_id_initiative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_event")),
    )
    op.create_index(op.f("ix_region_event_initiative_id"), "region_event", ["initiative_id"])
    op.create_table(
        "region_event_registration",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("deletion_token", sa.String(length=64), nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["region_event.id"],
            name=op.f("fk_region_event_registration_event_id_region_event"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["country.code"],
            name=op.f("fk_region_event_registration_region_code_country"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_event_registration")),
        sa.UniqueConstraint(
            "deletion_token", name=op.f("uq_region_event_registration_deletion_token")
        ),
    )
    op.create_index(
        op.f("ix_region_event_registration_event_id"),
        "region_event_registration",
        ["event_id"],
    )


def downgrade() -> None:
    for table in (
        "region_event_registration",
        "region_event",
        "region_survey_response",
        "region_profile",
    ):
        op.drop_table(table)
