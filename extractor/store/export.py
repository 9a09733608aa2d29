"""Export records for analysis: CSV / XLSX (one row per item) or JSON Lines (one record per line).

Guarantees: CSV is UTF-8 with a BOM, so Excel shows the Chinese text; XLSX has one sheet per
list (成效, 不足, 计划) plus 指标 with one row per metric, columns sized to their content;
headers are Chinese, flags read as their Chinese reasons, and every row says who reviewed its record, its status, version and
when it was saved (Beijing time) when the records come from the store (StoredRecord).
JSON Lines holds exactly the record format of the spec (pipeline-only fields dropped), one
record per line. Text is exported as the report wrote it (full-width punctuation kept).
Document text is untrusted: no cell is ever written as a spreadsheet formula. The output
file is replaced only once the export is complete.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from extractor.core.errors import ExtractorError
from extractor.core.labels import FLAG_LABELS, LIST_SHORT_LABELS, STATUS_LABELS
from extractor.core.schema import Achievement, Item, ListName, Metric, Problem, Record
from extractor.store.models import StoredRecord
from extractor.store.queries import BEIJING, as_utc


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"


METRICS_SHEET = "指标"
#: Column headers (Chinese) by column key.
HEADERS = {
    "doc_id": "报告编号",
    "issuer": "发布机关",
    "region": "地区",
    "report_year": "报告年度",
    "list": "类别",
    "index": "序号",
    "item_index": "条目序号",
    "area": "领域",
    "text": "摘要",
    "item_text": "条目摘要",
    "evidence": "证据",
    "cause": "原因",
    "metrics": "指标",
    "metric_count": "指标数",
    "flags": "待核查标记",
    "name": "指标名称",
    "value": "数值",
    "unit": "单位",
    "reviewer": "审核人",
    "status": "审核状态",
    "version": "版本",
    "saved_at": "保存时间（北京时间）",
}
_REVIEW_COLUMNS = ["reviewer", "status", "version", "saved_at"]
ITEM_COLUMNS = [
    "doc_id",
    "issuer",
    "region",
    "report_year",
    "list",
    "index",
    "area",
    "text",
    "evidence",
    "cause",
    "metrics",
    "metric_count",
    "flags",
    *_REVIEW_COLUMNS,
]
METRIC_COLUMNS = [
    "doc_id",
    "issuer",
    "region",
    "report_year",
    "item_index",
    "area",
    "item_text",
    "name",
    "value",
    "unit",
    "evidence",
    *_REVIEW_COLUMNS,
]
#: Widest a column gets (in Excel's character units); long text wraps inside it.
_MAX_WIDTH = {"text": 40, "item_text": 40, "evidence": 60, "cause": 40, "metrics": 40, "flags": 30}
_DEFAULT_MAX_WIDTH = 24
_MIN_WIDTH = 6
#: A cell starting with one of these is a formula to Excel / LibreOffice (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote."""

    out: Path
    fmt: ExportFormat
    records: int
    items: int
    metrics: int


def export_records(
    records: Sequence[Record | StoredRecord], *, fmt: ExportFormat | str, out: Path
) -> ExportSummary:
    """Write `records` to `out` in `fmt` (creating missing parent folders).

    Item indexes are 1-based positions within their list. A StoredRecord fills the
    reviewer, status, version and saved-at columns (a bare Record: its reviewer only).
    Raises ExtractorError naming `out` if it cannot be written; an existing file at `out`
    is then left as it was.
    """
    fmt = ExportFormat(fmt)
    rows = [_Exported.of(r) for r in records]
    writers = {ExportFormat.CSV: _write_csv, ExportFormat.XLSX: _write_xlsx, ExportFormat.JSONL: _write_jsonl}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: a failed export never leaves half a file.
        temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            writers[fmt](rows, temp)
            temp.replace(out)
        finally:
            temp.unlink(missing_ok=True)
    except OSError as e:
        raise ExtractorError(f"cannot write the export: {e.strerror or e}", source=str(out)) from e
    items = [item for row in rows for _, _, item in _items(row.record)]
    return ExportSummary(
        out=out,
        fmt=fmt,
        records=len(rows),
        items=len(items),
        metrics=sum(len(item.metrics) for item in items if isinstance(item, Achievement)),
    )


def metrics_text(metrics: list[Metric]) -> str:
    """Metrics as one readable cell: `受理行政复议案件=37 件; 已结案=31 件`."""
    return "; ".join(f"{m.name}={format_number(m.value)} {m.unit}".rstrip() for m in metrics)


