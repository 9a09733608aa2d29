"""What the model must answer: pydantic models, the single source of truth for the schemas.

Grounding happens inside validation. `extract_with_llm` passes a `GroundingContext` as
instructor's validation context (`context={"grounding": ...}`); each item is checked by
`grounding.answer_item` (the check stage's per-item check, limited to the section shown), and
an item with problems (passages that do not exist, a quote not in the section, a metric value
not in its evidence) fails validation with their Chinese + English messages, and instructor
re-asks with them.
Without a context (parsing a failed attempt for salvage) the models only check their shape.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from extractor.core.schema import Area, ListName, Period
from extractor.extract.llm.grounding import CONTEXT_KEY, GroundingContext, answer_is_too_thin, answer_item
from extractor.extract.llm.meta_answer import META_CONTEXT_KEY, meta_field_problems

__all__ = [
    "CONTEXT_KEY",
    "FreeExtraction",
    "FreeItemOut",
    "ItemOut",
    "MetaOut",
    "MetricOut",
    "SectionExtraction",
]


def _grounding(info: ValidationInfo) -> GroundingContext | None:
    context = info.context
    return context.get(CONTEXT_KEY) if isinstance(context, dict) else None


class MetricOut(BaseModel):
    """成效中的一个量化结果。"""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(description="指标名称，如“受理行政复议案件”")
    value: int | float = Field(description="数值：86%→86；约8万元→80000；4万余份→40000")
    unit: str = Field(description="原文量词，如 件、人次、%、元、个百分点")


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
    metrics: list[str | MetricOut] = Field(
        default_factory=list,
        description='量化结果，仅成效条目填写：候选编号如 "m3"；候选中没有的指标写 {name, value, unit}',
    )
    cause: str | None = Field(default=None, description="问题的原因（原文给出时），仅问题条目填写")
    kind: ListName | None = Field(
        default=None,
        description="仅当该条目不属于本部分的类别时填写：achievements / problems / plans；否则省略",
    )

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

    @field_validator("metrics", mode="before")
    @classmethod
    def _candidate_ids(cls, value: Any) -> Any:
        # Models write "m3", "M3" or "[m3]"; all mean candidate m3.
        if not isinstance(value, list):
            return value
        return [re.sub(r"[^0-9a-z]", "", v.lower()) if isinstance(v, str) else v for v in value]

    @model_validator(mode="after")
    def _grounded(self, info: ValidationInfo) -> Self:
        ctx = _grounding(info)
        if ctx is not None:
            _item, problems = answer_item(self, ctx)
            if problems:
                raise ValueError("；".join(problems))
        return self


class FreeItemOut(ItemOut):
    """无结构文本中的一个条目：需注明所属列表，并逐字摘抄原文。"""

    kind: ListName = Field(description="achievements（成效）/ problems（问题）/ plans（计划）")


def _thin_answer_message(ctx: GroundingContext) -> str:
    return (
        f"本部分有 {len(ctx.passages)} 个预切分要点，回答却没有或几乎没有条目：请为每个要点给出条目 / "
        "this section has points but the answer has (almost) no items: give an item for each point"
    )


class SectionExtraction(BaseModel):
    """报告某一部分中的全部条目。"""

    items: list[ItemOut] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_thin(self, info: ValidationInfo) -> Self:
        ctx = _grounding(info)
        if ctx is not None and answer_is_too_thin(self, ctx):
            raise ValueError(_thin_answer_message(ctx))
        return self


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
    def _stated_in_text(self, info: ValidationInfo) -> Self:
        context = info.context if isinstance(info.context, dict) else {}
        shown = context.get(META_CONTEXT_KEY)
        if not shown:
            return self
        problems = meta_field_problems(self, shown=shown, publish_hint=context.get("publish_hint"))
        if problems:
            raise ValueError("；".join(problems.values()))
        return self
