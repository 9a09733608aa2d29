"""ORM classes mapped onto the tables of extractor.store.tables, for code that works with
row objects (the review saves, drafts, queries, the LLM cache, the queue).

The columns are declared once, in `tables`; each class here maps one table and only
annotates its attributes for type checking (tests/test_store_rows.py keeps the
annotations in step with the columns). Importing this module imports SQLAlchemy's ORM:
`extractor extract`'s path (opening the store, runs, batch inserts) never does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import DeclarativeBase, Mapped

from extractor.store import tables


class Base(DeclarativeBase):
    """Declarative base over the one `tables.metadata`."""

    metadata = tables.metadata


class DocumentRow(Base):
    __table__ = tables.DOCUMENTS

    id: Mapped[int]
    sha256: Mapped[str]
    doc_id: Mapped[str]
    path: Mapped[str]
    format: Mapped[str]
    ocr: Mapped[bool]
    char_count: Mapped[int]
    text: Mapped[str]
    layout_hints: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]


class RunRow(Base):
    __table__ = tables.RUNS

    id: Mapped[int]
    backend: Mapped[str]
    model: Mapped[str | None]
    prompt_hash: Mapped[str | None]
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str]
    stats: Mapped[dict[str, Any] | None]


class RecordVersionRow(Base):
    __table__ = tables.RECORD_VERSIONS

    id: Mapped[int]
    document_id: Mapped[int]
    version: Mapped[int]
    kind: Mapped[str]
    run_id: Mapped[int | None]
    backend: Mapped[str | None]
    model: Mapped[str | None]
    prompt_hash: Mapped[str | None]
    reviewer: Mapped[str | None]
    status: Mapped[str]
    base_version: Mapped[int | None]
    record_json: Mapped[dict[str, Any]]
    diff_json: Mapped[list[Any] | None]
    created_at: Mapped[dt.datetime]


class ReviewDecisionRow(Base):
    __table__ = tables.REVIEW_DECISIONS

    id: Mapped[int]
    document_id: Mapped[int]
    version: Mapped[int]
    reviewer: Mapped[str]
    decisions_json: Mapped[list[Any]]
    created_at: Mapped[dt.datetime]


class ReviewDraftRow(Base):
    __table__ = tables.REVIEW_DRAFTS

    id: Mapped[int]
    document_id: Mapped[int]
    owner: Mapped[str]
    reviewer: Mapped[str]
    base_version: Mapped[int]
    state_json: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime]


class ReportLockRow(Base):
    __table__ = tables.REVIEW_LOCKS

    id: Mapped[int]
    document_id: Mapped[int]
    holder: Mapped[str]
    reviewer: Mapped[str]
    opened_at: Mapped[dt.datetime]
    heartbeat_at: Mapped[dt.datetime]


class LLMCacheRow(Base):
    __table__ = tables.LLM_CACHE

    key: Mapped[str]
    model: Mapped[str]
    mode: Mapped[str]
    prompt_hash: Mapped[str]
    response_model: Mapped[str]
    answer: Mapped[str]
    input_tokens: Mapped[int]
    output_tokens: Mapped[int]
    created_at: Mapped[dt.datetime]


class LLMCallRow(Base):
    __table__ = tables.LLM_CALLS

    id: Mapped[int]
    started_at: Mapped[dt.datetime]
    run_id: Mapped[str | None]
    doc_id: Mapped[str]
    kind: Mapped[str]
    section: Mapped[str]
    model: Mapped[str]
    mode: Mapped[str]
    prompt_hash: Mapped[str]
    status: Mapped[str]
    attempts: Mapped[int]
    input_tokens: Mapped[int]
    output_tokens: Mapped[int]
    cost_usd: Mapped[float | None]
    duration_ms: Mapped[int]
    error: Mapped[str | None]


class QueuedFileRow(Base):
    __table__ = tables.QUEUED_FILES

    sha256: Mapped[str]
    name: Mapped[str]
    size: Mapped[int]
    content: Mapped[bytes]
    created_at: Mapped[dt.datetime]


class QueueJobRow(Base):
    __table__ = tables.QUEUE_JOBS

    id: Mapped[int]
    run_id: Mapped[int]
    file_sha256: Mapped[str]
    name: Mapped[str]
    setup_key: Mapped[str]
    status: Mapped[str]
    attempts: Mapped[int]
    worker: Mapped[str | None]
    error: Mapped[str | None]
    note: Mapped[str | None]
    document_id: Mapped[int | None]
    version: Mapped[int | None]
    updated_at: Mapped[dt.datetime]


class QueuePageBatchRow(Base):
    __table__ = tables.QUEUE_PAGE_BATCHES

    job_id: Mapped[int]
    first_page: Mapped[int]
    pages: Mapped[list[int]]
    lines: Mapped[list[list[list[Any]]] | None]
    worker: Mapped[str | None]
    updated_at: Mapped[dt.datetime]


class RateLimitRow(Base):
    __table__ = tables.RATE_LIMITS

    name: Mapped[str]
    next_request_at: Mapped[dt.datetime]
    next_token_at: Mapped[dt.datetime]
