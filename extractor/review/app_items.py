"""The review screen's editor panels: the source pane with its item editor (a component: the
browser draws the editor, Python judges every decision), basic information, a list's overview
and adding a missed item from a pasted passage.
"""

from __future__ import annotations

import streamlit as st

from extractor.core.labels import LIST_LABELS
from extractor.core.schema import ListName
from extractor.review import app_state, views
from extractor.review.edits import PERIOD_LABELS, meta_from_form
from extractor.review.errors import ReviewInputError
from extractor.review.session import ReviewSession
from extractor.review.source_pane import Focus, pane_data
from extractor.review.source_pane.component import pane_holds_text, source_pane
from extractor.store import Store

_META_FIELDS = {
    "issuer": "发布机关",
    "region": "地区",
    "report_year": "报告年度",
    "plan_year": "计划年度",
    "publish_date": "发布日期（YYYY-MM-DD）",
}


def source_panel(*, store: Store, session: ReviewSession, focus: Focus) -> None:
    """The source pane with the item editor beside it: one component, drawn by the browser
    (switching items and deciding them need no rerun; Python applies and checks them)."""
    ack = st.session_state.get("rv_pane_seq", {}).get(session.doc_key, 0)
    key = app_state.pane_key(session.doc_key)
    with_text = not pane_holds_text(key=key, doc_key=session.doc_key)
    # The editor fields sent so far: the pane keeps them, so only changed ones go again. A pane
    # that lacks some (a reload, a run that never reached it) asks for the text again, and
    # then everything is sent.
    known = st.session_state.setdefault("rv_pane_fields", {})
    data = pane_data(
        session,
        focus=focus,
        ack=ack,
        with_text=with_text,
        known_fields=None if with_text else known.get(session.doc_key),
        **app_state.pane_feedback(session.doc_key),
    )  # text, offsets and fields as data: the browser builds text nodes and fields from them
    known[session.doc_key] = {item["id"]: item["fv"] for item in data["items"]}
    source_pane(
        data=data,
        key=key,
        on_actions=lambda: app_state.on_pane_actions(store, session.doc_key),
    )


def meta_panel(*, session: ReviewSession, key_prefix: str) -> None:
    values = views.meta_form_values(session.meta)
    # enter_to_submit off: no English "Press Enter to submit form" under the fields.
    with st.form(key=f"{key_prefix}form", border=False, enter_to_submit=False):
        for field, label in _META_FIELDS.items():
            values[field] = st.text_input(label, value=values[field], key=f"{key_prefix}{field}")
        periods = list(PERIOD_LABELS.values())
        period_index = periods.index(PERIOD_LABELS[session.meta.period])
        period = st.radio("期间", periods, index=period_index, horizontal=True, key=f"{key_prefix}period")
        submitted = st.form_submit_button("应用基本信息修改", type="primary", key=f"{key_prefix}apply")
    if not submitted:
        return
    try:
        changed = session.set_meta(meta_from_form(**values, period=period))
    except ReviewInputError as e:
        st.error(e.message)
        return
    st.success("基本信息已更新（保存后生效）。" if changed else "基本信息没有变化。")


def overview_panel(*, session: ReviewSession, key_prefix: str) -> None:
    """Every item of one list at a glance (as of this page run: the tab reruns the page)."""
    names = list(ListName)
    list_name = st.radio(
        "列表", names, format_func=LIST_LABELS.__getitem__, horizontal=True, key=f"{key_prefix}list"
    )
    st.table(views.overview_rows(session, list_name), hide_index=True)  # no toolbar (English tooltips)


def add_item_panel(*, session: ReviewSession, key_prefix: str) -> None:
    with st.form(key=f"{key_prefix}form", enter_to_submit=False):
        st.caption("也可以直接在原文中选中一段文字，点「添加为遗漏条目」。")
        list_name = ListName(
            st.radio(
                "添加到",
                list(ListName),
                format_func=LIST_LABELS.__getitem__,
                horizontal=True,
                key=f"{key_prefix}list",
            )
            or ListName.ACHIEVEMENTS
        )
        passage = st.text_area("从原文复制一段文字粘贴到这里", key=f"{key_prefix}passage")
        submitted = st.form_submit_button("在原文中定位并添加", key=f"{key_prefix}submit")
    if not submitted:
        return
    try:
        position, notes = session.add_item(list_name, passage)
    except ReviewInputError as e:
        st.error(e.message)
        return
    del st.session_state[f"{key_prefix}passage"]
    app_state.flash("success", f"已添加为{LIST_LABELS[list_name]}第 {position + 1} 条，请核对预填的内容。")
    for note in notes:
        app_state.flash("warning", note)
    app_state.focus().set(Focus(list_name, position), show_tab=True)
    st.rerun()
