"""Export records for analysis: CSV / XLSX (one row per item) or JSON Lines (one record per line).

Guarantees: CSV is UTF-8 with a BOM, so Excel shows the Chinese text; XLSX has one sheet per
list (成效, 不足, 计划) plus 指标 with one row per metric; JSON Lines holds exactly the
record format of the spec (pipeline-only fields dropped), one record per line. Document
text is untrusted: no cell is ever written as a spreadsheet formula. The output file is
replaced only once the export is complete.
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
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from extractor.core.errors import ExtractorError
from extractor.core.labels import LIST_SHORT_LABELS
from extractor.core.schema import Achievement, Item, ListName, Metric, Problem, Record


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"


METRICS_SHEET = "指标"
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
]
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


def export_records(records: list[Record], *, fmt: ExportFormat | str, out: Path) -> ExportSummary:
    """Write `records` to `out` in `fmt` (creating missing parent folders).

    Item indexes are 1-based positions within their list. Raises ExtractorError naming
    `out` if it cannot be written; an existing file at `out` is then left as it was.
    """
    fmt = ExportFormat(fmt)
    writers = {ExportFormat.CSV: _write_csv, ExportFormat.XLSX: _write_xlsx, ExportFormat.JSONL: _write_jsonl}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: a failed export never leaves half a file.
        temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            writers[fmt](records, temp)
            temp.replace(out)
        finally:
            temp.unlink(missing_ok=True)
    except OSError as e:
        raise ExtractorError(f"cannot write the export: {e.strerror or e}", source=str(out)) from e
    items = [item for record in records for _, _, item in _items(record)]
    return ExportSummary(
        out=out,
        fmt=fmt,
        records=len(records),
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


def _record_cells(record: Record) -> list[Any]:
    meta = record.meta
    return [record.doc_id, meta.issuer, meta.region, meta.report_year]


def _item_cells(list_name: ListName, index: int, item: Item) -> list[Any]:
    metrics = item.metrics if isinstance(item, Achievement) else []
    flags = "; ".join(f"{f.code.value}: {f.detail}" if f.detail else f.code.value for f in item.flags)
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


def _write_csv(records: list[Record], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(ITEM_COLUMNS)
        for record in records:
            for list_name, index, item in _items(record):
                row = _record_cells(record) + _item_cells(list_name, index, item)
                writer.writerow([_csv_cell(value) for value in row])


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        # OWASP's advice against CSV injection: a leading apostrophe keeps it text.
        return "'" + value
    return value


def _write_xlsx(records: list[Record], path: Path) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    item_header = [c for c in ITEM_COLUMNS if c != "list"]  # the sheet names the list
    sheets = {name: _new_sheet(workbook, label, item_header) for name, label in LIST_SHORT_LABELS.items()}
    metrics_sheet = _new_sheet(workbook, METRICS_SHEET, METRIC_COLUMNS)
    for record in records:
        for list_name, index, item in _items(record):
            cells = _item_cells(list_name, index, item)
            _append(sheets[list_name], _record_cells(record) + cells[1:])
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
                    ],
                )
    workbook.save(path)


def _new_sheet(workbook: Workbook, title: str, header: list[str]) -> Any:
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    return sheet


def _append(sheet: Any, values: list[Any]) -> None:
    # openpyxl rejects control characters (PDF text has them) and reads "=..." as a formula.
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _write_jsonl(records: list[Record], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for record in records:
            # The spec's shape (internal=False), re-dumped compact so one record is one line.
            spec_shape = json.loads(record.to_json(internal=False))
            stream.write(json.dumps(spec_shape, ensure_ascii=False) + "\n")
