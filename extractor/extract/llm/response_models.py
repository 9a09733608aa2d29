"""What the model must answer: pydantic models, the single source of truth for the schemas.

Grounding happens inside validation. `extract_with_llm` passes a `GroundingContext` as
instructor's validation context (`context={"grounding": ...}`); an item whose passages do not
exist, whose quote is not in the section, or whose metric value is not in its evidence fails
validation with a Chinese + English message, and instructor re-asks with that message.
Without a context (parsing a failed attempt for salvage) the models only check their shape.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from extractor.check.align import SourceIndex
from extractor.core.normalise import matching_key
from extractor.core.schema import AlignmentStatus, Area, ListName, Period, Span
from extractor.numbers.stated import value_in_text

CONTEXT_KEY = "grounding"


@dataclass(frozen=True, slots=True)
class Passage:
    """A segmenter point shown to the model as [Pn]; its text is the item's evidence."""

    number: int
    span: Span
    text: str


@dataclass(slots=True)
class GroundingContext:
    """The text one call showed the model, for checking what it answers.

    `index` covers only `doc_text[bounds]`: a quote must come from the section shown.
    """

    doc_text: str
    bounds: Span
    passages: dict[int, Passage]
    list_name: ListName | None  # None in free mode: each item names its own list
    index: SourceIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = SourceIndex(self.doc_text[self.bounds.start : self.bounds.end])

    def align(self, quote: str) -> tuple[Span | None, AlignmentStatus]:
        """Locate `quote` in the shown text; the span indexes the whole document."""
        found = self.index.align(quote)
        if found.span is None:
            return None, found.status
        offset = self.bounds.start
        return Span(start=found.span.start + offset, end=found.span.end + offset), found.status


def _grounding(info: ValidationInfo) -> GroundingContext | None:
    context = info.context
    return context.get(CONTEXT_KEY) if isinstance(context, dict) else None


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


class MetricOut(BaseModel):
    """成效中的一个量化结果。"""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(description="指标名称，如“受理行政复议案件”")
    value: int | float = Field(description="数值：86%→86；约8万元→80000；4万余份→40000")
    unit: str = Field(description="原文量词，如 件、人次、%、元")
    evidence: str = Field(description="原文中包含该数字的短语，逐字摘抄")


class ItemOut(BaseModel):
    """一个条目（成效、问题或计划）。"""

    model_config = ConfigDict(extra="ignore")

    passages: list[int] = Field(
        default_factory=list,
        description="该条目覆盖的段落编号：[3] 表示 [P3]；合并相邻段落时给出连续的多个编号",
    )
    quote: str | None = Field(
        default=None,
        description="仅在条目不对应任何段落、或把一个段落拆成多项时填写：原文逐字摘抄的连续片段",
    )
    area: Area = Field(description="领域，必须是十个领域之一")
    text: str = Field(description="简短中文概括")
    metrics: list[MetricOut] = Field(default_factory=list, description="量化结果，仅成效条目填写")
    cause: str | None = Field(default=None, description="问题的原因（原文给出时），仅问题条目填写")

    @field_validator("passages", mode="before")
    @classmethod
    def _passage_numbers(cls, value: Any) -> Any:
        # Models write 3, "3", "P3" or "[P3]"; all mean passage 3.
        if value is None:
            return []
        values = value if isinstance(value, list) else [value]
        out: list[Any] = []
        for v in values:
            if isinstance(v, str):
                digits = re.sub(r"[^0-9]", "", v)
                out.append(int(digits) if digits else v)
            else:
                out.append(v)
        return out

    @model_validator(mode="after")
    def _grounded(self, info: ValidationInfo) -> Self:
        ctx = _grounding(info)
        if ctx is not None:
            problems = item_problems(self, ctx)
            if problems:
                raise ValueError("；".join(problems))
        return self


class FreeItemOut(ItemOut):
    """无结构文本中的一个条目：需注明所属列表，并逐字摘抄原文。"""

    kind: ListName = Field(description="achievements（成效）/ problems（问题）/ plans（计划）")


class SectionExtraction(BaseModel):
    """报告某一部分中的全部条目。"""

    items: list[ItemOut] = Field(default_factory=list)


class FreeExtraction(BaseModel):
    """一段无结构报告文本中的全部条目。"""

    items: list[FreeItemOut] = Field(default_factory=list)


