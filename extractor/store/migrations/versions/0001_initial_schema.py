"""The schema of the last release before migrations (f781059): every table, as it was.

Revision ID: 0001
Revises:
Create Date: 2026-12-07

Written by autogenerate from extractor/store/tables.py, then read and ordered by hand.
A database made by that release already has some of these tables: the store created its
own on open, while review_decisions and the LLM tables appeared only on first use. So each
table is created only if missing, and an existing one is kept exactly as it is (that
release's tables are identical to these; tests/test_migrations.py holds it to that).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _missing("documents"):
        op.create_table(
            "documents",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("doc_id", sa.String(length=255), nullable=False),
            sa.Column("path", sa.Text(), nullable=False),
            sa.Column("format", sa.String(length=16), nullable=False),
            sa.Column("ocr", sa.Boolean(), nullable=False),
            sa.Column("char_count", sa.Integer(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("sha256"),
        )
        op.create_index("ix_documents_doc_id", "documents", ["doc_id"], unique=False)

    if _missing("runs"):
        op.create_table(
            "runs",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("backend", sa.String(length=64), nullable=False),
            sa.Column("model", sa.String(length=255), nullable=True),
            sa.Column("prompt_hash", sa.String(length=128), nullable=True),
            sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("status", sa.String(length=32), nullable=False),
            sa.Column("stats", sa.JSON(none_as_null=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )

    if _missing("record_versions"):
        op.create_table(
            "record_versions",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("document_id", sa.Integer(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=False),
            sa.Column("run_id", sa.Integer(), nullable=True),
            sa.Column("backend", sa.String(length=64), nullable=True),
            sa.Column("model", sa.String(length=255), nullable=True),
            sa.Column("prompt_hash", sa.String(length=128), nullable=True),
            sa.Column("reviewer", sa.String(length=255), nullable=True),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("base_version", sa.Integer(), nullable=True),
            sa.Column("record_json", sa.JSON(), nullable=False),
            sa.Column("diff_json", sa.JSON(none_as_null=True), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.CheckConstraint("kind IN ('extraction', 'review')", name="ck_record_versions_kind"),
            sa.CheckConstraint(
                "status IN ('pending', 'in_review', 'approved', 'rejected')", name="ck_record_versions_status"
            ),
            sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="RESTRICT"),
            sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="RESTRICT"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("document_id", "version", name="uq_record_versions_document_version"),
        )
        op.create_index(
            "ix_record_versions_document_kind",
            "record_versions",
            ["document_id", "kind", "version"],
            unique=False,
        )

    if _missing("review_decisions"):
        op.create_table(
            "review_decisions",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("document_id", sa.Integer(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("reviewer", sa.String(length=255), nullable=False),
            sa.Column("decisions_json", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="RESTRICT"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("document_id", "version", name="uq_review_decisions_document_version"),
        )

    if _missing("llm_cache"):
        op.create_table(
            "llm_cache",
            sa.Column("key", sa.String(length=64), nullable=False),
            sa.Column("model", sa.String(length=255), nullable=False),
            sa.Column("mode", sa.String(length=16), nullable=False),
            sa.Column("prompt_hash", sa.String(length=64), nullable=False),
            sa.Column("response_model", sa.String(length=64), nullable=False),
            sa.Column("answer", sa.Text(), nullable=False),
            sa.Column("input_tokens", sa.Integer(), nullable=False),
            sa.Column("output_tokens", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("key"),
        )

    if _missing("llm_calls"):
        op.create_table(
            "llm_calls",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("run_id", sa.String(length=64), nullable=True),
            sa.Column("doc_id", sa.String(length=255), nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=False),
            sa.Column("section", sa.Text(), nullable=False),
            sa.Column("model", sa.String(length=255), nullable=False),
            sa.Column("mode", sa.String(length=16), nullable=False),
            sa.Column("prompt_hash", sa.String(length=64), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("input_tokens", sa.Integer(), nullable=False),
            sa.Column("output_tokens", sa.Integer(), nullable=False),
            sa.Column("cost_usd", sa.Float(), nullable=True),
            sa.Column("duration_ms", sa.Integer(), nullable=False),
            sa.Column("error", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_llm_calls_doc_id", "llm_calls", ["doc_id"], unique=False)
        op.create_index("ix_llm_calls_run_id", "llm_calls", ["run_id"], unique=False)


def downgrade() -> None:
    # Below the baseline there is no schema: going there would drop every record and review.
    raise NotImplementedError("revision 0001 is the first schema; it cannot be downgraded")
