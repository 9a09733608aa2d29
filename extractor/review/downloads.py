"""Reviewed records as a file to download (CSV, XLSX or JSONL, written by `extractor.store.export`)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from extractor.core.schema import Record
from extractor.review.errors import ReviewInputError
from extractor.store import Store, StoredRecord

FORMATS: dict[str, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson",
}


def export_bytes(records: Sequence[Record | StoredRecord], *, fmt: str) -> bytes:
    """The records exported as `fmt` ('csv', 'xlsx' or 'jsonl'), as bytes; stored records
    carry their reviewer, status, version and saved-at columns."""
    if fmt not in FORMATS:
        raise ReviewInputError(f"不支持的导出格式：{fmt}")
    try:
        from extractor.store.export import export_records
    except ImportError as e:
        raise ReviewInputError("导出模块（extractor.store.export）尚未安装，暂时不能下载。") from e
    with tempfile.TemporaryDirectory(prefix="extractor-export-") as tmp:
        out = Path(tmp) / f"records.{fmt}"
        export_records(records, fmt=fmt, out=out)
        return out.read_bytes()


def download_name(fmt: str) -> str:
    return f"reviewed-records.{fmt}"


def reviewed_records(store: Store, *, approved_only: bool = True) -> list[StoredRecord]:
    """Current records that a reviewer saved (kind 'review'), only approved ones by default."""
    return [
        stored for stored in store.current_records(approved_only=approved_only) if stored.kind == "review"
    ]
