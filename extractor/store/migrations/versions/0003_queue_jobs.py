"""Distributed extraction: queued files, per-run job outcomes and shared model rate limits.

Revision ID: 0003_queue_jobs
Revises: 0002_review_drafts
Create Date: 2026-12-07

Tables of extractor.distributed (the job queue itself is procrastinate's, applied by
`extractor worker` / `extractor enqueue` on PostgreSQL). Only new tables: nothing existing
changes, so a SQLite database that never queues anything just gains three empty tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_queue_jobs"
down_revision: str | Sequence[str] | None = "0002_review_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queued_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "queue_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("setup_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="ck_queue_jobs_status"),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["file_sha256"], ["queued_files.sha256"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "file_sha256", name="uq_queue_jobs_run_file"),
    )
    op.create_index("ix_queue_jobs_run_id", "queue_jobs", ["run_id"], unique=False)
    op.create_index("ix_queue_jobs_setup_key", "queue_jobs", ["setup_key"], unique=False)
    op.create_table(
        "rate_limits",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("next_request_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_token_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
    op.drop_index("ix_queue_jobs_setup_key", table_name="queue_jobs")
    op.drop_index("ix_queue_jobs_run_id", table_name="queue_jobs")
    op.drop_table("queue_jobs")
    op.drop_table("queued_files")
