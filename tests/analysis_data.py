"""The analysis test reports (eval/analysis) as records, and a way to put them in a Store."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from extractor.analysis.records import SourcedRecord
from extractor.core.document import SourceDocument
from extractor.core.schema import Record
from extractor.store import Store

ANALYSIS_DIR = Path(__file__).resolve().parents[1] / "eval" / "analysis"


def gold_records() -> list[Record]:
    return [
        Record.model_validate_json(p.read_text(encoding="utf-8"))
        for p in sorted((ANALYSIS_DIR / "gold").glob("*.json"))
    ]


def sourced(records: Iterable[Record], status: str = "approved") -> list[SourcedRecord]:
    return [SourcedRecord(record=r, status=status) for r in records]


def labels() -> dict:
    return json.loads((ANALYSIS_DIR / "labels.json").read_text(encoding="utf-8"))


def save(store: Store, record: Record, *, status: str | None, text: str | None = None) -> None:
    """Store `record` as an extraction of its report, then (unless `status` is None) a review."""
    if text is None:
        text = (ANALYSIS_DIR / "docs" / f"{record.doc_id}.txt").read_text(encoding="utf-8")
    doc = SourceDocument(doc_id=record.doc_id, path=f"{record.doc_id}.txt", text=text, format="txt")
    run_id = store.start_run(backend="rules")
    info = store.save_extraction(doc, record, run_id=run_id)
    if status is not None:
        store.save_review(record.doc_id, record, base_version=info.version, reviewer="审核员", status=status)  # type: ignore[arg-type]  # tests pass valid statuses


def approve_without_legal_aid(store: Store, doc_id: str) -> None:
    """Approve a new version of `doc_id` without its 法律援助案件数 metric."""
    current = store.current_record(doc_id)
    assert current is not None
    record = current.record.model_copy(deep=True)
    for item in record.achievements:
        item.metrics = [m for m in item.metrics if "法律援助" not in m.name]
    store.save_review(doc_id, record, base_version=current.version, reviewer="审核员", status="approved")
