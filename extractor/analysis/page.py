"""The 分析 page of the review app: filters, charts and tables of the cross-report analysis.

Streamlit glue only: what is shown comes from `extractor.analysis` and `charts` (tested
without Streamlit). Every chart mark and table row links to the report page at its item.
"""

from __future__ import annotations

from functools import cached_property

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from extractor.analysis import Analysis, SourcedRecord, analyse, select_records
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
from extractor.analysis.snapshot import keep, kept_analysis, snapshot_key
from extractor.core.collector import collector_paused
from extractor.core.schema import Area
from extractor.store import Store

_ALL_AREAS = "全部领域"
_LINK_COLUMN = st.column_config.LinkColumn("打开", display_text="查看原文")
#: Analyses kept per server (each selection of status, region, year and area is one).
_CACHED_ANALYSES = 16


class _View:
    """An analysis and the frames and charts built from it, each built once (the view is
    cached with the analysis, so a rerun only sends them)."""

    def __init__(self, result: Analysis) -> None:
        self.result = result
        self._indicator: dict[str, tuple[alt.Chart, pd.DataFrame]] = {}

    def indicator(self, name: str) -> tuple[alt.Chart, pd.DataFrame]:
        if name not in self._indicator:
            summary = next(s for s in self.result.summaries if s.indicator.name == name)
            self._indicator[name] = (indicator_chart(summary), indicator_frame(summary))
        return self._indicator[name]

    @cached_property
    def unmapped(self) -> pd.DataFrame:
        return unmapped_frame(self.result.values)

    @cached_property
    def themes(self) -> tuple[alt.Chart, pd.DataFrame]:
        return theme_chart(self.result.themes), theme_frame(self.result.themes)

    @cached_property
    def follow(self) -> tuple[alt.Chart, pd.DataFrame]:
        return rate_chart(self.result.rates, self.result.follow), follow_frame(self.result.follow)


# Cached per process under the key of the current records (`snapshot.snapshot_key`): a save
# or an approval changes the key, so nobody sees a stale analysis. cache_resource, not
# cache_data: the results are only read, and cache_data would unpickle a copy of 1,000
# records on every rerun. `_store` is not hashed.
@st.cache_resource(max_entries=4, show_spinner="正在分析…")
def _whole(key: str, status: StatusFilter, _store: Store) -> _View:
    """Every current `status` record, unfiltered: kept on disk across server restarts."""
    with collector_paused():
        # Kept on disk at the end of the page run (`keep`), once the charts are on their way.
        return _View(kept_analysis(_store, status=status, key=key, keep_now=False))


@st.cache_resource(max_entries=_CACHED_ANALYSES, show_spinner="正在分析…")
def _analysis(
    key: str,
    status: StatusFilter,
    regions: tuple[str, ...],
    years: tuple[int, ...],
    area: Area | None,
    _store: Store,
) -> _View:
    whole = _whole(key, status, _store)
    if not (regions or years or area):
        return whole
    with collector_paused():
        return _View(
            analyse(
                select_records(whole.result.records, regions=regions, years=years), status=status, area=area
            )
        )


def render_analysis_page(*, store: Store, key_prefix: str = "an_") -> None:
    """Filters on top, then the status line, then 指标 / 问题主题 / 计划落实 tabs."""
    st.header("跨报告分析")
    status_column, *filter_columns = st.columns([2, 3, 2, 2])
    status: StatusFilter = status_column.radio(
        "统计范围",
        STATUS_FILTERS,
        format_func=STATUS_FILTER_LABELS.__getitem__,
        key=f"{key_prefix}status",
    )
    with collector_paused():
        key = snapshot_key(store, status=status)
    whole = _whole(key, status, store)
    try:
        _page(store, key, status, filter_columns, available=whole.result.records, key_prefix=key_prefix)
    finally:
        # After the charts were sent: the browser draws them while this is written.
        with collector_paused():
            keep(key, whole.result)


def _page(
    store: Store,
    key: str,
    status: StatusFilter,
    cols: list[DeltaGenerator],
    *,
    available: list[SourcedRecord],
    key_prefix: str,
) -> None:
    """The filters (region, year, area), the status line and the tabs."""
    regions = cols[0].multiselect("地区", sorted({r.region for r in available}), key=f"{key_prefix}regions")
    years = cols[1].multiselect(
        "年度", sorted({r.year for r in available if r.year is not None}), key=f"{key_prefix}years"
    )
    area_label = cols[2].selectbox("领域", [_ALL_AREAS, *[a.value for a in Area]], key=f"{key_prefix}area")
    area = None if area_label == _ALL_AREAS else Area(area_label)
    view = _analysis(key, status, tuple(regions), tuple(years), area, store)
    result = view.result
    st.info(result.caption)
    if not result.records:
        st.warning("所选范围内没有记录。审核通过的记录才计入默认统计；可改选“全部当前记录”。")
        return
    # Only the open tab is built and sent (a switch reruns the page): the three tabs' charts
    # and tables at once were most of what opening the page cost at 1,000 records.
    indicator_tab, theme_tab, follow_tab = st.tabs(
        ["指标", "问题主题", "计划落实"], key=f"{key_prefix}tab", on_change="rerun"
    )
    if indicator_tab.open:
        with indicator_tab:
            _indicators(view, key_prefix=key_prefix)
    if theme_tab.open:
        with theme_tab:
            _themes(view)
    if follow_tab.open:
        with follow_tab:
            _follow(view)


def _indicators(view: _View, *, key_prefix: str) -> None:
    result = view.result
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
        chart, frame = view.indicator(chosen)
        st.altair_chart(chart, width="stretch")
        st.dataframe(frame, hide_index=True, column_config={LINK: _LINK_COLUMN})
    unmapped_count = sum(1 for v in result.values if v.indicator is None)
    unmapped = st.expander(
        f"未归类的指标数值（{unmapped_count}，其中难以区分 {len(result.ambiguous)}）",
        key=f"{key_prefix}unmapped",
        on_change="rerun",
    )
    if unmapped.open:  # its table is built and sent only when someone opens it
        with unmapped:
            st.dataframe(view.unmapped, hide_index=True, column_config={LINK: _LINK_COLUMN})


def _themes(view: _View) -> None:
    if not view.result.themes:
        st.write("所选范围内没有问题条目。")
        return
    chart, frame = view.themes
    st.altair_chart(chart, width="stretch")
    st.dataframe(frame, hide_index=True, column_config={LINK: _LINK_COLUMN})


def _follow(view: _View) -> None:
    if not view.result.follow:
        st.write("没有可比对的计划：需要同一发布机关相邻两年的报告（请同时选择两个年度）。")
        return
    chart, frame = view.follow
    st.altair_chart(chart, width="stretch")
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            LINK: _LINK_COLUMN,
            "成效链接": st.column_config.LinkColumn("成效", display_text="查看成效"),
        },
    )
