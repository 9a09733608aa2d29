"""Page batches of queued scans: a long scan's pages OCRed by several workers, then joined.

Revision ID: 0005_queue_page_batches
Revises: 0004_document_hints
Create Date: 2026-12-07

One new table (extractor.distributed.batches); nothing existing changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_queue_page_batches"
down_revision: str | Sequence[str] | None = "0004_document_hints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_page_batches",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("first_page", sa.Integer(), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=True),
        sa.Column("worker", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["queue_jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "first_page"),
    )


def downgrade() -> None:
    op.drop_table("queue_page_batches")
