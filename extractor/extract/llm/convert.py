"""From model answers to record items: grounded, flagged, never silently dropped.

- A valid answer: every item is what `grounding.answer_item` built and checked: its evidence
  span (passage text or an aligned quote), metric spans and the check's flags.
- No valid answer after the re-asks: the best answer received is parsed for shape only and
  its items kept, each failing one flagged VALIDATION_FAILED (and UNALIGNED / METRIC_NOT_IN_EVIDENCE).
- No usable answer at all: the rules backend's items of that chunk, flagged SECTION_FALLBACK.
"""

from __future__ import annotations

from typing import Any

from instructor.utils import extract_json_from_codeblock
from pydantic import BaseModel, ValidationError

from extractor.core.schema import (
    Achievement,
    Flag,
    FlagCode,
    Item,
    LeftOutItem,
    ListName,
    Plan,
    Problem,
    Record,
)
from extractor.extract.llm.chunks import Chunk
from extractor.extract.llm.grounding import GroundingContext, answer_item, list_of
from extractor.extract.llm.response_models import FreeExtraction, ItemOut, SectionExtraction
from extractor.extract.llm.settings import LLMMode

ItemsByList = dict[ListName, list[Item]]


def convert_item(item: ItemOut, ctx: GroundingContext, *, failed_note: str | None) -> Item:
    """One answer item as a record item, as the check located and flagged it; its problems
    (salvage only: a valid answer has none) become a VALIDATION_FAILED flag, not a drop."""
    result, problems = answer_item(item, ctx)
    if problems and failed_note is not None:
        result.flags.append(
            Flag(code=FlagCode.VALIDATION_FAILED, detail=f"{failed_note}: {'；'.join(problems)}")
        )
    return result


def items_from_answer(
    answer: SectionExtraction | FreeExtraction,
    ctx: GroundingContext,
    *,
    failed_note: str | None = None,
) -> ItemsByList:
    """Record items of one chunk's answer, in answer order, grouped by list."""
    out: ItemsByList = {name: [] for name in ListName}
    for item in answer.items:
        list_name = list_of(item, ctx)
        if list_name is None:
            continue  # unreachable: free items always name their list (schema requires it)
        out[list_name].append(convert_item(item, ctx, failed_note=failed_note))
    return out


def _answer_json(raw: Any, mode: LLMMode) -> str | None:
    choices = getattr(raw, "choices", None) or []
    if not choices:
        return None
    message = choices[0].message
    if mode is LLMMode.TOOLS:
        calls = getattr(message, "tool_calls", None) or []
        return calls[0].function.arguments if calls else None
    content = message.content or ""
    try:
        return extract_json_from_codeblock(content)
    except ValueError:
        return None


def best_salvage(
    raw_answers: list[Any], response_model: type[BaseModel], ctx: GroundingContext | None, mode: LLMMode
) -> BaseModel | None:
    """The answer with the most acceptable items among those that parse (latest wins ties);
    without `ctx` (an answer with no items, e.g. meta), the latest that parses.

    Parsed without validation context: only the shape is checked, grounding is judged here.
    """
    best: tuple[int, int, BaseModel] | None = None
    for order, raw in enumerate(raw_answers):
        text = _answer_json(raw, mode)
        if not text:
            continue
        try:
            parsed = response_model.model_validate_json(text)
        except ValidationError:
            continue
        items = getattr(parsed, "items", [])
        good = 0 if ctx is None else sum(1 for item in items if not answer_item(item, ctx)[1])
        if best is None or (good, order) >= (best[0], best[1]):
            best = (good, order, parsed)
    return best[2] if best else None


def as_list_item(item: Item, list_name: ListName) -> Item:
    """A copy of `item` as an item of `list_name` (a point the outline moved to another kind)."""
    common = item.model_dump(include={"area", "text", "evidence", "span", "alignment", "flags"})
    if list_name is ListName.ACHIEVEMENTS:
        return Achievement(**common, metrics=getattr(item, "metrics", []))
    if list_name is ListName.PROBLEMS:
        return Problem(**common, cause=getattr(item, "cause", None))
    return Plan(**common)


def rules_fallback(rules_record: Record, chunk: Chunk, reason: str) -> ItemsByList:
    """The rules backend's items starting in this chunk, copied and flagged SECTION_FALLBACK.

    In a section of a known kind they take that kind (the outline may have re-kinded the
    section the rules read as another); in free mode each keeps its own list.
    """
    out: ItemsByList = {name: [] for name in ListName}
    for list_name in ListName:
        for item in rules_record.items(list_name):
            if item.span is None or not chunk.bounds.start <= item.span.start < chunk.bounds.end:
                continue
            target = chunk.list_name or list_name
            copy = as_list_item(item.model_copy(deep=True), target)
            copy.flags.append(Flag(code=FlagCode.SECTION_FALLBACK, detail=f"model call failed: {reason}"))
            out[target].append(copy)
    return out


#: A rules item counts as kept when final items cover at least this share of its span.
KEPT_COVERAGE = 0.5


def left_out_items(record: Record, rules_record: Record) -> list[LeftOutItem]:
    """Rules items the final record does not cover (each flagged MODEL_LEFT_OUT)."""
    covered = sorted(
        (item.span.start, item.span.end)
        for name in ListName
        for item in record.items(name)
        if item.span is not None
    )
    left: list[LeftOutItem] = []
    for list_name in ListName:
        for item in rules_record.items(list_name):
            if item.span is None or item.span.end <= item.span.start:
                continue
            inside = sum(
                max(0, min(end, item.span.end) - max(start, item.span.start)) for start, end in covered
            )
            if inside / (item.span.end - item.span.start) >= KEPT_COVERAGE:
                continue
            copy = item.model_copy(deep=True)
            copy.flags.append(Flag(code=FlagCode.MODEL_LEFT_OUT, detail="规则发现、模型未采纳"))
            left.append(LeftOutItem(list_name=list_name, item=copy))
    return left


def mark_outline_changes(record: Record, changed: dict[int, str]) -> None:
    """Flag OUTLINE_CHANGED on items whose point the outline call created or re-kinded."""
    if not changed:
        return
    for name in ListName:
        for item in record.items(name):
            if item.span is not None and item.span.start in changed:
                detail = "模型调整了类别" if changed[item.span.start] == "kind" else "模型调整了条目边界"
                item.flags.append(Flag(code=FlagCode.OUTLINE_CHANGED, detail=detail))
