"""The review queue: one row per stored report, filters, flagged-first order and progress."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from pydantic import BaseModel, ConfigDict

from extractor.review.labels import status_label
from extractor.store import DocumentSummary

#: Statuses that count as reviewed in the progress figure (a decision was reached).
DONE_STATUSES = frozenset({"approved", "rejected"})


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


class Progress(BaseModel):
    model_config = ConfigDict(frozen=True)

    reviewed: int
    total: int

    @property
    def fraction(self) -> float:
        return self.reviewed / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.reviewed} / {self.total}"


def queue_rows(summaries: Iterable[DocumentSummary]) -> list[QueueRow]:
    """Queue rows for the store's document summaries (same order)."""
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

    def key(row: QueueRow) -> tuple[int, int, int, str]:
        flagged = (row.flagged_count == 0, -row.flagged_count) if flagged_first else (0, 0)
        return (*flagged, row.status in DONE_STATUSES, row.doc_id)

    return sorted(rows, key=key)


def progress(rows: Iterable[QueueRow]) -> Progress:
    """How many of the rows' reports have been reviewed to a decision (通过 or 退回)."""
    rows = list(rows)
    return Progress(reviewed=sum(1 for r in rows if r.status in DONE_STATUSES), total=len(rows))


def table_rows(rows: Iterable[QueueRow]) -> list[dict[str, object]]:
    """The rows as the queue table shows them (Chinese column names)."""
    return [
        {
            "报告": row.doc_id,
            "状态": row.status_label,
            "发布机关": row.issuer or "",
            "年度": row.report_year,
            "条目数": row.item_count,
            "待核查条目": row.flagged_count,
            "版本": row.version,
            "最后审核人": row.last_reviewer or "",
        }
        for row in rows
    ]
