"""Tables and Altair charts of an analysis, each row and mark linked to the report page.

Pure functions (pandas + Altair, no Streamlit): the 分析 page shows what they return, and
tests read the frames and the charts' specs. The link column (`链接`) is the review app's
report page at the item (`records.report_link`); charts carry it as the marks' `href`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from extractor.analysis.followthrough import FollowThrough, IssuerRate
from extractor.analysis.indicator_table import IndicatorSummary
from extractor.analysis.indicators import MetricValue
from extractor.analysis.records import report_link
from extractor.analysis.themes import Theme
from extractor.core.labels import STATUS_LABELS

LINK = "链接"
#: Long texts are cut in chart labels and tooltips (the tables keep them whole).
_LABEL_CHARS = 24
#: Regions named per theme on the page (the workbook names them all): a theme stated by
#: hundreds of reports would otherwise repeat a list of hundreds of names in every row.
_SHOWN_REGIONS = 10


def region_list(regions: list[str]) -> str:
    """The first regions, and how many there are when not all are named."""
    shown = "、".join(regions[:_SHOWN_REGIONS])
    return shown if len(regions) <= _SHOWN_REGIONS else f"{shown}等{len(regions)}个地区"


def indicator_frame(summary: IndicatorSummary) -> pd.DataFrame:
    """One row per value of the indicator, with its source."""
    return pd.DataFrame(
        [
            {
                "地区": v.region,
                "年度": "" if v.year is None else str(v.year),
                "数值": v.value,
                "单位": v.unit,
                "疑点": "；".join(v.suspicious),
                "报告": v.ref.doc_id,
                "条目": v.ref.item_label,
                "原文指标名": v.name,
                "证据": v.evidence,
                "审核状态": STATUS_LABELS.get(v.source.status, v.source.status),
                LINK: report_link(v.ref),
            }
            for v in summary.values
        ],
        columns=[
            "地区",
            "年度",
            "数值",
            "单位",
            "疑点",
            "报告",
            "条目",
            "原文指标名",
            "证据",
            "审核状态",
            LINK,
        ],
    )


def indicator_chart(summary: IndicatorSummary) -> alt.Chart:
    """The indicator's values by region, one bar per year; a click opens the report at the item."""
    frame = indicator_frame(summary)
    frame["可疑"] = frame["疑点"].ne("")
    return (
        alt.Chart(frame, title=f"{summary.indicator.name}（{summary.indicator.unit}）")
        .mark_bar(cursor="pointer")
        .encode(
            x=alt.X("地区:N", sort="ascending", title=None),
            xOffset=alt.XOffset("年度:N"),
            y=alt.Y("数值:Q", title=summary.indicator.unit),
            color=alt.Color("年度:N", title="年度"),
            stroke=alt.condition("datum.可疑", alt.value("#d62728"), alt.value(None)),
            strokeWidth=alt.condition("datum.可疑", alt.value(3), alt.value(0)),
            href=alt.Href(f"{LINK}:N"),
            tooltip=["地区:N", "年度:N", "数值:Q", "单位:N", "疑点:N", "证据:N", "条目:N"],
        )
    )


def unmapped_frame(values: list[MetricValue]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "原因": v.reason,
                "原文指标名": v.name,
                "数值": v.value,
                "单位": v.unit,
                "候选指标": "；".join(f"{c.indicator}（{c.score:g}）" for c in v.candidates),
                "报告": v.ref.doc_id,
                "条目": v.ref.item_label,
                LINK: report_link(v.ref),
            }
            for v in values
            if v.indicator is None
        ],
        columns=["原因", "原文指标名", "数值", "单位", "候选指标", "报告", "条目", LINK],
    )


def theme_frame(themes: list[Theme]) -> pd.DataFrame:
    """One row per problem, grouped by theme (most widely stated themes first)."""
    return pd.DataFrame(
        [
            {
                "主题": t.number,
                "主题代表表述": t.representative,
                "领域": t.area.value,
                "涉及报告数": t.report_count,
                "涉及地区": region_list(t.regions),
                "地区": p.source.region,
                "年度": p.source.year,
                "问题表述": p.text,
                "证据": p.evidence,
                "反复出现": "是（上年已提出）" if p.recurs_from else "",
                "条目": p.ref.label,
                LINK: report_link(p.ref),
            }
            for t in themes
            for p in t.problems
        ],
        columns=[
            "主题",
            "主题代表表述",
            "领域",
            "涉及报告数",
            "涉及地区",
            "地区",
            "年度",
            "问题表述",
            "证据",
            "反复出现",
            "条目",
            LINK,
        ],
    )


