"""The model decides the report's structure: one compact outline call before the section calls.

The outline call shows the report as numbered paragraphs (short lines whole, others by their
opening, their length and the enumeration markers inside them) with the segmenter's proposal
in the answer's own shape; the model returns the sections (kind, heading, first and last
paragraph) and where each leaf point starts. `apply_outline` turns that answer into the
`SegmentedReport` the section calls follow; the segmenter's output stays the proposal and the
fallback (an outline call that fails leaves the segmenter's structure in place).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from extractor.check.align import align_quote
from extractor.core.schema import AlignmentStatus, Span
from extractor.segment.model import Point, Section, SectionKind, SegmentedReport
from extractor.segment.paragraphs import split_paragraphs

OUTLINE_CONTEXT_KEY = "outline"
#: A paragraph up to this many characters is shown whole (titles, headings, short points).
WHOLE_PARAGRAPH_CHARS = 48
#: Characters of a longer paragraph's opening, and of the text after an inner marker.
OPENING_CHARS = 36
MARKER_CONTEXT_CHARS = 10
_INNER_MARKER = re.compile(
    r"(?<![\d一二三四五六七八九十])(?:[一二三四五六七八九十]{1,3}是|第[一二三四五六七八九十]{1,3}[,，、是]"
    r"|[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]|[(（][一二三四五六七八九十\d]{1,3}[)）]|(?<![\d.])\d{1,2}[、.．](?!\d))"
)
_YEAR = re.compile(r"(20\d\d)\s*年")
_SENTENCE_END = "。；;！!？?"


class OutlineKind(StrEnum):
    ACHIEVEMENTS = "achievements"
    PROBLEMS = "problems"
    PLANS = "plans"
    CAUSES = "causes"
    OTHER = "other"


class OutlineLeaf(BaseModel):
    """要点的起点。"""

    model_config = ConfigDict(extra="ignore")

    paragraph: int = Field(description="要点所在段落编号")
    opening: str | None = Field(
        default=None,
        description="要点从段落中间开始时（如段内的“二是…”）：该处开头的几个字，逐字照抄；从段首开始则为 null",
    )


class OutlineSection(BaseModel):
    """报告的一个部分。"""

    model_config = ConfigDict(extra="ignore")

    kind: OutlineKind = Field(
        description="achievements 工作成效（含第一责任人履职）/ problems 存在的问题 / plans 下一步计划 / "
        "causes 单独的原因分析 / other 其他（导语、结语、落款等）"
    )
    heading: int | None = Field(default=None, description="该部分标题所在段落编号；没有标题则为 null")
    first: int = Field(description="正文第一个段落编号（不含标题）")
    last: int = Field(description="正文最后一个段落编号")
    # The answer writes leaves compactly (see _leaf_from_compact); the schema says so, and the
    # validator turns each into an OutlineLeaf.
    leaves: Annotated[
        list[OutlineLeaf] | None,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]}},
                    {"type": "null"},
                ],
                "default": None,
                "description": "该部分每个最低层级要点的起点，按顺序：段首开始写段落编号（如 5），"
                '段中开始写 "段落编号:开头几个字"（如 "8:二是加强执法"）；与分段建议中该范围内的要点相同时省略',
            }
        ),
    ] = None

    @field_validator("leaves", mode="before")
    @classmethod
    def _bare_paragraphs(cls, value: Any) -> Any:
        # Compact forms: 5 → {"paragraph": 5}; "8:二是加强" → {"paragraph": 8, "opening": "二是加强"}.
        if not isinstance(value, list):
            return value
        return [_leaf_from_compact(v) for v in value]


_COMPACT_LEAF = re.compile(r"\s*\[?(\d+)\]?\s*(?:[:：]\s*(.*))?", re.S)


def _leaf_from_compact(value: Any) -> Any:
    if isinstance(value, int):
        return {"paragraph": value}
    if isinstance(value, str) and (m := _COMPACT_LEAF.fullmatch(value)):
        return {"paragraph": int(m.group(1)), "opening": m.group(2) or None}
    return value


class OutlineOut(BaseModel):
    """报告的结构。"""

    model_config = ConfigDict(extra="ignore")

    sections: list[OutlineSection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        context = info.context if isinstance(info.context, dict) else {}
        ctx = context.get(OUTLINE_CONTEXT_KEY)
        if isinstance(ctx, OutlineContext):
            problems = outline_problems(self, ctx)
            if problems:
                raise ValueError("；".join(problems[:8]))
        return self


@dataclass(frozen=True, slots=True)
class OutlineContext:
    """The paragraphs one outline call showed (numbered from 1), for checking its answer."""

    doc_text: str
    paragraphs: tuple[Span, ...]

    def paragraph(self, number: int) -> Span:
        return self.paragraphs[number - 1]

    def has(self, number: int) -> bool:
        return 1 <= number <= len(self.paragraphs)

    def leaf_start(self, leaf: OutlineLeaf) -> int | None:
        """Offset where `leaf` starts in the document, or None when its opening is not there."""
        span = self.paragraph(leaf.paragraph)
        if not leaf.opening or not leaf.opening.strip():
            return span.start
        found = align_quote(self.doc_text[span.start : span.end], leaf.opening.strip())
        return (
            span.start + found.span.start
            if found.span is not None and found.status is AlignmentStatus.EXACT
            else None
        )


def paragraph_spans(text: str) -> tuple[Span, ...]:
    """The segmenter's logical paragraphs (page furniture and chrome left out) as spans."""
    return tuple(Span(start=p.start, end=p.end) for p in split_paragraphs(text))


