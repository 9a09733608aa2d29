"""The analysis as an Excel workbook: one row per value, problem and plan, each with its source.

Written with XlsxWriter (about three times faster than openpyxl on the 300-odd cells each
record gives). Imported only by what writes a workbook (`extractor analyse` imports it inside
the command), so the CLI's other commands do not load it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlsxwriter

from extractor.analysis.records import ItemRef
from extractor.core.errors import ExtractorError
from extractor.core.labels import STATUS_LABELS

if TYPE_CHECKING:
    from extractor.analysis import Analysis

INDICATOR_HEADER = [
    "指标", "领域", "地区", "年度", "数值", "单位", "疑点", "发布机关", "报告", "条目", "原文指标名",
    "指标证据", "条目摘要", "匹配分", "审核状态",
]  # fmt: skip
THEME_HEADER = [
    "主题", "主题代表表述", "主题领域", "涉及报告数", "涉及地区", "地区", "年度", "报告", "条目",
    "问题表述", "问题领域", "证据", "反复出现", "上年同类问题", "审核状态",
]  # fmt: skip
FOLLOW_HEADER = [
    "发布机关", "地区", "计划年度", "计划报告", "计划条目", "计划", "计划领域", "计划证据", "落实情况",
    "相似度", "匹配成效报告", "匹配成效条目", "匹配成效", "成效证据", "审核状态",
]  # fmt: skip
SUMMARY_HEADER = [
    "指标",
    "领域",
    "单位",
    "数值个数",
    "覆盖地区·年度",
    "所选地区·年度",
    "覆盖率",
    "中位数",
    "最小值",
    "最大值",
    "疑点数",
]
UNMAPPED_HEADER = [
    "原因",
    "原文指标名",
    "数值",
    "单位",
    "候选指标",
    "地区",
    "年度",
    "报告",
    "条目",
    "指标证据",
    "审核状态",
]
RATE_HEADER = ["发布机关", "地区", "计划年度", "计划数", "已落实", "部分", "未见提及", "落实率", "推进率"]
_MAX_WIDTH = 60
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Widths are judged from the first rows (a large sheet would take long to measure whole).
_WIDTH_SAMPLE_ROWS = 300


def write_workbook(analysis: Analysis, out: Path) -> None:
    """Write the workbook; a file that cannot be written is one ExtractorError naming it."""
    # Text stays text: a cell starting with "=" is not a formula, "http…" not a link, "12" not a number.
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(str(out), options)
    bold = workbook.add_format({"bold": True})
    years = sorted({r.year for r in analysis.records if r.year is not None})
    sheets: list[tuple[str, list[str] | None, list[list[Any]]]] = [
        ("说明", None, _notes(analysis)),
        ("指标", INDICATOR_HEADER, _indicator_rows(analysis)),
        ("问题主题", THEME_HEADER, _theme_rows(analysis)),
        ("计划落实", FOLLOW_HEADER, _follow_rows(analysis)),
        ("指标汇总", SUMMARY_HEADER, _summary_rows(analysis)),
        ("地区年度表", ["指标", "地区", *[f"{y}年" for y in years]], _region_year_rows(analysis, years)),
        ("未归类指标", UNMAPPED_HEADER, _unmapped_rows(analysis)),
        ("落实率", RATE_HEADER, _rate_rows(analysis)),
    ]
    for title, header, rows in sheets:
        _sheet(workbook, title, header, rows, bold=bold)
    try:
        workbook.close()
    except (OSError, xlsxwriter.exceptions.FileCreateError) as e:
        raise ExtractorError(f"cannot write workbook: {e}", source=str(out)) from e


def _notes(analysis: Analysis) -> list[list[Any]]:
    return [
        ["统计范围", analysis.caption],
        ["报告数", len(analysis.records)],
        ["已归类指标数值", len(analysis.mapped)],
        ["未归类指标数值", len(analysis.values) - len(analysis.mapped)],
        ["问题主题数", len(analysis.themes)],
        ["已比对计划数", len(analysis.follow)],
        ["说明", "每行注明来源报告与条目（成效/问题/计划第N条）及原文证据；疑点列给出数值可疑的原因。"],
    ]


def _cells(ref: ItemRef | None) -> list[Any]:
    return ["", ""] if ref is None else [ref.doc_id, ref.item_label]


def _status(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def _indicator_rows(analysis: Analysis) -> list[list[Any]]:
    rows = []
    for v in analysis.mapped:
        rows.append([
            v.indicator, v.item_area.value, v.region, v.year, v.value, v.unit, "；".join(v.suspicious),
            v.source.record.meta.issuer, *_cells(v.ref), v.name, v.evidence, v.item_text, v.score,
            _status(v.source.status),
        ])  # fmt: skip
    return rows


def _theme_rows(analysis: Analysis) -> list[list[Any]]:
    rows = []
    for theme in analysis.themes:
        reports, regions = theme.report_count, "、".join(theme.regions)
        for p in theme.problems:
            rows.append([
                theme.number, theme.representative, theme.area.value, reports, regions,
                p.source.region, p.source.year, *_cells(p.ref), p.text, p.area.value, p.evidence,
                "是" if p.recurs_from else "", p.recurs_from.label if p.recurs_from else "", _status(p.source.status),
            ])  # fmt: skip
    return rows


def _follow_rows(analysis: Analysis) -> list[list[Any]]:
    rows = []
    for f in analysis.follow:
        m, shown = f.match, f.shown_match
        rows.append([
            m.source.record.meta.issuer, m.source.region, m.next_source.year, *_cells(m.ref), m.plan.text,
            m.plan.area.value, m.plan.evidence, f.verdict, round(m.similarity, 3),
            *(_cells(m.matched_ref) if shown else ["", ""]), shown.text if shown else "",
            shown.evidence if shown else "", _status(m.source.status),
        ])  # fmt: skip
    return rows


def _summary_rows(analysis: Analysis) -> list[list[Any]]:
    return [
        [
            s.indicator.name, s.indicator.area.value, s.indicator.unit, len(s.values), s.covered, s.selected,
            round(s.coverage, 3), s.median, s.low, s.high, s.suspicious_count,
        ]
        for s in analysis.summaries
    ]  # fmt: skip


def _region_year_rows(analysis: Analysis, years: list[int]) -> list[list[Any]]:
    rows = []
    for s in analysis.summaries:
        for region in sorted(s.by_region_year):
            cells = []
            for year in years:
                found = s.by_region_year[region].get(year, [])
                cells.append("、".join(f"{v.value:g}{v.unit}" for v in found) if found else "")
            rows.append([s.indicator.name, region, *cells])
    return rows


def _unmapped_rows(analysis: Analysis) -> list[list[Any]]:
    return [
        [
            v.reason, v.name, v.value, v.unit, "；".join(f"{c.indicator}（{c.score:g}）" for c in v.candidates),
            v.region, v.year, *_cells(v.ref), v.evidence, _status(v.source.status),
        ]
        for v in analysis.values if v.indicator is None
    ]  # fmt: skip


def _rate_rows(analysis: Analysis) -> list[list[Any]]:
    return [
        [
            r.issuer, r.region, r.plan_year, r.plans, r.counts["已落实"], r.counts["部分"], r.counts["未见提及"],
            round(r.done_rate, 3), round(r.progress_rate, 3),
        ]
        for r in analysis.rates
    ]  # fmt: skip


def _sheet(workbook: Any, title: str, header: list[str] | None, rows: list[list[Any]], *, bold: Any) -> None:
    sheet = workbook.add_worksheet(title)
    for column, width in _widths(([header] if header else []) + rows[:_WIDTH_SAMPLE_ROWS]).items():
        sheet.set_column(column, column, width)
    first = 0
    if header:
        sheet.write_row(0, 0, header, bold)
        sheet.freeze_panes(1, 0)
        first = 1
    _write_rows(sheet, rows, first=first)


def _write_rows(sheet: Any, rows: list[list[Any]], *, first: int) -> None:
    """Each value with the writer of its type (write_row's guess at every cell's type was a
    tenth of the workbook's time at 1,000 records); None and "" are left as empty cells."""
    for number, row in enumerate(rows, start=first):
        for column, value in enumerate(row):
            if isinstance(value, str):
                # XML has no place for control characters (PDF text has them).
                text = _CONTROL_CHARACTERS.sub("", value)
                if text:
                    sheet.write_string(number, column, text)
            elif value.__class__ in (int, float):  # not bool, which Excel shows as TRUE/FALSE
                sheet.write_number(number, column, value)
            elif value is not None:
                sheet.write(number, column, value)


def _widths(rows: list[list[Any]]) -> dict[int, int]:
    """Column widths from the longest value (a CJK character is two columns wide), capped."""
    widths: dict[int, int] = {}
    for row in rows[:_WIDTH_SAMPLE_ROWS]:
        for column, value in enumerate(row):
            text = "" if value is None else str(value)
            # A CJK character is 3 bytes in UTF-8 and 2 columns wide; ASCII is 1 and 1.
            width = (len(text.encode("utf-8")) + len(text)) // 2
            widths[column] = max(widths.get(column, 0), width)
    return {column: min(_MAX_WIDTH, max(6, width + 2)) for column, width in widths.items()}
