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

from extractor.core.schema import Flag, FlagCode, Item, ListName, Record
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
    chunk: Chunk,
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
    raw_answers: list[Any], response_model: type[BaseModel], ctx: GroundingContext, mode: LLMMode
) -> BaseModel | None:
    """The answer with the most acceptable items among those that parse (latest wins ties).

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
        good = sum(1 for item in getattr(parsed, "items", []) if not answer_item(item, ctx)[1])
        if best is None or (good, order) >= (best[0], best[1]):
            best = (good, order, parsed)
    return best[2] if best else None


def rules_fallback(rules_record: Record, chunk: Chunk, reason: str) -> ItemsByList:
    """The rules backend's items lying in this chunk, copied and flagged SECTION_FALLBACK."""
    out: ItemsByList = {name: [] for name in ListName}
    lists = [chunk.list_name] if chunk.list_name is not None else list(ListName)
    for list_name in lists:
        for item in rules_record.items(list_name):
            if item.span is None or not chunk.bounds.start <= item.span.start < chunk.bounds.end:
                continue
            copy = item.model_copy(deep=True)
            copy.flags.append(Flag(code=FlagCode.SECTION_FALLBACK, detail=f"model call failed: {reason}"))
            out[list_name].append(copy)
    return out
