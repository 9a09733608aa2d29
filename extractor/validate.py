"""Validation stage: checks a record against its source and flags what a reviewer must see.

`validate_record` never drops anything; it adds flags (a metric whose value is not stated
in its evidence, an item with empty text...).
"""

from __future__ import annotations

from extractor.numbers import find_metrics, parse_chinese_number
from extractor.schema import Flag, FlagCode, Metric, Record


def value_in_evidence(metric: Metric) -> bool:
    """True when the metric's value is stated in its evidence (万/亿/%/Chinese numerals understood)."""
    # The plain digits are the common case and cheap to check; then the parser's forms.
    raw = f"{metric.value:.12g}" if isinstance(metric.value, float) else str(metric.value)
    if raw in metric.evidence.replace(",", ""):
        return True
    for match in find_metrics(metric.evidence):
        if _same(match.value, metric.value):
            return True
    parsed = parse_chinese_number(metric.evidence)
    return parsed is not None and _same(parsed, metric.value)


def _same(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def validate_record(record: Record) -> Record:
    """Flag metrics whose value is not in their evidence. Returns the same record."""
    for item in record.achievements:
        for metric in item.metrics:
            if not value_in_evidence(metric):
                detail = f"指标“{metric.name}”的数值 {metric.value:g} 未出现在其证据中"
                if not any(
                    f.code is FlagCode.METRIC_NOT_IN_EVIDENCE and f.detail == detail for f in item.flags
                ):
                    item.flags.append(Flag(code=FlagCode.METRIC_NOT_IN_EVIDENCE, detail=detail))
    return record
