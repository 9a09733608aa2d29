"""The tables: every table of the extractor database, declared once, on one `metadata`.

The store's own tables (documents, extraction runs, the versioned records) and those whose
logic lives in higher layers (review decisions: extractor.review.decisions; the LLM answer
cache and call log: extractor.extract.llm.cache; the queue: extractor.distributed) are all
declared here, so the migrations (extractor/store/migrations) have one schema to follow.

They are SQLAlchemy Core tables: `extractor extract` writes its batches with Core
statements and never pays for importing the ORM (a tenth of a second per process). Code
that works with row objects maps these same tables in `extractor.store.rows`, which
declares no column of its own. The store's API returns pydantic models, never rows.

A change to any table needs a new migration revision (see extractor.store.migrate).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

VersionKind = Literal["extraction", "review"]
ReviewStatus = Literal["pending", "in_review", "approved", "rejected"]
VERSION_KINDS: tuple[VersionKind, ...] = ("extraction", "review")
REVIEW_STATUSES: tuple[ReviewStatus, ...] = ("pending", "in_review", "approved", "rejected")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _timestamp(name: str, *, default: bool = True) -> Column[dt.datetime]:
    """A time column (UTC, with its zone), set to now on insert unless `default` is False."""
    return Column(name, DateTime(timezone=True), default=utc_now if default else None, nullable=False)


#: The schema the migrations build: every table of the extractor database.
metadata = MetaData()

#: One source text, identified by the sha256 of its text (same content, same row).
DOCUMENTS = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), unique=True, nullable=False),
    Column("doc_id", String(255), index=True, nullable=False),
    Column("path", Text, nullable=False),
    Column("format", String(16), nullable=False),
    Column("ocr", Boolean, default=False, nullable=False),
    Column("char_count", Integer, nullable=False),
    # The original text: the review screen shows it beside the record.
    Column("text", Text, nullable=False),
    # What the file marks outside its wording (`LayoutHints` as JSON: Word heading lines),
    # so a document read back from the store segments as it did when loaded.
    Column("layout_hints", JSON, nullable=True),
    _timestamp("created_at"),
)

#: One extraction run (a batch of documents with one backend / model / prompt).
RUNS = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("backend", String(64), nullable=False),
    Column("model", String(255)),
    Column("prompt_hash", String(128)),
    _timestamp("started_at"),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(32), default="running", nullable=False),
    # Counts, tokens, cost: whatever the pipeline reports, as JSON.
    Column("stats", JSON(none_as_null=True)),
)

#: One version of a document's record. Rows are only ever added, never updated.
RECORD_VERSIONS = Table(
    "record_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", ForeignKey("documents.id", ondelete="RESTRICT"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("run_id", ForeignKey("runs.id", ondelete="RESTRICT")),
    Column("backend", String(64)),
    Column("model", String(255)),
    Column("prompt_hash", String(128)),
    Column("reviewer", String(255)),
    Column("status", String(16), default="pending", nullable=False),
    # The version this one was compared with (and, for a review, edited from).
    Column("base_version", Integer),
    Column("record_json", JSON, nullable=False),
    # Field-level diff against `base_version`: a list of FieldChange dicts, or null.
    Column("diff_json", JSON(none_as_null=True)),
    _timestamp("created_at"),
    # The backstop for optimistic concurrency: two saves cannot take the same number.
    UniqueConstraint("document_id", "version", name="uq_record_versions_document_version"),
    CheckConstraint("kind IN ('extraction', 'review')", name="ck_record_versions_kind"),
    CheckConstraint(
        "status IN ('pending', 'in_review', 'approved', 'rejected')", name="ck_record_versions_status"
    ),
    Index("ix_record_versions_document_kind", "document_id", "kind", "version"),
)

# -- review decisions (logic: extractor.review.decisions) ----------------------------------

#: A review version's per-item decisions (a list of ItemDecision as JSON); only added.
REVIEW_DECISIONS = Table(
    "review_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", ForeignKey("documents.id", ondelete="RESTRICT"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("reviewer", String(255), nullable=False),
    Column("decisions_json", JSON, nullable=False),
    _timestamp("created_at"),
    UniqueConstraint("document_id", "version", name="uq_review_decisions_document_version"),
)

# -- review drafts and soft locks (logic: extractor.store.drafts) ---------------------------

#: A reviewer's unsaved work on one report (decisions, edits, their name), kept in the
#: database so a reload, a crash or another review server loses nothing. One per owner and
#: document; replaced on every autosave, deleted when saved or discarded.
REVIEW_DRAFTS = Table(
    "review_drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    # Whose draft: the key the review page keeps for its reviewer (name or browser token).
    Column("owner", String(255), nullable=False),
    Column("reviewer", String(255), default="", nullable=False),
    # The version the draft's edits were made on.
    Column("base_version", Integer, nullable=False),
    Column("state_json", JSON, nullable=False),
    _timestamp("updated_at"),
    UniqueConstraint("document_id", "owner", name="uq_review_drafts_document_owner"),
)

#: A soft lock: who has a report open and since when, kept alive by a heartbeat; it warns
#: colleagues, it never stops a save (conflicts are merged per item).
REVIEW_LOCKS = Table(
    "review_locks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("holder", String(255), nullable=False),
    Column("reviewer", String(255), default="", nullable=False),
    _timestamp("opened_at"),
    _timestamp("heartbeat_at"),
    UniqueConstraint("document_id", "holder", name="uq_review_locks_document_holder"),
)

# -- LLM answer cache and call log (logic: extractor.extract.llm.cache) ----------------------

#: One validated model answer, by cache key.
LLM_CACHE = Table(
    "llm_cache",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("model", String(255), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("prompt_hash", String(64), nullable=False),
    Column("response_model", String(64), nullable=False),
    Column("answer", Text, nullable=False),  # the validated answer, as JSON
    Column("input_tokens", Integer, default=0, nullable=False),
    Column("output_tokens", Integer, default=0, nullable=False),
    _timestamp("created_at"),
)

#: One logical model call (never a key or a header).
LLM_CALLS = Table(
    "llm_calls",
    metadata,
    Column("id", Integer, primary_key=True),
    _timestamp("started_at"),
    Column("run_id", String(64), index=True),
    Column("doc_id", String(255), index=True, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("section", Text, nullable=False),
    Column("model", String(255), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("prompt_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("cost_usd", Float),
    Column("duration_ms", Integer, nullable=False),
    Column("error", Text),
)

# -- distributed extraction: job outcomes, queued files, shared rate limits ------------------
# (logic: extractor.distributed; the job queue itself is procrastinate's own tables)

#: A file handed to `extractor enqueue`, by the sha256 of its bytes (stored once): the worker
#: that takes its job loads it (OCR included), so no machine but a worker reads scans.
QUEUED_FILES = Table(
    "queued_files",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    _timestamp("created_at"),
)

#: One file's extraction in one run: its state, attempts, last error and the version it made.
#: The unique (run, file) pair is the exactly-once backstop: a file is queued once per run,
#: and the worker that finishes it marks this row done in the same transaction that saves
#: the record version, under this row's lock, so a retried job finds it done and writes nothing.
QUEUE_JOBS = Table(
    "queue_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("runs.id", ondelete="RESTRICT"), index=True, nullable=False),
    Column("file_sha256", ForeignKey("queued_files.sha256", ondelete="RESTRICT"), nullable=False),
    Column("name", Text, nullable=False),
    # What makes two extractions the same: backend, model and model settings (see extractor.distributed).
    Column("setup_key", String(64), index=True, nullable=False),
    Column("status", String(16), default="queued", nullable=False),
    Column("attempts", Integer, default=0, nullable=False),
    Column("worker", String(255)),
    Column("error", Text),
    Column("note", Text),
    Column("document_id", ForeignKey("documents.id", ondelete="RESTRICT")),
    Column("version", Integer),
    _timestamp("updated_at"),
    UniqueConstraint("run_id", "file_sha256", name="uq_queue_jobs_run_file"),
    CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="ck_queue_jobs_status"),
)

#: Some scanned pages of a queued PDF, OCRed as a job of their own: `lines` (per page, the OCR
#: lines as [left, top, right, bottom, text]) is NULL until a worker has read them. When a
#: job's last batch is read, one join loads the file with every batch's lines (no page OCRed
#: twice) and runs the rest of the pipeline as the job (see extractor.distributed.batches).
QUEUE_PAGE_BATCHES = Table(
    "queue_page_batches",
    metadata,
    Column("job_id", ForeignKey("queue_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("first_page", Integer, primary_key=True),
    Column("pages", JSON, nullable=False),
    Column("lines", JSON),
    Column("worker", String(255)),
    _timestamp("updated_at"),
)

#: A model budget shared by every worker: the earliest time the next request, and the next
#: token, may be sent (a virtual schedule; see extractor.distributed.ratelimit).
RATE_LIMITS = Table(
    "rate_limits",
    metadata,
    Column("name", String(255), primary_key=True),
    _timestamp("next_request_at", default=False),
    _timestamp("next_token_at", default=False),
)
