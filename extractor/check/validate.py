"""Validation stage: checks a record against its source and flags what a reviewer must see.

`validate_record` never drops anything; it adds flags (a metric whose value is not stated
in its evidence, an item with empty text...).
"""

from __future__ import annotations

from extractor.core.schema import Flag, FlagCode, Record
from extractor.numbers.stated import value_in_text


def validate_record(record: Record) -> Record:
    """Flag metrics whose value is not in their evidence. Returns the same record."""
    for item in record.achievements:
        for metric in item.metrics:
            if not value_in_text(metric.value, metric.evidence):
                detail = f"指标“{metric.name}”的数值 {metric.value:g} 未出现在其证据中"
                # The LLM backend may have flagged the same metric while parsing.
                if not any(
                    f.code is FlagCode.METRIC_NOT_IN_EVIDENCE and metric.name in f.detail for f in item.flags
                ):
                    item.flags.append(Flag(code=FlagCode.METRIC_NOT_IN_EVIDENCE, detail=detail))
    return record
