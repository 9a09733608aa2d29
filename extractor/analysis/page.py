"""The 分析 page of the review app: filters, charts and tables of the cross-report analysis.

Streamlit glue only: what is shown comes from `extractor.analysis` and `charts` (tested
without Streamlit). Every chart mark and table row links to the report page at its item.
"""

from __future__ import annotations

import streamlit as st

from extractor.analysis import Analysis, analyse, load_records, select_records
from extractor.analysis.charts import (
    LINK,
    follow_frame,
    indicator_chart,
    indicator_frame,
    rate_chart,
    theme_chart,
    theme_frame,
    unmapped_frame,
)
from extractor.analysis.records import STATUS_FILTER_LABELS, STATUS_FILTERS, StatusFilter
from extractor.core.schema import Area
from extractor.store import Store

_ALL_AREAS = "全部领域"
_LINK_COLUMN = st.column_config.LinkColumn("打开", display_text="查看原文")


def render_analysis_page(*, store: Store, key_prefix: str = "an_") -> None:
    """Filters on top, then the status line, then 指标 / 问题主题 / 计划落实 tabs."""
    st.header("跨报告分析")
    cols = st.columns([2, 3, 2, 2])
    status: StatusFilter = cols[0].radio(
        "统计范围",
        STATUS_FILTERS,
        format_func=STATUS_FILTER_LABELS.__getitem__,
        key=f"{key_prefix}status",
    )
    available = load_records(store, status=status)
    regions = cols[1].multiselect("地区", sorted({r.region for r in available}), key=f"{key_prefix}regions")
    years = cols[2].multiselect(
        "年度", sorted({r.year for r in available if r.year is not None}), key=f"{key_prefix}years"
    )
    area_label = cols[3].selectbox("领域", [_ALL_AREAS, *[a.value for a in Area]], key=f"{key_prefix}area")
    area = None if area_label == _ALL_AREAS else Area(area_label)
    records = select_records(available, regions=regions, years=years)
    result = analyse(records, status=status, area=area)
    st.info(result.caption)
    if not records:
        st.warning("所选范围内没有记录。审核通过的记录才计入默认统计；可改选“全部当前记录”。")
        return
    indicator_tab, theme_tab, follow_tab = st.tabs(["指标", "问题主题", "计划落实"])
    with indicator_tab:
        _indicators(result, key_prefix=key_prefix)
    with theme_tab:
        _themes(result)
    with follow_tab:
        _follow(result)


def _indicators(result: Analysis, *, key_prefix: str) -> None:
    if not result.summaries:
        st.write("所选范围内没有可归类的指标数值。")
    else:
        names = [s.indicator.name for s in result.summaries]
        chosen = st.selectbox("指标", names, key=f"{key_prefix}indicator")
        summary = result.summaries[names.index(chosen)]
        cols = st.columns(4)
        cols[0].metric("覆盖（地区·年度）", f"{summary.covered}/{summary.selected}")
        cols[1].metric(
            "中位数", "—" if summary.median is None else f"{summary.median:g}{summary.indicator.unit}"
        )
        low, high = summary.low, summary.high
        cols[2].metric("范围", "—" if low is None else f"{low:g}–{high:g}{summary.indicator.unit}")
        cols[3].metric("疑点", summary.suspicious_count)
        st.altair_chart(indicator_chart(summary), width="stretch")
        st.dataframe(indicator_frame(summary), hide_index=True, column_config={LINK: _LINK_COLUMN})
    unmapped = unmapped_frame(result.values)
    with st.expander(f"未归类的指标数值（{len(unmapped)}，其中难以区分 {len(result.ambiguous)}）"):
        st.dataframe(unmapped, hide_index=True, column_config={LINK: _LINK_COLUMN})


def _themes(result: Analysis) -> None:
    if not result.themes:
        st.write("所选范围内没有问题条目。")
        return
    st.altair_chart(theme_chart(result.themes), width="stretch")
    st.dataframe(theme_frame(result.themes), hide_index=True, column_config={LINK: _LINK_COLUMN})


def _follow(result: Analysis) -> None:
    if not result.follow:
        st.write("没有可比对的计划：需要同一发布机关相邻两年的报告（请同时选择两个年度）。")
        return
    st.altair_chart(rate_chart(result.rates, result.follow), width="stretch")
    st.dataframe(
        follow_frame(result.follow),
        hide_index=True,
        column_config={
            LINK: _LINK_COLUMN,
            "成效链接": st.column_config.LinkColumn("成效", display_text="查看成效"),
        },
    )
