"""From model answers to record items: grounded, flagged, never silently dropped.

- A valid answer: every item carries its evidence span (passage text, exact by construction,
  or an aligned quote) and metric spans; a fuzzy quote is flagged FUZZY_ALIGNMENT.
- No valid answer after the re-asks: the best answer received is parsed for shape only and
  its items kept, each failing one flagged VALIDATION_FAILED (and UNALIGNED / METRIC_NOT_IN_EVIDENCE).
- No usable answer at all: the rules backend's items of that chunk, flagged SECTION_FALLBACK.
"""

from __future__ import annotations

from typing import Any

from instructor.utils import extract_json_from_codeblock
from pydantic import BaseModel, ValidationError

from extractor.check.align import alignment_flag
from extractor.core.schema import (
    Achievement,
    AlignmentStatus,
    Flag,
    FlagCode,
    Item,
    ListName,
    Metric,
    Plan,
    Problem,
    Record,
)
from extractor.extract.llm.chunks import Chunk
from extractor.extract.llm.response_models import (
    FreeExtraction,
    GroundingContext,
    ItemOut,
    SectionExtraction,
    item_problems,
    metric_problems,
    resolve_evidence,
)
from extractor.extract.llm.settings import LLMMode

ItemsByList = dict[ListName, list[Item]]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _alignment_flags(status: AlignmentStatus, what: str) -> list[Flag]:
    flag = alignment_flag(status, what)
    return [flag] if flag is not None else []


def convert_item(
    item: ItemOut, list_name: ListName, ctx: GroundingContext, *, failed_note: str | None
) -> Item:
    """One answer item as a record item; problems (salvage only) become flags, not drops."""
    evidence, problems = resolve_evidence(item, ctx)
    flags = _alignment_flags(evidence.alignment, "evidence")
    if list_name is ListName.ACHIEVEMENTS:
        metrics = []
        for m in item.metrics:
            span, status = ctx.align(m.evidence)
            metrics.append(
                Metric(
                    name=m.name,
                    value=_number(m.value),
                    unit=m.unit,
                    evidence=m.evidence,
                    span=span,
                    alignment=status,
                )
            )
            for problem in metric_problems(m, evidence, ctx):
                flags.append(Flag(code=FlagCode.METRIC_NOT_IN_EVIDENCE, detail=problem))
        common = {"area": item.area, "text": item.text, "evidence": evidence.text}
        result: Item = Achievement(**common, metrics=metrics)
    elif list_name is ListName.PROBLEMS:
        result = Problem(area=item.area, text=item.text, evidence=evidence.text, cause=item.cause or None)
    else:
        result = Plan(area=item.area, text=item.text, evidence=evidence.text)
    if problems and failed_note is not None:
        flags.append(Flag(code=FlagCode.VALIDATION_FAILED, detail=f"{failed_note}: {'；'.join(problems)}"))
    result.span, result.alignment, result.flags = evidence.span, evidence.alignment, flags
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
        list_name = getattr(item, "kind", None) or chunk.list_name
        if list_name is None:
            continue  # unreachable: free items always name their list (schema requires it)
        out[ListName(list_name)].append(convert_item(item, ListName(list_name), ctx, failed_note=failed_note))
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
        good = sum(1 for item in getattr(parsed, "items", []) if not item_problems(item, ctx))
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
