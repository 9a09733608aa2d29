"""Applying a reviewer's edits to one item or to the report's meta (pure functions).

Every edited evidence passage is located in the report again (exact, then fuzzy; a fuzzy
match is replaced by the report's own text), so an edited record stays grounded. An edit
that cannot be applied raises ReviewInputError and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from extractor.check.align import SourceIndex
from extractor.check.record import FindingKind, check_metric
from extractor.core.normalise import matching_key
from extractor.core.schema import (
    Achievement,
    AlignmentStatus,
    Area,
    Item,
    ListName,
    Meta,
    Metric,
    Period,
    Plan,
    Problem,
)
from extractor.extract.rules.backend import item_from_passage
from extractor.review.errors import ReviewInputError
from extractor.review.locate import LocatedPassage, locate_passage, located_note

#: Columns of the metrics table, in order.
METRIC_COLUMNS = ("name", "value", "unit", "evidence")
METRIC_COLUMN_LABELS = {"name": "名称", "value": "数值", "unit": "单位", "evidence": "证据"}
PERIOD_LABELS: dict[Period | None, str] = {None: "未填", Period.ANNUAL: "全年", Period.HALF_YEAR: "半年"}
_YEAR_RANGE = range(1949, 2101)


class ItemEdit(BaseModel):
    """What a reviewer set on an item; a None field is left as it is.

    `cause=""` clears a problem's cause. `metrics` (achievements only) replaces the whole
    metric list with the rows of the edited table (see `metrics_from_rows`).
    """

    model_config = ConfigDict(frozen=True)

    area: Area | None = None
    text: str | None = None
    evidence: str | None = None
    cause: str | None = None
    metrics: list[dict[str, Any]] | None = None


class EditResult(BaseModel):
    """The edited item (a new object), whether its content changed, and notes for the reviewer."""

    item: Achievement | Problem | Plan
    changed: bool
    notes: list[str] = []


def apply_edit(item: Item, edit: ItemEdit, *, index: SourceIndex) -> EditResult:
    """`item` with `edit` applied. Evidence is re-located in the report; metrics are rebuilt
    from the table rows. Raises ReviewInputError (Chinese message) for an empty summary, a
    passage not in the report, or a bad metric row."""
    update: dict[str, Any] = {}
    notes: list[str] = []
    if edit.area is not None:
        update["area"] = Area(edit.area)
    if edit.text is not None:
        if not edit.text.strip():
            raise ReviewInputError("摘要不能为空。")
        update["text"] = edit.text.strip()
    if edit.evidence is not None and matching_key(edit.evidence) != matching_key(item.evidence):
        located = locate_passage(index, edit.evidence, near=item.span.start if item.span else 0)
        update.update(evidence=located.evidence, span=located.span, alignment=AlignmentStatus.EXACT)
        notes.extend(n for n in [located_note(located)] if n)
    if edit.cause is not None:
        if not isinstance(item, Problem):
            raise ReviewInputError("只有「存在不足」的条目才有原因。")
        update["cause"] = edit.cause.strip() or None
    if edit.metrics is not None:
        if not isinstance(item, Achievement):
            raise ReviewInputError("只有「主要成效」的条目才有指标。")
        near = update.get("span", item.span)
        metrics, metric_notes = metrics_from_rows(
            edit.metrics, index=index, near=near.start if near else 0, previous=item.metrics
        )
        update["metrics"] = metrics
        notes.extend(metric_notes)
    edited = item.model_copy(update=update)
    return EditResult(item=edited, changed=content_of(edited) != content_of(item), notes=notes)


def content_of(item: Item) -> dict[str, Any]:
    """What a reviewer can change on an item (its spec fields), for comparisons."""
    return item.model_dump(mode="json", exclude={"flags", "span", "alignment", "confidence", "needs_review"})


def resolved(item: Item) -> Item:
    """`item` with the pipeline's flags and rating cleared: a reviewer's decision resolves them."""
    if not item.flags and item.confidence is None and not item.needs_review:
        return item
    return item.model_copy(update={"flags": [], "confidence": None, "needs_review": False})


# -- metrics table ------------------------------------------------------------------------


def metric_rows(item: Item) -> list[dict[str, Any]]:
    """The metrics of an achievement as table rows (empty for problems and plans)."""
    return [
        {"name": m.name, "value": m.value, "unit": m.unit, "evidence": m.evidence}
        for m in getattr(item, "metrics", [])
    ]


def metrics_from_rows(
    rows: Sequence[Mapping[str, Any]],
    *,
    index: SourceIndex,
    near: int = 0,
    previous: Sequence[Metric] = (),
) -> tuple[list[Metric], list[str]]:
    """Metrics from the edited table: blank rows are dropped; every other row needs a name,
    a number, a unit and an evidence passage found in the report. A row equal to a previous
    metric keeps that metric (and its span). Returns the metrics and notes (fuzzy matches
    replaced, values not stated in their evidence)."""
    kept = {_metric_key(m): m for m in previous}
    metrics: list[Metric] = []
    notes: list[str] = []
    for number, row in enumerate(rows, start=1):
        cells = {column: _cell(row.get(column)) for column in METRIC_COLUMNS}
        if all(value is None for value in cells.values()):
            continue
        missing = [METRIC_COLUMN_LABELS[c] for c, v in cells.items() if v is None]
        if missing:
            raise ReviewInputError(f"指标第{number}行缺少：{'、'.join(missing)}。")
        value = _number(cells["value"], row_number=number)
        name, unit, evidence = str(cells["name"]), str(cells["unit"]), str(cells["evidence"])
        previous_metric = kept.get((name, float(value), unit, matching_key(evidence)))
        if previous_metric is not None:
            metrics.append(previous_metric)
            continue
        try:
            located: LocatedPassage = locate_passage(index, evidence, near=near)
        except ReviewInputError as e:
            raise ReviewInputError(f"指标第{number}行：{e.message}") from e
        notes.extend(f"指标第{number}行：{n}" for n in [located_note(located)] if n)
        metric = Metric(name=name, value=value, unit=unit, evidence=located.evidence, span=located.span)
        # The check stage judges the row (its item's evidence may be edited too: not judged here).
        findings = check_metric(metric, index=index, item_evidence=None, near=near)
        if any(f.kind is FindingKind.VALUE_NOT_STATED for f in findings):
            notes.append(f"指标第{number}行：数值 {value:g} 没有出现在证据「{located.evidence}」中，请核对。")
        metrics.append(metric)
    return metrics, notes


def _metric_key(metric: Metric) -> tuple[str, float, str, str]:
    return (metric.name, float(metric.value), metric.unit, matching_key(metric.evidence))


def _cell(value: Any) -> Any:
    """A table cell with blanks (None, NaN, pandas NA, empty text) as None; text stripped."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return value.strip() or None
    return value


