"""Search documents show only what a person wrote: codes (kinds, ids, topic ids, grant ids,
call procedures and years) move from the shown text to the keys, which only match. The table
keeps its columns; every document is written anew from its record.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-07 06:45:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from permedhub.graph.indexing import reindex

    reindex(op.get_bind())


def downgrade() -> None:
    # The documents of before differ only in where codes are kept; the ones written by upgrade
    # find the same records, so they stay.
    pass