def theme_chart(themes: list[Theme], *, top: int = 15) -> alt.Chart:
    """Reports stating each theme; a click opens the report at the theme's first example."""
    frame = pd.DataFrame(
        [
            {
                "主题": f"{t.number}. {t.representative[:_LABEL_CHARS]}",
                "涉及报告数": t.report_count,
                "反复出现": len(t.recurring),
                "领域": t.area.value,
                "涉及地区": region_list(t.regions),
                LINK: report_link(t.problems[0].ref),
            }
            for t in themes[:top]
        ],
        columns=["主题", "涉及报告数", "反复出现", "领域", "涉及地区", LINK],
    )
    return (
        alt.Chart(frame, title="常见问题主题（按涉及报告数）")
        .mark_bar(cursor="pointer")
        .encode(
            y=alt.Y("主题:N", sort="-x", title=None),
            x=alt.X("涉及报告数:Q", title="涉及报告数"),
            color=alt.Color("领域:N"),
            href=alt.Href(f"{LINK}:N"),
            tooltip=["主题:N", "涉及报告数:Q", "反复出现:Q", "领域:N", "涉及地区:N"],
        )
    )


def follow_frame(results: list[FollowThrough]) -> pd.DataFrame:
    """One row per plan: its verdict and the next year's achievement shown beside it."""
    rows = []
    for r in results:
        shown = r.shown_match
        rows.append(
            {
                "发布机关": r.match.source.record.meta.issuer,
                "地区": r.match.source.region,
                "计划年度": r.match.next_source.year,
                "计划": r.match.plan.text,
                "领域": r.match.plan.area.value,
                "落实情况": r.verdict,
                "相似度": round(r.match.similarity, 3),
                "匹配成效": shown.text if shown else "",
                "成效证据": shown.evidence if shown else "",
                "计划条目": r.match.ref.label,
                LINK: report_link(r.match.ref),
                "成效链接": report_link(r.match.matched_ref) if shown and r.match.matched_ref else None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "发布机关",
            "地区",
            "计划年度",
            "计划",
            "领域",
            "落实情况",
            "相似度",
            "匹配成效",
            "成效证据",
            "计划条目",
            LINK,
            "成效链接",
        ],
    )


def rate_chart(rates: list[IssuerRate], results: list[FollowThrough]) -> alt.Chart:
    """Plans per issuer and plan year by verdict; a click opens the issuer's plans."""
    first_plan: dict[tuple[str, int | None], str] = {}
    for r in results:
        first_plan.setdefault((r.match.source.region, r.match.next_source.year), report_link(r.match.ref))
    frame = pd.DataFrame(
        [
            {
                "发布机关": f"{rate.issuer}（{rate.plan_year}）",
                "落实情况": verdict,
                "计划数": count,
                "落实率": f"{rate.done_rate:.0%}",
                LINK: first_plan.get((rate.region, rate.plan_year), ""),
            }
            for rate in rates
            for verdict, count in rate.counts.items()
        ],
        columns=["发布机关", "落实情况", "计划数", "落实率", LINK],
    )
    return (
        alt.Chart(frame, title="上年计划落实情况")
        .mark_bar(cursor="pointer")
        .encode(
            y=alt.Y("发布机关:N", title=None),
            x=alt.X("计划数:Q", stack="zero"),
            color=alt.Color(
                "落实情况:N",
                scale=alt.Scale(
                    domain=["已落实", "部分", "未见提及"], range=["#2ca02c", "#ffbf00", "#bbbbbb"]
                ),
            ),
            href=alt.Href(f"{LINK}:N"),
            tooltip=["发布机关:N", "落实情况:N", "计划数:Q", "落实率:N"],
        )
    )
