"""The call workflow: calls published from their documents, roles per call, consortia,
proposals per stage with their PDF, national checks, conflicts of interest, review
assignments, reviews, funding decisions, the workflow's audit trail and its mail outbox.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 11:28:49.095379
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jtc_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jtc_audit")),
    )
    with op.batch_alter_table("jtc_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jtc_audit_call_id"), ["call_id"], unique=False)

    op.create_table(
        "jtc_call",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jtc_call")),
    )
    op.create_table(
        "jtc_mail",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jtc_mail")),
    )
    with op.batch_alter_table("jtc_mail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jtc_mail_call_id"), ["call_id"], unique=False)

    op.create_table(
        "jtc_consortium",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("acronym", sa.String(length=120), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("join_code", sa.String(length=64), nullable=False),
        sa.Column("invited", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["jtc_call.id"],
            name=op.f("fk_jtc_consortium_call_id_jtc_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_jtc_consortium_owner_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jtc_consortium")),
        sa.UniqueConstraint("call_id", "acronym", name="uq_jtc_consortium_call_acronym"),
    )
    op.create_table(
        "jtc_role",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("funder", sa.String(length=120), nullable=True),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["jtc_call.id"],
            name=op.f("fk_jtc_role_call_id_jtc_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_jtc_role_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jtc_role")),
        sa.UniqueConstraint("call_id", "user_id", "role", name="uq_jtc_role_call_user_role"),
    )
    with op.batch_alter_table("jtc_role", schema=None) as batch_op:
        batch_op.create_index("ix_jtc_role_user", ["user_id"], unique=False)

    op.create_table(
        "jtc_member",
        sa.Column("consortium_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consortium_id"],
            ["jtc_consortium.id"],
            name=op.f("fk_jtc_member_consortium_id_jtc_consortium"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_jtc_member_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("consortium_id", "user_id", name=op.f("pk_jtc_member")),
    )
    op.create_table(
        "jtc_proposal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("consortium_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("broken", sa.JSON(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["jtc_call.id"],
            name=op.f("fk_jtc_proposal_call_id_jtc_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consortium_id"],
            ["jtc_consortium.id"],
            name=op.f("fk_jtc_proposal_consortium_id_jtc_consortium"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jtc_proposal")),
        sa.UniqueConstraint("consortium_id", "stage", name="uq_jtc_proposal_consortium_stage"),
    )
    with op.batch_alter_table("jtc_proposal", schema=None) as batch_op:
        batch_op.create_index("ix_jtc_proposal_call_stage", ["call_id", "stage"], unique=False)

    op.create_table(
        "jtc_assignment",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("match", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["jtc_proposal.id"],
            name=op.f("fk_jtc_assignment_proposal_id_jtc_proposal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user_account.id"],
            name=op.f("fk_jtc_assignment_reviewer_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("proposal_id", "reviewer_id", name=op.f("pk_jtc_assignment")),
    )
    op.create_table(
        "jtc_conflict",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("organisation", sa.String(length=120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["jtc_call.id"],
            name=op.f("fk_jtc_conflict_call_id_jtc_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["jtc_proposal.id"],
            name=op.f("fk_jtc_conflict_proposal_id_jtc_proposal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user_account.id"],
            name=op.f("fk_jtc_conflict_reviewer_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jtc_conflict")),
    )
    with op.batch_alter_table("jtc_conflict", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jtc_conflict_call_reviewer", ["call_id", "reviewer_id"], unique=False
        )

    op.create_table(
        "jtc_decision",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payments", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["jtc_call.id"],
            name=op.f("fk_jtc_decision_call_id_jtc_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["jtc_proposal.id"],
            name=op.f("fk_jtc_decision_proposal_id_jtc_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_jtc_decision")),
    )
    op.create_table(
        "jtc_national_check",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("partner", sa.Integer(), nullable=False),
        sa.Column("funder", sa.String(length=120), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_user", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user"],
            ["user_account.id"],
            name=op.f("fk_jtc_national_check_by_user_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["jtc_proposal.id"],
            name=op.f("fk_jtc_national_check_proposal_id_jtc_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "partner", name=op.f("pk_jtc_national_check")),
    )
    op.create_table(
        "jtc_adjustment",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=120), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_user", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user"], ["user_account.id"], name=op.f("fk_jtc_adjustment_by_user_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["jtc_proposal.id"],
            name=op.f("fk_jtc_adjustment_proposal_id_jtc_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "criterion", name=op.f("pk_jtc_adjustment")),
    )
    op.create_table(
        "jtc_review",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["jtc_proposal.id"],
            name=op.f("fk_jtc_review_proposal_id_jtc_proposal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user_account.id"],
            name=op.f("fk_jtc_review_reviewer_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("proposal_id", "reviewer_id", name=op.f("pk_jtc_review")),
    )


def downgrade() -> None:
    # Tables that others reference go last.
    for table in (
        "jtc_adjustment", "jtc_review", "jtc_national_check", "jtc_decision", "jtc_conflict",
        "jtc_assignment",
        "jtc_proposal", "jtc_member", "jtc_role", "jtc_consortium", "jtc_mail", "jtc_call",
        "jtc_audit",
    ):  # fmt: skip
        op.drop_table(table)
