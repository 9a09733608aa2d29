"""Grounding re-checked at save time: a saved record never claims more than the source says.

A reviewer's decision clears the pipeline's flags, and a record can reach `save_review`
from anywhere (the review page, a script); so every save runs the one grounding check
(`extractor.check.record.check_item`) again: spans and alignment are recomputed from the
source (invented evidence is never stored as "exact"), the grounding flags are replaced
by what the check finds now, and the problems that make a record wrong are listed with a
Chinese reason. Approving a record with such a problem needs an explicit override.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from extractor.check.align import SourceIndex
from extractor.check.record import FindingKind, ItemCheck, check_item, short
from extractor.core.errors import StoreError
from extractor.core.labels import LIST_LABELS
from extractor.core.schema import FlagCode, Item, ListName, Record

#: Flags the grounding check owns: recomputed on every save, never carried over.
GROUNDING_FLAGS = frozenset({FlagCode.UNALIGNED, FlagCode.FUZZY_ALIGNMENT, FlagCode.METRIC_NOT_IN_EVIDENCE})
#: Findings that make a record wrong (not merely worth a look): they block 已通过.
BLOCKING_FINDINGS = frozenset(
    {FindingKind.EVIDENCE_UNALIGNED, FindingKind.METRIC_UNALIGNED, FindingKind.VALUE_NOT_STATED}
)


class UngroundedApprovalError(StoreError):
    """An approval of a record whose evidence or numbers the source does not bear out."""


@dataclass(frozen=True, slots=True)
class GroundingProblem:
    """A blocking problem of the item at `list_name[position]` (`path`), in Chinese."""

    list_name: ListName
    position: int
    reason: str

    @property
    def path(self) -> str:
        return item_path(self.list_name, self.position)


def item_path(list_name: ListName, position: int) -> str:
    """The item's path as diffs and overrides name it: `achievements[0]`."""
    return f"{ListName(list_name).value}[{position}]"


def blocking_reasons(check: ItemCheck) -> list[str]:
    """Why the checked item may not be approved as it is (Chinese), [] if nothing blocks."""
    item = check.item
    reasons: list[str] = []
    if FindingKind.EVIDENCE_UNALIGNED in check.of_metric(None):
        reasons.append(f"证据「{short(item.evidence, 30)}」在原文中找不到")
    for position, metric in enumerate(getattr(item, "metrics", [])):
        kinds = check.of_metric(position)
        if FindingKind.METRIC_UNALIGNED in kinds:
            reasons.append(
                f"指标「{short(metric.name, 20)}」的证据「{short(metric.evidence, 30)}」在原文中找不到"
            )
        if FindingKind.VALUE_NOT_STATED in kinds and check.metric_grounded(position):
            reasons.append(
                f"指标「{short(metric.name, 20)}」的数值 {metric.value:g} 没有出现在其证据「{short(metric.evidence, 30)}」中"
            )
    return reasons


def recheck_item(item: Item, index: SourceIndex) -> tuple[Item, list[str]]:
    """A copy of `item` with spans, alignment and grounding flags as the source says now,
    and the reasons (Chinese) that block approving it. Other flags are kept."""
    checked = item.model_copy(deep=True)
    check = check_item(checked, index)
    kept = [f for f in checked.flags if f.code not in GROUNDING_FLAGS]
    checked.flags = kept + check.flags()
    return checked, blocking_reasons(check)


def recheck_record(record: Record, source: str | SourceIndex) -> tuple[Record, list[GroundingProblem]]:
    """`record` re-grounded against `source` (a copy) and its blocking problems."""
    index = source if isinstance(source, SourceIndex) else SourceIndex(source)
    lists: dict[str, list[Item]] = {}
    problems: list[GroundingProblem] = []
    for list_name in ListName:
        checked_items: list[Item] = []
        items: Sequence[Item] = record.items(list_name)
        for position, item in enumerate(items):
            checked, reasons = recheck_item(item, index)
            checked_items.append(checked)
            problems.extend(GroundingProblem(list_name, position, reason) for reason in reasons)
        lists[list_name.value] = checked_items
    return record.model_copy(update=lists), problems


def refuse_ungrounded_approval(
    problems: list[GroundingProblem], *, overridden: Collection[str], source: str
) -> None:
    """Raise UngroundedApprovalError if a problem's item is not among the `overridden` paths."""
    open_problems = [p for p in problems if p.path not in overridden]
    if not open_problems:
        return
    shown = "；".join(
        f"{LIST_LABELS[p.list_name]}第{p.position + 1}条：{p.reason}" for p in open_problems[:5]
    )
    more = f"（另有 {len(open_problems) - 5} 处）" if len(open_problems) > 5 else ""
    raise UngroundedApprovalError(
        f"不能标记为「已通过」：{shown}{more}。请改正，或写明理由后强行通过。", source=source
    )
