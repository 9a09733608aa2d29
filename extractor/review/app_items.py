"""The review screen's editor panels: the source pane, basic information, the item list with
its editor (accept / fix / reject, approval override) and adding a missed item. Drawn inside
the review fragment, so a key press reruns only these.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from extractor.core.labels import LIST_LABELS
from extractor.core.schema import Achievement, Area, ListName, Problem
from extractor.review import app_state, views
from extractor.review.edits import (
    METRIC_COLUMN_LABELS,
    METRIC_COLUMNS,
    PERIOD_LABELS,
    ItemEdit,
    meta_from_form,
    metric_rows,
)
from extractor.review.errors import ReviewInputError
from extractor.review.labels import DECISION_LABELS, Decision, flag_reasons
from extractor.review.session import ReviewSession
from extractor.review.source_pane import Focus, after_decision, pane_data
from extractor.review.source_pane.component import pane_holds_text, source_pane

_META_FIELDS = {
    "issuer": "发布机关",
    "region": "地区",
    "report_year": "报告年度",
    "plan_year": "计划年度",
    "publish_date": "发布日期（YYYY-MM-DD）",
}


def source_panel(*, session: ReviewSession, focus: Focus) -> None:
    st.subheader("报告原文")
    ack = st.session_state.get("rv_pane_seq", {}).get(session.doc_key, 0)
    key = app_state.pane_key(session.doc_key)
    with_text = not pane_holds_text(key=key, doc_key=session.doc_key)
    source_pane(
        data=pane_data(session, focus=focus, ack=ack, with_text=with_text),  # text and offsets only
        key=key,
        on_actions=lambda: app_state.on_pane_actions(session.doc_key),
    )


def meta_panel(*, session: ReviewSession, key_prefix: str) -> None:
    values = views.meta_form_values(session.meta)
    with st.form(key=f"{key_prefix}form", border=False):
        for field, label in _META_FIELDS.items():
            values[field] = st.text_input(label, value=values[field], key=f"{key_prefix}{field}")
        periods = list(PERIOD_LABELS.values())
        period_index = periods.index(PERIOD_LABELS[session.meta.period])
        period = st.selectbox("期间", periods, index=period_index, key=f"{key_prefix}period")
        submitted = st.form_submit_button("应用基本信息修改", type="primary", key=f"{key_prefix}apply")
    if not submitted:
        return
    try:
        changed = session.set_meta(meta_from_form(**values, period=period))
    except ReviewInputError as e:
        st.error(e.message)
        return
    st.success("基本信息已更新（保存后生效）。" if changed else "基本信息没有变化。")


def items_panel(*, session: ReviewSession, focus: Focus, key_prefix: str) -> None:
    list_name = focus.list_name
    order = session.display_order(list_name)
    if focus.position is None:
        st.info(f"没有{LIST_LABELS[list_name]}条目。")
    else:
        # The table is drawn on request: 150 rows re-sent and re-drawn on every key press cost
        # more than everything else on the page.
        if st.toggle(f"显示{LIST_LABELS[list_name]}一览表（{len(order)} 条）", key=f"{key_prefix}overview"):
            st.dataframe(views.overview_rows(session, list_name), hide_index=True, width="stretch")
        pick_key = f"{key_prefix}focus"
        st.session_state[pick_key] = focus.position  # the widget shows the focus, wherever it was set
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        c1.selectbox(
            "当前条目（待核查的排在前面）", order, format_func=lambda i: views.item_label(session, list_name, i),
            key=pick_key, on_change=app_state.on_pick, args=(list_name, pick_key),
        )  # fmt: skip
        c2.button(
            "下一条 ↓", key=f"{key_prefix}next", shortcut="Alt+N",
            on_click=app_state.on_step, args=(session, focus, 1),
        )  # fmt: skip
        item_editor_panel(
            session=session, list_name=list_name, position=focus.position,
            key_prefix=f"{key_prefix}item_{focus.position}_",
        )  # fmt: skip
    add_item_panel(session=session, list_name=list_name, key_prefix=f"{key_prefix}add_")


def item_editor_panel(*, session: ReviewSession, list_name: ListName, position: int, key_prefix: str) -> None:
    entry = session.entry(list_name, position)
    item = entry.item
    st.markdown(f"**第 {position + 1} 条 · {DECISION_LABELS[entry.decision]}**")
    if entry.flagged:
        st.warning("待核查：" + "；".join(flag_reasons(item.flags)))
    if entry.problems:
        override_panel(
            session=session, list_name=list_name, position=position, key_prefix=f"{key_prefix}override_"
        )
    if entry.decision is Decision.REJECTED:
        st.info("此条已退回，保存时不会写入记录（修改记录中仍可查到）。")
        if st.button("恢复此条", key=f"{key_prefix}restore"):
            session.restore(list_name, position)
            st.rerun()
        return
    areas = [a.value for a in Area]
    with st.form(key=f"{key_prefix}form"):
        area = st.selectbox("领域", areas, index=areas.index(item.area.value), key=f"{key_prefix}area")
        text = st.text_input("摘要", value=item.text, key=f"{key_prefix}text")
        evidence = st.text_area("证据（须为原文）", value=item.evidence, key=f"{key_prefix}evidence")
        cause = None
        if isinstance(item, Problem):
            cause = st.text_area("原因", value=item.cause or "", key=f"{key_prefix}cause")
        rows = None
        if isinstance(item, Achievement):
            rows = _metrics_editor(item=item, key=f"{key_prefix}metrics")
        c1, c2, c3 = st.columns(3)
        accept = c1.form_submit_button("接受 ✓", type="primary", key=f"{key_prefix}accept", shortcut="Alt+A")
        fix = c2.form_submit_button("修改 ✎", key=f"{key_prefix}fix", shortcut="Alt+E")
        reject = c3.form_submit_button("退回 ✗", key=f"{key_prefix}reject", shortcut="Alt+X")
    if not (accept or fix or reject):
        return
    edit = ItemEdit(area=Area(area), text=text, evidence=evidence, cause=cause, metrics=rows)
    try:
        if reject:
            session.reject(list_name, position)
            notes = []
        elif fix:
            notes = session.fix(list_name, position, edit)
        else:
            notes = session.accept(list_name, position, edit)
    except ReviewInputError as e:
        st.error(e.message)
        return
    for note in notes:
        app_state.flash("warning", note)
    app_state.forget_item_widgets()
    remaining = len(session.entries(list_name))  # rejecting an added item drops it
    app_state.focus().set(
        after_decision(session, list_name, min(position, remaining - 1))
        if remaining
        else Focus(list_name, None),
        show_tab=False,
    )
    st.rerun()


def override_panel(*, session: ReviewSession, list_name: ListName, position: int, key_prefix: str) -> None:
    entry = session.entry(list_name, position)
    if entry.override:
        st.info(f"已强行通过，理由：{entry.override}（{'；'.join(entry.problems)}）")
        return
    st.error("不能通过：" + "；".join(entry.problems) + "。请改正，或写明理由后强行通过。")
    with st.form(key=f"{key_prefix}form", border=False):
        reason = st.text_input("强行通过的理由（记入修改记录）", key=f"{key_prefix}reason")
        submitted = st.form_submit_button("强行通过", key=f"{key_prefix}submit")
    if submitted:
        try:
            session.override(list_name, position, reason)
        except ReviewInputError as e:
            st.error(e.message)
            return
        st.rerun()


def add_item_panel(*, session: ReviewSession, list_name: ListName, key_prefix: str) -> None:
    with st.expander(f"补充遗漏的{LIST_LABELS[list_name]}条目"), st.form(key=f"{key_prefix}form"):
        st.caption("也可以直接在左侧原文中选中一段文字，点「添加为遗漏条目」。")
        passage = st.text_area("从左侧原文复制一段文字粘贴到这里", key=f"{key_prefix}passage")
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
    app_state.focus().set(Focus(list_name, position), show_tab=False)
    st.rerun()


def _metrics_editor(*, item: Achievement, key: str) -> list[dict[str, Any]]:
    # Text columns as plain objects: pandas' "string" dtype builds Arrow arrays, the slowest
    # step of a key press's rerun on a busy machine.
    frame = pd.DataFrame(metric_rows(item), columns=list(METRIC_COLUMNS)).astype(
        {"name": object, "value": "float64", "unit": object, "evidence": object}
    )
    edited = st.data_editor(
        frame,
        key=key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            column: (st.column_config.NumberColumn if column == "value" else st.column_config.TextColumn)(
                METRIC_COLUMN_LABELS[column]
            )
            for column in METRIC_COLUMNS
        },
    )
    return edited.to_dict(orient="records")
