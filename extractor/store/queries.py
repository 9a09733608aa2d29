"""Queries and row → model conversions shared by the Store's methods.

Every function takes an open session and leaves transaction control to the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, defer

from extractor.core.schema import Record
from extractor.store.diff import FieldChange
from extractor.store.models import DocumentSummary, RecordVersionInfo, RunInfo, StoredDocument, StoredRecord
from extractor.store.rows import DocumentRow, RecordVersionRow, RunRow

_SHA256_LENGTH = 64


def find_document(session: Session, doc_key: str, *, lock: bool = False) -> DocumentRow | None:
    """The document whose sha256 or doc_id is `doc_key`.

    A doc_id can name several contents (a report re-issued with edits); the most recently
    added one wins. `lock=True` locks the row until the transaction ends (PostgreSQL; SQLite
    writers already hold the database's write lock), so saves on one document queue up.
    """
    candidates = []
    if len(doc_key) == _SHA256_LENGTH:
        candidates.append(select(DocumentRow).where(DocumentRow.sha256 == doc_key.lower()))
    candidates.append(
        select(DocumentRow).where(DocumentRow.doc_id == doc_key).order_by(DocumentRow.id.desc()).limit(1)
    )
    for stmt in candidates:
        row = session.scalars(stmt.with_for_update() if lock else stmt).first()
        if row is not None:
            return row
    return None


def document_versions(
    session: Session, document_id: int, *, with_records: bool = False
) -> Sequence[RecordVersionRow]:
    """All versions of a document, oldest first (records left unloaded unless asked for)."""
    stmt = select(RecordVersionRow).where(RecordVersionRow.document_id == document_id)
    if not with_records:
        stmt = stmt.options(defer(RecordVersionRow.record_json, raiseload=True))
    return session.scalars(stmt.order_by(RecordVersionRow.version)).all()


def latest_version_row(
    session: Session, document_id: int, *, kind: str | None = None
) -> RecordVersionRow | None:
    """The newest version of a document, optionally only of one kind."""
    stmt = select(RecordVersionRow).where(RecordVersionRow.document_id == document_id)
    if kind is not None:
        stmt = stmt.where(RecordVersionRow.kind == kind)
    return session.scalars(stmt.order_by(RecordVersionRow.version.desc()).limit(1)).first()


def current_version_row(session: Session, document_id: int) -> RecordVersionRow | None:
    """The current version: the newest review if there is one, else the newest extraction."""
    return latest_version_row(session, document_id, kind="review") or latest_version_row(
        session, document_id, kind="extraction"
    )


def max_version(session: Session, document_id: int) -> int:
    """The document's newest version number, 0 if it has none."""
    stmt = select(func.max(RecordVersionRow.version)).where(RecordVersionRow.document_id == document_id)
    return session.scalar(stmt) or 0


def current_rows_query() -> Select[DocumentRow, RecordVersionRow | None, int | None]:
    """Every document with its current version (or None) and newest version number.

    One query for the whole list: per document, the newest review else newest extraction.
    The document text is not loaded.
    """
    rv = RecordVersionRow
    review, extraction, latest = _newest("review"), _newest("extraction"), _newest(None)
    current_version = func.coalesce(review.c.v, extraction.c.v)
    return (
        select(DocumentRow, rv, latest.c.v)
        .outerjoin(review, review.c.document_id == DocumentRow.id)
        .outerjoin(extraction, extraction.c.document_id == DocumentRow.id)
        .outerjoin(latest, latest.c.document_id == DocumentRow.id)
        .outerjoin(rv, and_(rv.document_id == DocumentRow.id, rv.version == current_version))
        .options(defer(DocumentRow.text, raiseload=True))
        .order_by(DocumentRow.doc_id, DocumentRow.id)
    )


def current_version_keys_query() -> Select[str, int, int, str, str, dt.datetime]:
    """Per document with a record: its doc_id and the identity of its current version (row
    id, version, kind, status, created_at), in doc_id order; no record is loaded."""
    rv = RecordVersionRow
    review, extraction = _newest("review"), _newest("extraction")
    current_version = func.coalesce(review.c.v, extraction.c.v)
    return (
        select(DocumentRow.doc_id, rv.id, rv.version, rv.kind, rv.status, rv.created_at)
        .select_from(DocumentRow)
        .outerjoin(review, review.c.document_id == DocumentRow.id)
        .outerjoin(extraction, extraction.c.document_id == DocumentRow.id)
        .join(rv, and_(rv.document_id == DocumentRow.id, rv.version == current_version))
        .order_by(DocumentRow.doc_id, DocumentRow.id)
    )


def records_fingerprint(session: Session, approved_only: bool) -> str:
    """A digest of which version is current for every document, and its status: a save, an
    approval or a new document changes it, and row ids and save times make it differ between
    databases. For keeping what is computed from the current records."""
    digest = hashlib.sha256()
    for doc_id, row_id, version, kind, status, created_at in session.execute(current_version_keys_query()):
        if approved_only and (kind, status) != ("review", "approved"):
            continue
        digest.update(f"{doc_id}\x1f{row_id}\x1f{version}\x1f{kind}\x1f{status}\x1f".encode())
        digest.update(as_utc(created_at).isoformat().encode() + b"\x1e")
    return digest.hexdigest()


def _newest(kind: str | None) -> Any:
    """Per document, its newest version number (of `kind`, or of any kind)."""
    rv = RecordVersionRow
    stmt = select(rv.document_id, func.max(rv.version).label("v")).group_by(rv.document_id)
    return (stmt.where(rv.kind == kind) if kind else stmt).subquery()


def as_utc(value: dt.datetime) -> dt.datetime:
    """`value` as an aware UTC datetime (SQLite hands back naive UTC values)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


#: Beijing time (Asia/Shanghai): UTC+8 all year (no daylight saving since 1991), so a fixed
#: offset is exact and needs no time-zone database on the reviewer's server.
BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")


def beijing_text(value: dt.datetime) -> str:
    """A stored (UTC) time as reviewers read it: `2026-12-07 22:01:02（北京时间）`."""
    return as_utc(value).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") + "（北京时间）"


def to_document(row: DocumentRow) -> StoredDocument:
    return StoredDocument(
        id=row.id,
        doc_id=row.doc_id,
        sha256=row.sha256,
        path=row.path,
        format=row.format,
        ocr=row.ocr,
        char_count=row.char_count,
        created_at=as_utc(row.created_at),
    )


def to_run(row: RunRow) -> RunInfo:
    return RunInfo(
        id=row.id,
        backend=row.backend,
        model=row.model,
        prompt_hash=row.prompt_hash,
        status=row.status,
        stats=row.stats,
        started_at=as_utc(row.started_at),
        finished_at=None if row.finished_at is None else as_utc(row.finished_at),
    )


def to_version_info(row: RecordVersionRow, document: DocumentRow) -> RecordVersionInfo:
    diff = None if row.diff_json is None else [FieldChange.model_validate(c) for c in row.diff_json]
    return RecordVersionInfo(
        doc_id=document.doc_id,
        sha256=document.sha256,
        version=row.version,
        kind=row.kind,  # constrained by a CHECK constraint
        status=row.status,
        reviewer=row.reviewer,
        backend=row.backend,
        model=row.model,
        prompt_hash=row.prompt_hash,
        run_id=row.run_id,
        base_version=row.base_version,
        diff=diff,
        created_at=as_utc(row.created_at),
    )


def to_stored_record(row: RecordVersionRow, document: DocumentRow, *, latest_version: int) -> StoredRecord:
    return StoredRecord(
        document=to_document(document),
        record=Record.model_validate(row.record_json),
        version=row.version,
        kind=row.kind,
        status=row.status,
        reviewer=row.reviewer,
        created_at=as_utc(row.created_at),
        latest_version=latest_version,
    )


def to_summary(document: DocumentRow, row: RecordVersionRow | None, latest: int | None) -> DocumentSummary:
    record = None if row is None else Record.model_validate(row.record_json)
    items: list[Any] = [] if record is None else [*record.achievements, *record.problems, *record.plans]
    return DocumentSummary(
        doc_id=document.doc_id,
        sha256=document.sha256,
        path=document.path,
        status=row.status if row else None,
        kind=row.kind if row else None,
        issuer=record.meta.issuer if record else None,
        report_year=record.meta.report_year if record else None,
        item_count=len(items),
        flagged_count=sum(1 for item in items if item.flagged),
        version=row.version if row else None,
        latest_version=latest,
        last_reviewer=row.reviewer if row and row.kind == "review" else None,
    )