def outline_problems(answer: OutlineOut, ctx: OutlineContext) -> list[str]:
    """Every reason `answer` cannot be followed (empty: it can)."""
    problems: list[str] = []
    previous_last = 0
    for number, section in enumerate(answer.sections, start=1):
        where = f"第{number}部分"
        refs = [section.first, section.last] + ([section.heading] if section.heading else [])
        bad = [n for n in refs + [leaf.paragraph for leaf in section.leaves or []] if not ctx.has(n)]
        if bad:
            problems.append(f"{where}引用了不存在的段落 {sorted(set(bad))} / paragraph numbers out of range")
            continue
        if section.first > section.last:
            problems.append(f"{where}的 first 大于 last / first must not exceed last")
        if section.first <= previous_last:
            problems.append(f"{where}与前一部分重叠或顺序颠倒 / sections must be in order and not overlap")
        previous_last = max(previous_last, section.last)
        for leaf in section.leaves or []:
            if not section.first <= leaf.paragraph <= section.last:
                problems.append(
                    f"{where}的要点起点 [{leaf.paragraph}] 不在该部分内 / leaf outside its section"
                )
            elif ctx.leaf_start(leaf) is None:
                problems.append(
                    f"段落 [{leaf.paragraph}] 中找不到开头「{(leaf.opening or '')[:20]}」，请逐字照抄 / "
                    "opening not found verbatim in that paragraph"
                )
    return problems


def _paragraph_of(spans: tuple[Span, ...], offset: int) -> int:
    """1-based number of the paragraph holding `offset` (the next one if it falls between)."""
    for number, span in enumerate(spans, start=1):
        if offset < span.end:
            return number
    return len(spans)


def proposal_from_segments(segmented: SegmentedReport, ctx: OutlineContext) -> OutlineOut:
    """The segmenter's structure in the outline answer's shape (what the model may correct)."""
    sections: list[OutlineSection] = []
    for section in segmented.sections:
        if section.span.end <= section.span.start:
            continue
        first = _paragraph_of(ctx.paragraphs, section.span.start)
        last = _paragraph_of(ctx.paragraphs, max(section.span.start, section.span.end - 1))
        if sections and first <= sections[-1].last:
            continue  # an overlapping section (run-in label inside a paragraph): keep the first
        heading = _paragraph_of(ctx.paragraphs, section.heading_span.start) if section.heading_span else None
        leaves = []
        for point in section.points:
            number = _paragraph_of(ctx.paragraphs, point.span.start)
            at_start = point.span.start <= ctx.paragraph(number).start
            opening = None if at_start else _shown(ctx.doc_text[point.span.start : point.span.start + 12])[:8]
            leaves.append(OutlineLeaf(paragraph=number, opening=opening))
        sections.append(
            OutlineSection(
                kind=OutlineKind(section.kind.value),
                heading=heading if heading is not None and heading < first else None,
                first=first,
                last=last,
                leaves=leaves,
            )
        )
    return OutlineOut(sections=sections)


def render_paragraphs(ctx: OutlineContext) -> str:
    """The numbered paragraph list the outline call shows."""
    lines = []
    for number, span in enumerate(ctx.paragraphs, start=1):
        text = _shown(ctx.doc_text[span.start : span.end])
        if len(text) <= WHOLE_PARAGRAPH_CHARS:
            lines.append(f"[{number}] {text}")
            continue
        inner = [
            text[m.start() : m.start() + MARKER_CONTEXT_CHARS]
            for m in _INNER_MARKER.finditer(text)
            if m.start() >= 2
        ]
        shown = f"[{number}] {text[:OPENING_CHARS]}…（共{len(text)}字）"
        if inner:
            shown += " 段内：" + " ".join(f"「{piece}」" for piece in inner[:12])
        lines.append(shown)
    return "\n".join(lines)


def _shown(text: str) -> str:
    """Text as the outline call shows it: without line breaks or spaces (hard-wrapped copies
    break lines mid-word; matching ignores white space, so openings still align)."""
    return re.sub(r"\s+", "", text)