def format_number(value: int | float) -> str:
    """`37` for 37 and 37.0, `86.5` for 86.5 (never scientific notation for large counts)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _items(record: Record) -> Iterator[tuple[ListName, int, Item]]:
    for list_name in ListName:
        items: Sequence[Item] = record.items(list_name)
        for index, item in enumerate(items, start=1):
            yield list_name, index, item


@dataclass(frozen=True, slots=True)
class _Exported:
    """A record with what the store knows of its review (empty for a bare Record)."""

    record: Record
    review: list[Any]

    @classmethod
    def of(cls, value: Record | StoredRecord) -> _Exported:
        if isinstance(value, StoredRecord):
            saved_at = as_utc(value.created_at).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
            status = STATUS_LABELS.get(value.status, value.status)
            return cls(value.record, [value.reviewer, status, value.version, saved_at])
        reviewer = value.provenance.reviewed_by if value.provenance else None
        return cls(value, [reviewer, None, None, None])


def _record_cells(record: Record) -> list[Any]:
    meta = record.meta
    return [record.doc_id, meta.issuer, meta.region, meta.report_year]


def _item_cells(list_name: ListName, index: int, item: Item) -> list[Any]:
    metrics = item.metrics if isinstance(item, Achievement) else []
    # What each flag asks the reader to check, in Chinese (the codes and their details are
    # the pipeline's words, in English); one reason per kind of flag.
    flags = "；".join(dict.fromkeys(FLAG_LABELS.get(f.code, f.code.value) for f in item.flags))
    return [
        LIST_SHORT_LABELS[list_name],
        index,
        item.area.value,
        item.text,
        item.evidence,
        item.cause if isinstance(item, Problem) else None,
        metrics_text(metrics),
        len(metrics),
        flags,
    ]


def _write_csv(rows: list[_Exported], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([HEADERS[c] for c in ITEM_COLUMNS])
        for row in rows:
            for list_name, index, item in _items(row.record):
                cells = _record_cells(row.record) + _item_cells(list_name, index, item) + row.review
                writer.writerow([_csv_cell(value) for value in cells])


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        # OWASP's advice against CSV injection: a leading apostrophe keeps it text.
        return "'" + value
    return value


def _write_xlsx(rows: list[_Exported], path: Path) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    item_columns = [c for c in ITEM_COLUMNS if c != "list"]  # the sheet names the list
    sheets = {name: _new_sheet(workbook, label, item_columns) for name, label in LIST_SHORT_LABELS.items()}
    metrics_sheet = _new_sheet(workbook, METRICS_SHEET, METRIC_COLUMNS)
    for row in rows:
        record = row.record
        for list_name, index, item in _items(record):
            cells = _item_cells(list_name, index, item)
            _append(sheets[list_name], _record_cells(record) + cells[1:] + row.review)
            for metric in item.metrics if isinstance(item, Achievement) else []:
                _append(
                    metrics_sheet,
                    [
                        *_record_cells(record),
                        index,
                        item.area.value,
                        item.text,
                        metric.name,
                        metric.value,
                        metric.unit,
                        metric.evidence,
                        *row.review,
                    ],
                )
    for sheet, columns in [*((s, item_columns) for s in sheets.values()), (metrics_sheet, METRIC_COLUMNS)]:
        _fit_columns(sheet, columns)
    workbook.save(path)


def _new_sheet(workbook: Workbook, title: str, columns: list[str]) -> Any:
    sheet = workbook.create_sheet(title)
    sheet.append([HEADERS[c] for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    return sheet


def display_width(text: str) -> int:
    """Columns `text` takes in a spreadsheet: CJK and full-width characters count two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _fit_columns(sheet: Any, columns: list[str]) -> None:
    """Each column as wide as its widest cell (header included), within its cap; cells of
    capped text columns wrap."""
    for number, (key, cells) in enumerate(zip(columns, sheet.iter_cols(), strict=True), start=1):
        cap = _MAX_WIDTH.get(key, _DEFAULT_MAX_WIDTH)
        widest = max((display_width(str(c.value)) for c in cells if c.value is not None), default=0)
        sheet.column_dimensions[get_column_letter(number)].width = max(_MIN_WIDTH, min(widest + 2, cap))
        if key in _MAX_WIDTH and widest > cap:
            for cell in cells[1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _append(sheet: Any, values: list[Any]) -> None:
    # openpyxl rejects control characters (PDF text has them) and reads "=..." as a formula.
    # The cells are made here, not looked up after the append: `sheet.max_row` scans every
    # cell of the sheet, which made an export of 1,000 records take many minutes.
    cells = []
    for value in values:
        cell = Cell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)
        if isinstance(cell.value, str):
            cell.data_type = "s"
        cells.append(cell)
    sheet.append(cells)


def _write_jsonl(rows: list[_Exported], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for row in rows:
            # The spec's shape (internal=False), re-dumped compact so one record is one line.
            spec_shape = json.loads(row.record.to_json(internal=False))
            stream.write(json.dumps(spec_shape, ensure_ascii=False) + "\n")