def _number(value: Any, *, row_number: int) -> int | float:
    try:
        number = (
            float(str(value).replace(",", "").replace("，", "")) if isinstance(value, str) else float(value)
        )
    except (TypeError, ValueError) as e:
        raise ReviewInputError(f"指标第{row_number}行：数值「{value}」不是数字。") from e
    if not math.isfinite(number):
        raise ReviewInputError(f"指标第{row_number}行：数值「{value}」不是数字。")
    return int(number) if number.is_integer() else number


# -- meta -----------------------------------------------------------------------------------


def meta_from_form(
    *,
    issuer: str,
    region: str,
    report_year: str,
    period: str,
    plan_year: str,
    publish_date: str,
) -> Meta:
    """The report's meta from the form's text fields (empty means unknown). `period` is a
    label of PERIOD_LABELS. Raises ReviewInputError for a bad year or date."""
    periods = {label: code for code, label in PERIOD_LABELS.items()}
    if period not in periods:
        raise ReviewInputError(f"期间「{period}」无效，应为：{'、'.join(periods)}。")
    return Meta(
        issuer=issuer.strip() or None,
        region=region.strip() or None,
        report_year=_year(report_year, "报告年度"),
        period=periods[period],
        plan_year=_year(plan_year, "计划年度"),
        publish_date=_date(publish_date),
    )


def _year(text: str, label: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or int(text) not in _YEAR_RANGE:
        raise ReviewInputError(f"{label}「{text}」应为四位年份，例如 2024。")
    return int(text)


def _date(text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise ReviewInputError(f"发布日期「{text}」应写成 2024-03-31 的格式。") from e


# -- a missed item ------------------------------------------------------------------------------


def item_from_located(source_text: str, located: LocatedPassage, list_name: ListName) -> Item:
    """A new item for a located passage, pre-filled by the rules backend (area, summary,
    metrics), with the located verbatim passage as its evidence and no flags."""
    prefilled = item_from_passage(source_text, located.span, list_name)
    return prefilled.model_copy(
        update={
            "evidence": located.evidence,
            "span": located.span,
            "alignment": AlignmentStatus.EXACT,
            "flags": [],
        }
    )
