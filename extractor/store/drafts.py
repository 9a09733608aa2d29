"""Review drafts and soft locks: the review's working state that must outlive a page.

Several review servers share one database and a browser may reload or a server crash at
any moment, so nothing here lives in process memory:
- a draft is one row per (document, owner): the reviewer's unsaved decisions and edits as
  JSON (shaped by extractor.review), replaced on every autosave, deleted on save/discard;
- a soft lock is one row per (document, holder) with a heartbeat; a lock whose heartbeat
  is older than its expiry is treated as gone (a closed tab never says goodbye).

Each function works inside the caller's transaction (see `Store._write` / `_read`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from extractor.core.errors import StoreError
from extractor.store import queries as q
from extractor.store.models import LOCK_EXPIRY, DraftInfo, LockInfo
from extractor.store.rows import DocumentRow, ReportLockRow, ReviewDraftRow
from extractor.store.tables import utc_now


def _document(session: Session, doc_key: str) -> DocumentRow:
    document = q.find_document(session, doc_key)
    if document is None:
        raise StoreError("no stored document with this doc_id or sha256", source=doc_key)
    return document


def _draft_row(session: Session, document_id: int, owner: str) -> ReviewDraftRow | None:
    stmt = select(ReviewDraftRow).where(
        ReviewDraftRow.document_id == document_id, ReviewDraftRow.owner == owner
    )
    return session.scalars(stmt).first()


def save_draft(
    session: Session, doc_key: str, *, owner: str, reviewer: str, base_version: int, state: dict[str, Any]
) -> DraftInfo:
    """Create or replace the owner's draft of the document."""
    if not owner.strip():
        raise StoreError("a draft needs its owner", source=doc_key)
    document = _document(session, doc_key)
    row = _draft_row(session, document.id, owner)
    if row is None:
        row = ReviewDraftRow(document_id=document.id, owner=owner)
        session.add(row)
    row.reviewer, row.base_version, row.state_json, row.updated_at = reviewer, base_version, state, utc_now()
    session.flush()
    return _to_draft(row, document)


def load_draft(session: Session, doc_key: str, *, owner: str) -> DraftInfo | None:
    document = q.find_document(session, doc_key)
    row = None if document is None else _draft_row(session, document.id, owner)
    return None if row is None or document is None else _to_draft(row, document)


def discard_draft(session: Session, doc_key: str, *, owner: str) -> bool:
    """Delete the owner's draft; returns whether there was one."""
    document = q.find_document(session, doc_key)
    if document is None:
        return False
    stmt = delete(ReviewDraftRow).where(
        ReviewDraftRow.document_id == document.id, ReviewDraftRow.owner == owner
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]  # CursorResult at run time


def touch_lock(session: Session, doc_key: str, *, holder: str, reviewer: str) -> LockInfo:
    """Take or refresh the holder's soft lock (an expired one starts afresh)."""
    document = _document(session, doc_key)
    now = utc_now()
    stmt = select(ReportLockRow).where(
        ReportLockRow.document_id == document.id, ReportLockRow.holder == holder
    )
    row = session.scalars(stmt).first()
    if row is None:
        row = ReportLockRow(document_id=document.id, holder=holder, opened_at=now)
        session.add(row)
    elif q.as_utc(row.heartbeat_at) < now - LOCK_EXPIRY:
        row.opened_at = now
    row.reviewer, row.heartbeat_at = reviewer, now
    session.flush()
    return _to_lock(row, document.sha256)


def release_lock(session: Session, doc_key: str, *, holder: str) -> None:
    document = q.find_document(session, doc_key)
    if document is not None:
        session.execute(
            delete(ReportLockRow).where(
                ReportLockRow.document_id == document.id, ReportLockRow.holder == holder
            )
        )


def active_locks(
    session: Session, *, doc_key: str | None = None, now: dt.datetime | None = None
) -> list[LockInfo]:
    """Unexpired soft locks, oldest first; of one document if `doc_key` is given."""
    cutoff = (now or utc_now()) - LOCK_EXPIRY
    stmt = (
        select(ReportLockRow, DocumentRow.sha256)
        .join(DocumentRow, DocumentRow.id == ReportLockRow.document_id)
        .where(ReportLockRow.heartbeat_at >= cutoff)
        .order_by(ReportLockRow.opened_at, ReportLockRow.id)
    )
    if doc_key is not None:
        document = q.find_document(session, doc_key)
        if document is None:
            return []
        stmt = stmt.where(ReportLockRow.document_id == document.id)
    return [_to_lock(row, sha256) for row, sha256 in session.execute(stmt)]


def _to_draft(row: ReviewDraftRow, document: DocumentRow) -> DraftInfo:
    return DraftInfo(
        sha256=document.sha256,
        owner=row.owner,
        reviewer=row.reviewer,
        base_version=row.base_version,
        state=row.state_json,
        updated_at=q.as_utc(row.updated_at),
    )


def _to_lock(row: ReportLockRow, sha256: str) -> LockInfo:
    return LockInfo(
        sha256=sha256,
        holder=row.holder,
        reviewer=row.reviewer,
        opened_at=q.as_utc(row.opened_at),
        heartbeat_at=q.as_utc(row.heartbeat_at),
    )
