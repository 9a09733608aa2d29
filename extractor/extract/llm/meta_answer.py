"""The meta call: what it shows, which answered fields the text supports, and the merge.

Every field the model gives must be stated in the text it was shown: the issuer and region
as written, the report year as a year written there, a half-year period named there, the
publish date as a date written there (or the web page's 发布时间). The response model's
validator sends unsupported fields back (instructor re-asks); what is still unsupported after
the last attempt is replaced, field by field, by the rules backend's value and flagged on
the record. Nothing invented is stored unflagged.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from extractor.core.document import SourceDocument
from extractor.core.normalise import matching_key
from extractor.core.schema import Flag, FlagCode, Meta, Period
from extractor.extract.meta import stated_dates, stated_years, states_half_year
from extractor.segment.model import SegmentedReport

if TYPE_CHECKING:
    from extractor.extract.llm.response_models import MetaOut

#: Lines from each end of the report shown to the meta call, and their length limits: the
#: opening lines name the issuer and year early; a closing line's date sits at its end.
META_LINES = 3
META_HEAD_CHARS = 100
META_TAIL_CHARS = 60
#: Key of the shown text in the meta call's validation context.
META_CONTEXT_KEY = "meta_text"
META_FIELDS = ("issuer", "region", "report_year", "period", "publish_date")


def meta_excerpt(doc: SourceDocument, segmented: SegmentedReport) -> tuple[str, str, str]:
    """(title, first lines, last lines): what the meta call sees.

    Uses the segmenter's head/tail paragraphs (page chrome removed) when it gives them, else
    the text's own non-empty lines. Long lines are cut: the start of a first line, the end of
    a last line (signature dates sit at the end).
    """
    lines = [line.strip() for line in doc.text.splitlines() if line.strip()]
    title = segmented.title.strip() or (lines[0] if lines else "")
    head = [h.strip() for h in segmented.head_lines if h.strip()] or lines[: META_LINES + 1]
    tail = [t.strip() for t in segmented.tail_lines if t.strip()] or lines[-META_LINES:]
    head = [h for h in head if h != title][:META_LINES]
    tail = [t for t in tail if t not in head][-META_LINES:]
    return (
        title[:META_HEAD_CHARS],
        "\n".join(line[:META_HEAD_CHARS] for line in head),
        "\n".join(line[-META_TAIL_CHARS:] for line in tail),
    )


def meta_field_problems(
    answer: MetaOut, *, shown: str, publish_hint: dt.date | None = None
) -> dict[str, str]:
    """Field name → why the text shown does not support the answered value (Chinese + English)."""
    problems: dict[str, str] = {}
    key = matching_key(shown)
    report_year, period, publish_date = answer.report_year, answer.period, answer.publish_date
    for name, value in (("issuer", answer.issuer), ("region", answer.region)):
        if value and matching_key(value) not in key:
            problems[name] = (
                f"{name}「{value[:30]}」不在原文中，请按原文写法填写或填 null / "
                f"{name} is not written in the text shown: copy it as written or use null"
            )
    if report_year is not None and report_year not in stated_years(shown):
        problems["report_year"] = (
            f"年份 {report_year} 在原文中没有出现 / the year {report_year} is not written in the text shown"
        )
    if period is Period.HALF_YEAR and not states_half_year(shown):
        problems["period"] = "原文没有写明半年 / the text shown names no half-year period"
    if publish_date is not None and publish_date != publish_hint and publish_date not in stated_dates(shown):
        problems["publish_date"] = (
            f"日期 {publish_date.isoformat()} 在原文中没有出现，请填写原文写明的日期或 null / "
            "that date is not written in the text shown"
        )
    return problems


def merge_meta(
    answer: MetaOut | None, rules_meta: Meta, *, shown: str, publish_hint: dt.date | None
) -> tuple[Meta, list[Flag]]:
    """The record's meta: each field the model stated and the text supports, else the rules
    backend's value (flagged when the model's value was replaced)."""
    meta = rules_meta.model_copy()
    flags: list[Flag] = []
    if answer is not None:
        problems = meta_field_problems(answer, shown=shown, publish_hint=publish_hint)
        for name in META_FIELDS:
            value = getattr(answer, name)
            if value is None:
                continue
            if name in problems:
                flags.append(Flag(code=FlagCode.META_UNSUPPORTED, detail=f"{name}: {problems[name]}"))
            else:
                setattr(meta, name, value)
    return meta, flags
