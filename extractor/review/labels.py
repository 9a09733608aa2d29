"""Reviewers' decisions and their labels, and the review screen's helpers over the shared
label table (`extractor.core.labels`: lists, statuses, flags)."""

from __future__ import annotations

from enum import StrEnum

from extractor.core.labels import FLAG_LABELS, NO_RECORD_LABEL, STATUS_LABELS
from extractor.core.schema import Flag, FlagCode


class Decision(StrEnum):
    """A reviewer's decision on one item."""

    ACCEPTED = "accepted"  # kept as extracted
    FIXED = "fixed"  # kept, with the reviewer's corrections
    REJECTED = "rejected"  # not an item: left out of the saved record
    ADDED = "added"  # a missed item the reviewer added from the source


DECISION_LABELS: dict[Decision | None, str] = {
    None: "未审核",
    Decision.ACCEPTED: "已接受",
    Decision.FIXED: "已修改",
    Decision.REJECTED: "已退回",
    Decision.ADDED: "新增",
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
