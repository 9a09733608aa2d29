"""The review queue: one row per stored report, filters, flagged-first order and progress.

A report is named by its issuer and year (the id is for machines), with its own progress
(items decided / all items, flagged items left) and who has it open now (soft locks).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import URL

from extractor.review.decisions import decided_counts
from extractor.review.labels import status_label
from extractor.store import DocumentSummary, LockInfo, Store
from extractor.store.queries import beijing_text

#: Statuses that count as reviewed in the progress figure (a decision was reached).
DONE_STATUSES = frozenset({"approved", "rejected"})
#: Reports shown at a time: enough to scan by eye, few enough that a run stays cheap with
#: thousands stored (one button and one table row each).
PAGE_SIZE = 50


class QueueRow(BaseModel):
    """One report as the queue shows it. `doc_key` (the sha256) opens it."""

    model_config = ConfigDict(frozen=True)

    doc_key: str
    doc_id: str
    status: str | None
    status_label: str
    issuer: str | None
    report_year: int | None
    item_count: int
    flagged_count: int
    version: int | None
    last_reviewer: str | None
    #: Items decided in the current version (the rest still need a reviewer).
    decided_count: int = 0
    #: Who has the report open now (unexpired soft locks), oldest first.
    open_by: list[LockInfo] = []

    @property
    def title(self) -> str:
        """The report as people name it: issuer and year (the id only when both are unknown)."""
        year = f"{self.report_year}年" if self.report_year else ""
        if self.issuer or year:
            return f"{self.issuer or '（未知发布机关）'} {year}".strip()
        return self.doc_id

    @property
    def progress_text(self) -> str:
        return f"{self.decided_count} / {self.item_count}"

    def open_by_text(self) -> str:
        """`张三（自 2026-12-07 22:01:02（北京时间））`, for every holder, or empty."""
        return "；".join(
            f"{lock.reviewer or '未署名审核人'}（自 {beijing_text(lock.opened_at)}）" for lock in self.open_by
        )


class Progress(BaseModel):
    model_config = ConfigDict(frozen=True)

    reviewed: int
    total: int

    @property
    def fraction(self) -> float:
        return self.reviewed / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.reviewed} / {self.total}"


class _StoredSummaries(BaseModel):
    """What the queue reads from every current record (parsing them all is the queue's
    cost), with the store's data version it was read at."""

    model_config = ConfigDict(frozen=True)

    fingerprint: str
    summaries: list[DocumentSummary]
    decided: dict[tuple[str, int], int]


_summaries_lock = threading.Lock()
_summaries: dict[URL, _StoredSummaries] = {}


def stored_summaries(store: Store) -> tuple[list[DocumentSummary], dict[tuple[str, int], int]]:
    """Every document's summary and the decided-item counts, read again only when a record
    was saved since (`Store.records_fingerprint`, one query, no record loaded; it differs
    between databases at one URL, as tests recreate them): the queue's run parses no record
    while nothing changed. Shared by every session of the process (the values are frozen)."""
    fingerprint = store.records_fingerprint()
    with _summaries_lock:
        kept = _summaries.get(store.url)
    if kept is None or kept.fingerprint != fingerprint:
        kept = _StoredSummaries(
            fingerprint=fingerprint, summaries=store.list_documents(), decided=decided_counts(store)
        )
        with _summaries_lock:
            _summaries[store.url] = kept
    return kept.summaries, kept.decided


def load_queue(store: Store) -> list[QueueRow]:
    """The queue as the store has it now: documents, per-report progress and soft locks."""
    locks: dict[str, list[LockInfo]] = {}
    for lock in store.active_locks():
        locks.setdefault(lock.sha256, []).append(lock)
    summaries, decided = stored_summaries(store)
    return queue_rows(summaries, decided=decided, locks=locks)


def reviewed_count(summaries: Iterable[DocumentSummary], *, approved_only: bool = True) -> int:
    """How many current records a reviewer saved (only approved ones by default): the
    download's count, the same records `downloads.reviewed_records` returns."""
    return sum(1 for s in summaries if s.kind == "review" and (not approved_only or s.status == "approved"))


