"""Chinese labels the review screen shows for the record's codes (statuses, lists, flags).

The codes stay English in the data; only these tables translate them for reviewers.
"""

from __future__ import annotations

from enum import StrEnum

from extractor.core.schema import Flag, FlagCode, ListName


class Decision(StrEnum):
    """A reviewer's decision on one item."""

    ACCEPTED = "accepted"  # kept as extracted
    FIXED = "fixed"  # kept, with the reviewer's corrections
    REJECTED = "rejected"  # not an item: left out of the saved record
    ADDED = "added"  # a missed item the reviewer added from the source


STATUS_LABELS: dict[str, str] = {
    "pending": "待审核",
    "in_review": "审核中",
    "approved": "已通过",
    "rejected": "已退回",
}
#: Shown for a stored document that has no record yet.
NO_RECORD_LABEL = "无记录"

LIST_LABELS: dict[ListName, str] = {
    ListName.ACHIEVEMENTS: "主要成效",
    ListName.PROBLEMS: "存在不足",
    ListName.PLANS: "下步计划",
}
#: Short names used in the source highlight legend.
LIST_SHORT_LABELS: dict[ListName, str] = {
    ListName.ACHIEVEMENTS: "成效",
    ListName.PROBLEMS: "不足",
    ListName.PLANS: "计划",
}

DECISION_LABELS: dict[Decision | None, str] = {
    None: "未审核",
    Decision.ACCEPTED: "已接受",
    Decision.FIXED: "已修改",
    Decision.REJECTED: "已退回",
    Decision.ADDED: "新增",
}

FLAG_LABELS: dict[FlagCode, str] = {
    FlagCode.UNALIGNED: "证据未在原文中找到",
    FlagCode.FUZZY_ALIGNMENT: "证据与原文仅近似匹配",
    FlagCode.METRIC_NOT_IN_EVIDENCE: "指标数值不在其证据中",
    FlagCode.SECTION_FALLBACK: "未找到明确的章节标题，按推测归类",
    FlagCode.AREA_DISAGREES: "规则与模型判断的领域不一致",
    FlagCode.BOUNDARY_DISAGREES: "规则与模型划分的条目边界不一致",
    FlagCode.METRICS_DISAGREE: "规则与模型抽取的指标不一致",
    FlagCode.VALIDATION_FAILED: "校验未通过",
    FlagCode.OCR_TEXT: "原文来自OCR识别，可能有错字",
}


def status_label(status: str | None) -> str:
    """The Chinese label of a review status (无记录 for None)."""
    return NO_RECORD_LABEL if status is None else STATUS_LABELS.get(status, status)


def status_from_label(label: str) -> str:
    """The status code of a Chinese label (inverse of `status_label`)."""
    for code, text in STATUS_LABELS.items():
        if text == label:
            return code
    raise KeyError(label)


def flag_reasons(flags: list[Flag]) -> list[str]:
    """One Chinese reason per distinct flag code, in the order first seen."""
    seen: dict[FlagCode, None] = {}
    for flag in flags:
        seen.setdefault(flag.code, None)
    return [FLAG_LABELS.get(code, code.value) for code in seen]
