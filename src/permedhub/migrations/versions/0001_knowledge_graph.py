"""The knowledge graph: countries, regions, organisations, initiatives, links, topics, calls,
audit trail and the search index (FTS5 on SQLite, tsvector + GIN on PostgreSQL).

Revision ID: 0001
Revises:
Create Date: 2026-11-28 12:49:28.964646
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=300), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("batch", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_batch"), ["batch"], unique=False)

    op.create_table(
        "country",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("official_name", sa.String(length=300), nullable=True),
        sa.Column("alpha3", sa.String(length=3), nullable=True),
        sa.Column("subdivision_type", sa.String(length=80), nullable=True),
        sa.Column("parent_code", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["country.code"], name=op.f("fk_country_parent_code_country")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_country")),
    )
    with op.batch_alter_table("country", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_country_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "initiative",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("acronym", sa.String(length=80), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("programme", sa.String(length=120), nullable=True),
        sa.Column("grant_id", sa.String(length=40), nullable=True),
        sa.Column("call_topic", sa.String(length=120), nullable=True),
        sa.Column("eu_contribution_eur", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("total_budget_eur", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("start_precision", sa.String(length=5), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_precision", sa.String(length=5), nullable=True),
        sa.Column("website", sa.String(length=400), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("aims", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("target_regions", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("uncertain", sa.JSON(), nullable=False),
        sa.Column("approximate", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative")),
    )
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_initiative_kind"), ["kind"], unique=False)

    op.create_table(
        "region",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region")),
    )
    op.create_table(
        "search_document",
        sa.Column("rowid", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=300), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("acronym", sa.Text(), nullable=False),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("country_code", sa.String(length=8), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("rowid", name=op.f("pk_search_document")),
        sa.UniqueConstraint(
            "entity_type", "entity_id", name=op.f("uq_search_document_entity_type")
        ),
    )
    op.create_table(
        "topic",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.String(length=120), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("uncertain", sa.JSON(), nullable=False),
        sa.Column("approximate", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["topic.id"], name=op.f("fk_topic_parent_id_topic")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic")),
    )
    with op.batch_alter_table("topic", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topic_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("name", name=op.f("uq_user_account_name")),
    )
    op.create_table(
        "link",
        sa.Column("id", sa.String(length=300), nullable=False),
        sa.Column("from_id", sa.String(length=120), nullable=False),
        sa.Column("to_id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("uncertain", sa.JSON(), nullable=False),
        sa.Column("approximate", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["from_id"],
            ["initiative.id"],
            name=op.f("fk_link_from_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_id"], ["initiative.id"], name=op.f("fk_link_to_id_initiative"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link")),
        sa.UniqueConstraint("from_id", "to_id", "kind", name=op.f("uq_link_from_id")),
    )
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_link_from_id"), ["from_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_link_to_id"), ["to_id"], unique=False)

    op.create_table(
        "organisation",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("acronym", sa.String(length=80), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=True),
        sa.Column("country_code", sa.String(length=8), nullable=True),
        sa.Column("subdivision_code", sa.String(length=8), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("website", sa.String(length=400), nullable=True),
        sa.Column("ror_id", sa.String(length=40), nullable=True),
        sa.Column("expertise", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("uncertain", sa.JSON(), nullable=False),
        sa.Column("approximate", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["country_code"], ["country.code"], name=op.f("fk_organisation_country_code_country")
        ),
        sa.ForeignKeyConstraint(
            ["subdivision_code"],
            ["country.code"],
            name=op.f("fk_organisation_subdivision_code_country"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_country_code"), ["country_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_organisation_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_organisation_subdivision_code"), ["subdivision_code"], unique=False
        )

    op.create_table(
        "region_membership",
        sa.Column("region_id", sa.String(length=40), nullable=False),
        sa.Column("country_code", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["country_code"],
            ["country.code"],
            name=op.f("fk_region_membership_country_code_country"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_region_membership_region_id_region")
        ),
        sa.PrimaryKeyConstraint("region_id", "country_code", name=op.f("pk_region_membership")),
    )
    with op.batch_alter_table("region_membership", schema=None) as batch_op:
        batch_op.create_index("ix_region_membership_country", ["country_code"], unique=False)

    op.create_table(
        "call",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("initiative_id", sa.String(length=120), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("ec_cofunded", sa.Boolean(), nullable=True),
        sa.Column("funders_count", sa.Integer(), nullable=True),
        sa.Column("budget_eur", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("opening", sa.Date(), nullable=True),
        sa.Column("pre_proposal_deadline", sa.Date(), nullable=True),
        sa.Column("full_proposal_deadline", sa.Date(), nullable=True),
        sa.Column("secretariat_id", sa.String(length=120), nullable=True),
        sa.Column("procedure", sa.String(length=40), nullable=True),
        sa.Column("funder_ids", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("proposals_submitted", sa.Integer(), nullable=True),
        sa.Column("projects_funded", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("uncertain", sa.JSON(), nullable=False),
        sa.Column("approximate", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_call_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["secretariat_id"],
            ["organisation.id"],
            name=op.f("fk_call_secretariat_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call")),
    )
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_initiative_id"), ["initiative_id"], unique=False)

    op.create_table(
        "participation",
        sa.Column("id", sa.String(length=300), nullable=False),
        sa.Column("organisation_id", sa.String(length=120), nullable=False),
        sa.Column("initiative_id", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("uncertain", sa.JSON(), nullable=False),
        sa.Column("approximate", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_participation_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_participation_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation")),
        sa.UniqueConstraint(
            "organisation_id",
            "initiative_id",
            "role",
            name=op.f("uq_participation_organisation_id"),
        ),
    )
    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participation_initiative_id"), ["initiative_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_participation_organisation_id"), ["organisation_id"], unique=False
        )

    _create_search_index()


SQLITE_FTS = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title, acronym, keys, body,
        content='search_document', content_rowid='rowid',
        tokenize="unicode61 remove_diacritics 2", prefix='2 3 4')""",
    """CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN
        INSERT INTO search_fts(rowid, title, acronym, keys, body)
        VALUES (new.rowid, new.title, new.acronym, new.keys, new.body); END""",
    """CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, acronym, keys, body)
        VALUES ('delete', old.rowid, old.title, old.acronym, old.keys, old.body); END""",
    """CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, acronym, keys, body)
        VALUES ('delete', old.rowid, old.title, old.acronym, old.keys, old.body);
        INSERT INTO search_fts(rowid, title, acronym, keys, body)
        VALUES (new.rowid, new.title, new.acronym, new.keys, new.body); END""",
]