def render_proposal(proposal: OutlineOut) -> str:
    """The proposal as JSON in the answer's compact form: a leaf at a paragraph's start as its
    bare number, one inside a paragraph as "number:opening"."""
    data = proposal.model_dump(mode="json", exclude_none=True)
    for section in data["sections"]:
        section["leaves"] = [
            f"{leaf['paragraph']}:{leaf['opening']}" if leaf.get("opening") else leaf["paragraph"]
            for leaf in section.get("leaves", [])
        ]
    return json.dumps(data, ensure_ascii=False)


def _looks_like_heading(text: str) -> bool:
    text = text.strip()
    return 0 < len(text) <= WHOLE_PARAGRAPH_CHARS and text[-1] not in _SENTENCE_END


_SUB_POINT = re.compile(r"\s*(?:[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]|[(（]\d{1,2}[)）]|\d{1,2}[)）])")


def _leaf_end(start: int, limit: int, ctx: OutlineContext, old_points: list[Point]) -> int:
    """Where the leaf starting at `start` ends, given the next boundary `limit`.

    The segmenter's points starting inside [start, limit) bound it where there are any (they
    leave out causes, rectification notes and trailing remarks), extended over following
    paragraphs that open with a sub-point marker (①, （1）): by the spec those stay inside the
    leaf above them. Without segmenter points: the paragraphs up to `limit`, stopping before a
    heading line.
    """
    inside = [p for p in old_points if start <= p.span.start < limit]
    end = max((p.span.end for p in inside), default=start)
    for span in ctx.paragraphs:
        if span.end <= start or (inside and span.start < end):
            continue
        if span.start >= limit:
            break
        text = ctx.doc_text[span.start : span.end]
        if inside and not _SUB_POINT.match(text):
            break
        if span.start > start and _looks_like_heading(text):
            break
        end = min(span.end, limit)
    return min(end, limit)


def _point_for(start: int, end: int, old_points: list[Point], text: str) -> Point:
    """A Point over [start, end), keeping the segmenter's annotations when it started there too."""
    same = next((p for p in old_points if abs(p.span.start - start) <= 1), None)
    if same is not None:
        cause = same.cause_span if same.cause_span and same.cause_span.end <= end + 400 else None
        return same.model_copy(update={"span": Span(start=start, end=end), "cause_span": cause})
    before = [p for p in old_points if p.span.start < start]
    context = list(before[-1].context) if before else []
    marker = _INNER_MARKER.match(text, start)
    return Point(span=Span(start=start, end=end), marker=marker.group(0) if marker else None, context=context)


def _section_from(answer: OutlineSection, ctx: OutlineContext, old: SegmentedReport) -> Section:
    body = Span(start=ctx.paragraph(answer.first).start, end=ctx.paragraph(answer.last).end)
    heading_span = ctx.paragraph(answer.heading) if answer.heading else None
    heading = ctx.doc_text[heading_span.start : heading_span.end].strip() if heading_span else ""
    old_points = sorted(
        (p for s in old.sections for p in s.points if body.start <= p.span.start < body.end),
        key=lambda p: p.span.start,
    )
    if answer.leaves is None:  # the proposal's leaves in this range stand
        starts = sorted({p.span.start for p in old_points})
    else:
        starts = sorted({s for leaf in answer.leaves if (s := ctx.leaf_start(leaf)) is not None})
    points = []
    for k, start in enumerate(starts):
        limit = starts[k + 1] if k + 1 < len(starts) else body.end
        end = _leaf_end(start, limit, ctx, old_points)
        while end > start and ctx.doc_text[end - 1].isspace():
            end -= 1
        if end > start:
            points.append(_point_for(start, end, old_points, ctx.doc_text))
    same = next((s for s in old.sections if s.heading_span == heading_span and heading_span), None)
    year_match = _YEAR.search(heading) or _YEAR.match(
        ctx.doc_text, body.start, min(body.end, body.start + 60)
    )
    year = same.year if same is not None else (int(year_match.group(1)) if year_match else None)
    return Section(
        kind=SectionKind(answer.kind.value),
        heading=heading,
        heading_span=heading_span,
        span=body,
        points=points,
        year=year,
    )


def apply_outline(answer: OutlineOut, ctx: OutlineContext, segmented: SegmentedReport) -> SegmentedReport:
    """The report's structure as the model decided it (call only with a validated answer)."""
    sections = [
        _section_from(section, ctx, segmented)
        for section in answer.sections
        if section.kind is not OutlineKind.OTHER
    ]
    return segmented.model_copy(update={"sections": sections})


def outline_changes(before: SegmentedReport, after: SegmentedReport) -> dict[int, str]:
    """Point starts (offsets) the outline moved: new or re-kinded points, by what changed."""
    old = {p.span.start: s.kind for s in before.sections for p in s.points}
    changed: dict[int, str] = {}
    for section in after.sections:
        for point in section.points:
            kind = old.get(point.span.start)
            if kind is None:
                changed[point.span.start] = "boundary"
            elif kind is not section.kind:
                changed[point.span.start] = "kind"
    return changed
