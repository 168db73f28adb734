"""The atlas: mapping records (policies, programmes, infrastructures, biobanks, standards,
training programmes) with their places, regions and topics one row per value, and the
per-place, per-topic counts the analyses read.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "atlas_record",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("acronym", sa.String(length=80), nullable=True),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("organisation_id", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("start_precision", sa.String(length=5), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_precision", sa.String(length=5), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.String(length=20), nullable=True),
        sa.Column("website", sa.String(length=400), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("uncertain", sa.JSON(), nullable=False),
        sa.Column("approximate", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_atlas_record_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atlas_record")),
    )
    op.create_index(op.f("ix_atlas_record_type"), "atlas_record", ["type"])
    op.create_index(op.f("ix_atlas_record_organisation_id"), "atlas_record", ["organisation_id"])

    op.create_table(
        "atlas_record_place",
        sa.Column("record_id", sa.String(length=120), nullable=False),
        sa.Column("place_code", sa.String(length=8), nullable=False),
        sa.Column("country_code", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["atlas_record.id"],
            name=op.f("fk_atlas_record_place_record_id_atlas_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["country_code"],
            ["country.code"],
            name=op.f("fk_atlas_record_place_country_code_country"),
        ),
        sa.PrimaryKeyConstraint("record_id", "place_code", name=op.f("pk_atlas_record_place")),
    )
    op.create_index("ix_atlas_record_place_country", "atlas_record_place", ["country_code"])

    op.create_table(
        "atlas_record_topic",
        sa.Column("record_id", sa.String(length=120), nullable=False),
        sa.Column("topic_id", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["atlas_record.id"],
            name=op.f("fk_atlas_record_topic_record_id_atlas_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topic.id"], name=op.f("fk_atlas_record_topic_topic_id_topic")
        ),
        sa.PrimaryKeyConstraint("record_id", "topic_id", name=op.f("pk_atlas_record_topic")),
    )
    op.create_index("ix_atlas_record_topic_topic", "atlas_record_topic", ["topic_id"])

    op.create_table(
        "atlas_record_region",
        sa.Column("record_id", sa.String(length=120), nullable=False),
        sa.Column("region_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["atlas_record.id"],
            name=op.f("fk_atlas_record_region_record_id_atlas_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_atlas_record_region_region_id_region")
        ),
        sa.PrimaryKeyConstraint("record_id", "region_id", name=op.f("pk_atlas_record_region")),
    )

    op.create_table(
        "atlas_cell",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("topic_id", sa.String(length=120), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("capable", sa.Integer(), nullable=False),
        sa.Column("strength", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "scope", "topic_id", name=op.f("pk_atlas_cell")),
    )


def downgrade() -> None:
    for table in (
        "atlas_cell",
        "atlas_record_region",
        "atlas_record_topic",
        "atlas_record_place",
        "atlas_record",
    ):
        op.drop_table(table)