POSTGRES_TSV = [
    """ALTER TABLE search_document ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(acronym, '') || ' ' || coalesce(keys, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(title, '')), 'B')
        || setweight(to_tsvector('simple', coalesce(body, '')), 'D')) STORED""",
    "CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)",
]


def _create_search_index() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS if dialect == "sqlite" else POSTGRES_TSV:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participation_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_participation_initiative_id"))

    op.drop_table("participation")
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_initiative_id"))

    op.drop_table("call")
    with op.batch_alter_table("region_membership", schema=None) as batch_op:
        batch_op.drop_index("ix_region_membership_country")

    op.drop_table("region_membership")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_subdivision_code"))
        batch_op.drop_index(batch_op.f("ix_organisation_kind"))
        batch_op.drop_index(batch_op.f("ix_organisation_country_code"))

    op.drop_table("organisation")
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_to_id"))
        batch_op.drop_index(batch_op.f("ix_link_from_id"))

    op.drop_table("link")
    op.drop_table("user_account")
    with op.batch_alter_table("topic", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topic_parent_id"))

    op.drop_table("topic")
    op.drop_table("search_document")
    op.drop_table("region")
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_kind"))

    op.drop_table("initiative")
    with op.batch_alter_table("country", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_country_parent_code"))

    op.drop_table("country")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_batch"))
        batch_op.drop_index("ix_audit_entity")

    op.drop_table("audit_entry")