class MetaOut(BaseModel):
    """报告的基本信息。"""

    model_config = ConfigDict(extra="ignore")

    issuer: str | None = Field(default=None, description="报告的撰写单位，按报告原文写法")
    region: str | None = Field(default=None, description="撰写单位所辖的县、区、市或乡镇")
    report_year: int | None = Field(default=None, description="报告所总结工作的年份")
    period: Period | None = Field(default=None, description="annual（全年）或 half_year（半年）")
    publish_date: dt.date | None = Field(
        default=None, description="报告写明的日期（落款或发布时间），否则 null"
    )

    @field_validator("report_year")
    @classmethod
    def _plausible_year(cls, value: int | None) -> int | None:
        if value is not None and not 1990 <= value <= 2100:
            raise ValueError(f"年份 {value} 不合理 / implausible year {value}")
        return value

    @model_validator(mode="after")
    def _issuer_in_text(self, info: ValidationInfo) -> Self:
        context = info.context if isinstance(info.context, dict) else {}
        shown = context.get("meta_text")
        if shown and self.issuer and matching_key(self.issuer) not in matching_key(shown):
            raise ValueError(
                f"撰写单位「{_short(self.issuer)}」不在原文中，请按原文写法填写或填 null / "
                "issuer is not written in the text shown: copy it as written or use null"
            )
        return self


@dataclass(slots=True)
class ResolvedEvidence:
    """An item's evidence located in the document (span None: not found)."""

    text: str
    span: Span | None
    alignment: AlignmentStatus


def resolve_evidence(item: ItemOut, ctx: GroundingContext) -> tuple[ResolvedEvidence, list[str]]:
    """The item's evidence and the problems found while locating it (empty: grounded).

    Evidence is the quote when one is given, else the text from the first to the last
    referenced passage (exact by construction).
    """
    problems: list[str] = []
    numbers = item.passages
    unknown = [n for n in numbers if n not in ctx.passages]
    if unknown:
        listed = ", ".join(f"P{n}" for n in unknown)
        problems.append(f"段落 {listed} 不存在 / passage {listed} does not exist in this section")
    known = sorted(n for n in numbers if n in ctx.passages)
    if known and known != list(range(known[0], known[-1] + 1)):
        problems.append("合并的段落编号必须连续 / merged passages must be consecutive (e.g. [2, 3, 4])")
    passage_span = None
    if known:
        first, last = ctx.passages[known[0]], ctx.passages[known[-1]]
        passage_span = Span(start=first.span.start, end=last.span.end)

    if item.quote and item.quote.strip():
        span, status = ctx.align(item.quote)
        if span is None:
            problems.append(
                f"引文「{_short(item.quote)}」在本部分原文中找不到，请逐字摘抄 / "
                "quote not found verbatim in this section's text: copy it exactly"
            )
        elif passage_span is not None and (span.start < passage_span.start or span.end > passage_span.end):
            problems.append(
                f"引文「{_short(item.quote)}」不在所引段落内 / quote lies outside the passages it cites"
            )
        return ResolvedEvidence(item.quote, span, status), problems
    if passage_span is not None:
        text = ctx.doc_text[passage_span.start : passage_span.end]
        return ResolvedEvidence(text, passage_span, AlignmentStatus.EXACT), problems
    if not numbers:
        problems.append(
            "条目必须给出 passages（段落编号）或 quote（逐字引文）/ each item needs passages or a quote"
        )
    return ResolvedEvidence("", None, AlignmentStatus.NONE), problems


def metric_problems(metric: MetricOut, evidence: ResolvedEvidence, ctx: GroundingContext) -> list[str]:
    """Why `metric` is not grounded (empty: its evidence is in the item and states its value)."""
    problems: list[str] = []
    key = matching_key(metric.evidence)
    if evidence.text:
        grounded = bool(key) and key in matching_key(evidence.text)
        where_zh, where_en = "条目证据", "the item's evidence"
    else:
        grounded = bool(key) and ctx.align(metric.evidence)[0] is not None
        where_zh, where_en = "原文", "the text"
    if not grounded:
        problems.append(
            f"指标「{_short(metric.name)}」的证据「{_short(metric.evidence)}」不在{where_zh}中 / "
            f"metric evidence is not verbatim in {where_en}"
        )
    elif not value_in_text(metric.value, metric.evidence):
        problems.append(
            f"指标「{_short(metric.name)}」的数值 {metric.value:g} 不在其证据「{_short(metric.evidence)}」中 / "
            f"metric value {metric.value:g} is not stated in its evidence"
        )
    return problems


def item_problems(item: ItemOut, ctx: GroundingContext) -> list[str]:
    """Every reason `item` is not acceptable in `ctx` (empty list: acceptable)."""
    evidence, problems = resolve_evidence(item, ctx)
    if ctx.list_name is None and item.passages:
        problems.append("本文没有段落编号，请用 quote 逐字摘抄 / this text has no passages: use quote")
    kind = getattr(item, "kind", None) or ctx.list_name
    if kind is ListName.ACHIEVEMENTS:
        for metric in item.metrics:
            problems.extend(metric_problems(metric, evidence, ctx))
    return problems