class QueuePage(BaseModel):
    """One page of the (filtered, sorted) queue: `number` is 0-based and within range."""

    model_config = ConfigDict(frozen=True)

    rows: list[QueueRow]
    number: int
    count: int
    total_rows: int
    first: int

    @property
    def has_previous(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return self.number + 1 < self.count

    def caption(self) -> str:
        """`第 2 / 20 页 · 第 51–100 份，共 1000 份`."""
        last = self.first + len(self.rows)
        return (
            f"第 {self.number + 1} / {self.count} 页 · 第 {self.first + 1}–{last} 份，共 {self.total_rows} 份"
        )


def page_of(rows: Sequence[QueueRow], *, page: int, size: int = PAGE_SIZE) -> QueuePage:
    """The `page`-th (0-based) page of `size` rows; a page past the end (the filter shrank the
    list) or before the start is clamped to the last or first page."""
    count = max(1, -(-len(rows) // size))
    number = min(max(page, 0), count - 1)
    first = number * size
    return QueuePage(
        rows=list(rows[first : first + size]), number=number, count=count, total_rows=len(rows), first=first
    )


def queue_rows(
    summaries: Iterable[DocumentSummary],
    *,
    decided: Mapping[tuple[str, int], int] | None = None,
    locks: Mapping[str, list[LockInfo]] | None = None,
) -> list[QueueRow]:
    """Queue rows for the store's document summaries (same order). `decided` counts
    decided items by (sha256, version), `locks` lists soft locks by sha256."""
    decided, locks = decided or {}, locks or {}
    return [
        QueueRow(
            doc_key=s.sha256,
            doc_id=s.doc_id,
            status=s.status,
            status_label=status_label(s.status),
            issuer=s.issuer,
            report_year=s.report_year,
            item_count=s.item_count,
            flagged_count=s.flagged_count,
            version=s.version,
            last_reviewer=s.last_reviewer,
            decided_count=decided.get((s.sha256, s.version), 0) if s.kind == "review" and s.version else 0,
            open_by=locks.get(s.sha256, []),
        )
        for s in summaries
    ]


def filter_rows(
    rows: Iterable[QueueRow], *, statuses: Collection[str] | None = None, flagged_only: bool = False
) -> list[QueueRow]:
    """Rows whose status is in `statuses` (all if None or empty) and, if `flagged_only`,
    that have at least one flagged item."""
    wanted = set(statuses or ())
    return [
        row
        for row in rows
        if (not wanted or row.status in wanted) and (not flagged_only or row.flagged_count > 0)
    ]


def sort_rows(rows: Iterable[QueueRow], *, flagged_first: bool = True) -> list[QueueRow]:
    """Reports needing attention first: with `flagged_first`, reports with flagged items
    come first (most flagged first); then unfinished before finished; then by doc_id."""

    def key(row: QueueRow) -> tuple[int, int, int, str, str]:
        flagged = (row.flagged_count == 0, -row.flagged_count) if flagged_first else (0, 0)
        return (*flagged, row.status in DONE_STATUSES, row.title, row.doc_id)

    return sorted(rows, key=key)


def progress(rows: Iterable[QueueRow]) -> Progress:
    """How many of the rows' reports have been reviewed to a decision (通过 or 退回)."""
    rows = list(rows)
    return Progress(reviewed=sum(1 for r in rows if r.status in DONE_STATUSES), total=len(rows))


def table_rows(rows: Iterable[QueueRow]) -> list[dict[str, object]]:
    """The rows as the queue table shows them (Chinese column names)."""
    return [
        {
            "报告": row.title,
            "状态": row.status_label,
            "进度（已审/条目）": row.progress_text,
            "待核查": row.flagged_count,
            "正在审核": row.open_by_text(),
            "版本": row.version,
            "最后审核人": row.last_reviewer or "",
        }
        for row in rows
    ]
