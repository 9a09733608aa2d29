"""Documents keep the layout hints their file gave (Word heading lines) for re-segmentation.

Revision ID: 0004_document_hints
Revises: 0003_queue_jobs
Create Date: 2026-12-07

One nullable column: documents stored before it have no hints (NULL), as a plain-text file has.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_document_hints"
down_revision: str | Sequence[str] | None = "0003_queue_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("layout_hints", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column only by rebuilding the table: batch mode does that.
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("layout_hints")
