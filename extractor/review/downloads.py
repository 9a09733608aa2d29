"""Reviewed records as a file to download (CSV, XLSX or JSONL, written by `extractor.store.export`)."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from extractor.core.errors import ExtractorError
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


class DeferredExport:
    """The bytes of one download, built only when the reviewer clicks it: Streamlit calls the
    instance (no arguments) in a thread of its own, so it opens its own Store from `url`
    (a Store's sessions are not shared across threads) and touches nothing of the script run.

    Streamlit ignores the Streamlit calls of such a callable and tells the browser only that
    it failed (in English), so a failure is kept here as a Chinese message: the click's own
    rerun waits for it (`wait_failure`) and shows it."""

    def __init__(self, url: str, *, fmt: str, approved_only: bool) -> None:
        self.url, self.fmt, self.approved_only = url, fmt, approved_only
        self._started = threading.Event()
        self._done = threading.Event()
        self._failure: str | None = None

    def __call__(self) -> bytes:
        self._done.clear()
        self._failure = None
        self._started.set()
        try:
            with Store(self.url) as store:
                return export_bytes(reviewed_records(store, approved_only=self.approved_only), fmt=self.fmt)
        except ReviewInputError as e:
            self._failure = e.message
            raise
        except ExtractorError as e:
            self._failure = f"导出 {self.fmt.upper()} 失败：{e}"
            raise
        except Exception as e:
            self._failure = f"导出 {self.fmt.upper()} 失败（{type(e).__name__}），请稍后重试或联系管理员。"
            raise
        finally:
            self._done.set()

    def wait_failure(self, *, start_within: float, finish_within: float) -> str | None:
        """The Chinese message of the export's failure: waits up to `start_within` seconds for
        the export to start (the browser asks for it as it reports the click) and then up to
        `finish_within` for it to end. None if it succeeded, never started or is still running."""
        if not self._started.wait(start_within):
            return None
        self._done.wait(finish_within)
        return self._failure if self._done.is_set() else None
