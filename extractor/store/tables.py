"""ORM tables: every table of the extractor database, on one `metadata`.

The store's own tables (documents, extraction runs, the versioned records) and those whose
logic lives in higher layers (review decisions: extractor.review.decisions; the LLM answer
cache and call log: extractor.extract.llm.cache) are all declared here, so the migrations
(extractor/store/migrations) have one schema to follow. The store's API returns pydantic
models, never rows bound to a session.

A change to any table needs a new migration revision (see extractor.store.migrate).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

VersionKind = Literal["extraction", "review"]
ReviewStatus = Literal["pending", "in_review", "approved", "rejected"]
VERSION_KINDS: tuple[VersionKind, ...] = ("extraction", "review")
REVIEW_STATUSES: tuple[ReviewStatus, ...] = ("pending", "in_review", "approved", "rejected")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base shared by every table of the extractor database."""


#: The schema the migrations build: every table of the extractor database.
metadata = Base.metadata


class DocumentRow(Base):
    """One source text, identified by the sha256 of its text (same content, same row)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    doc_id: Mapped[str] = mapped_column(String(255), index=True)
    path: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16))
    ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    char_count: Mapped[int] = mapped_column(Integer)
    # The original text: the review screen shows it beside the record.
    text: Mapped[str] = mapped_column(Text)
    # What the file marks outside its wording (`LayoutHints` as JSON: Word heading lines),
    # so a document read back from the store segments as it did when loaded.
    layout_hints: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RunRow(Base):
    """One extraction run (a batch of documents with one backend / model / prompt)."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    backend: Mapped[str] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(255))
    prompt_hash: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(32), default="running")
    # Counts, tokens, cost: whatever the pipeline reports, as JSON.
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class RecordVersionRow(Base):
    """One version of a document's record. Rows are only ever added, never updated."""

    __tablename__ = "record_versions"
    __table_args__ = (
        # The backstop for optimistic concurrency: two saves cannot take the same number.
        UniqueConstraint("document_id", "version", name="uq_record_versions_document_version"),
        CheckConstraint("kind IN ('extraction', 'review')", name="ck_record_versions_kind"),
        CheckConstraint(
            "status IN ('pending', 'in_review', 'approved', 'rejected')", name="ck_record_versions_status"
        ),
        Index("ix_record_versions_document_kind", "document_id", "kind", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="RESTRICT"))
    backend: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(255))
    prompt_hash: Mapped[str | None] = mapped_column(String(128))
    reviewer: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # The version this one was compared with (and, for a review, edited from).
    base_version: Mapped[int | None] = mapped_column(Integer)
    record_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Field-level diff against `base_version`: a list of FieldChange dicts, or null.
    diff_json: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


# -- review decisions (logic: extractor.review.decisions) ----------------------------------


class ReviewDecisionRow(Base):
    """A review version's per-item decisions (a list of ItemDecision as JSON); only added."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        UniqueConstraint("document_id", "version", name="uq_review_decisions_document_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(255))
    decisions_json: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


# -- review drafts and soft locks (logic: extractor.store.drafts) ---------------------------


class ReviewDraftRow(Base):
    """A reviewer's unsaved work on one report (decisions, edits, their name), kept in the
    database so a reload, a crash or another review server loses nothing. One per owner
    and document; replaced on every autosave, deleted when saved or discarded."""

    __tablename__ = "review_drafts"
    __table_args__ = (UniqueConstraint("document_id", "owner", name="uq_review_drafts_document_owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    #: Whose draft: the key the review page keeps for its reviewer (name or browser token).
    owner: Mapped[str] = mapped_column(String(255))
    reviewer: Mapped[str] = mapped_column(String(255), default="")
    #: The version the draft's edits were made on.
    base_version: Mapped[int] = mapped_column(Integer)
    state_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ReportLockRow(Base):
    """A soft lock: who has a report open and since when, kept alive by a heartbeat; it
    warns colleagues, it never stops a save (conflicts are merged per item)."""

    __tablename__ = "review_locks"
    __table_args__ = (UniqueConstraint("document_id", "holder", name="uq_review_locks_document_holder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    holder: Mapped[str] = mapped_column(String(255))
    reviewer: Mapped[str] = mapped_column(String(255), default="")
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


# -- LLM answer cache and call log (logic: extractor.extract.llm.cache) ----------------------


class LLMCacheRow(Base):
    """One validated model answer, by cache key."""

    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(255))
    mode: Mapped[str] = mapped_column(String(16))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    response_model: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)  # the validated answer, as JSON
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class LLMCallRow(Base):
    """One logical model call (never a key or a header)."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    doc_id: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    section: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(255))
    mode: Mapped[str] = mapped_column(String(16))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


# -- distributed extraction: job outcomes, queued files, shared rate limits ------------------
# (logic: extractor.distributed; the job queue itself is procrastinate's own tables)


class QueuedFileRow(Base):
    """A file handed to `extractor enqueue`, by the sha256 of its bytes (stored once): the
    worker that takes its job loads it (OCR included), so no machine but a worker reads scans."""

    __tablename__ = "queued_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class QueueJobRow(Base):
    """One file's extraction in one run: its state, attempts, last error and the version it made.

    The unique (run, file) pair is the exactly-once backstop: a file is queued once per run,
    and the worker that finishes it marks this row done in the same transaction that saves the
    record version, under this row's lock, so a retried job finds it done and writes nothing.
    """

    __tablename__ = "queue_jobs"
    __table_args__ = (
        UniqueConstraint("run_id", "file_sha256", name="uq_queue_jobs_run_file"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="ck_queue_jobs_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="RESTRICT"), index=True)
    file_sha256: Mapped[str] = mapped_column(ForeignKey("queued_files.sha256", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(Text)
    # What makes two extractions the same: backend, model and model settings (see extractor.distributed).
    setup_key: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    version: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class QueuePageBatchRow(Base):
    """Some scanned pages of a queued PDF, OCRed as a job of their own: `lines` (per page, the
    OCR lines as [left, top, right, bottom, text]) is NULL until a worker has read them. When a
    job's last batch is read, one join loads the file with every batch's lines (no page OCRed
    twice) and runs the rest of the pipeline as the job (see extractor.distributed.batches)."""

    __tablename__ = "queue_page_batches"

    job_id: Mapped[int] = mapped_column(ForeignKey("queue_jobs.id", ondelete="CASCADE"), primary_key=True)
    first_page: Mapped[int] = mapped_column(Integer, primary_key=True)
    pages: Mapped[list[int]] = mapped_column(JSON)
    lines: Mapped[list[list[list[Any]]] | None] = mapped_column(JSON)
    worker: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RateLimitRow(Base):
    """A model budget shared by every worker: the earliest time the next request, and the
    next token, may be sent (a virtual schedule; see extractor.distributed.ratelimit)."""

    __tablename__ = "rate_limits"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_request_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    next_token_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
