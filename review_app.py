"""Review screen: `streamlit run review_app.py` (database: $EXTRACTOR_DB_URL or ./extractor.db).

Thin by design: every decision lives in `extractor.review` (tested without Streamlit);
this file only lays out widgets and passes their values on. One function per panel, with
keyword-only arguments and widget keys prefixed by the panel. Review state lives in
`st.session_state` (per browser session); only the Store handle is cached.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import streamlit as st

from extractor.core.errors import ExtractorError, GoldError, ReviewConflictError
from extractor.core.labels import LIST_LABELS, STATUS_LABELS
from extractor.core.paths import default_gold_dir
from extractor.core.schema import Achievement, Area, ListName, Problem
from extractor.review import audit, downloads, views
from extractor.review import queue as review_queue
from extractor.review.edits import (
    METRIC_COLUMN_LABELS,
    METRIC_COLUMNS,
    PERIOD_LABELS,
    ItemEdit,
    meta_from_form,
    metric_rows,
)
from extractor.review.errors import ReviewInputError
from extractor.review.focus_state import TABS_KEY, FocusState
from extractor.review.gold import promote_stored
from extractor.review.labels import DECISION_LABELS, Decision, flag_reasons
from extractor.review.navigation import (
    doc_key_for,
    focus_from_params,
    queue_button_label,
    sync_url,
    url_params,
)
from extractor.review.session import ReviewSession, open_session
from extractor.review.source_pane import Focus, after_decision, apply_actions, pane_data, step
from extractor.review.source_pane.component import pane_holds_text, source_pane
from extractor.store import DB_URL_ENV, RecordVersionInfo, Store

SHORTCUTS = (
    "快捷键（光标不在输入框时）：j / k 下一条 / 上一条 · a 接受 · x 退回 · e 编辑摘要 · s 保存 · ? 显示全部；"
    "点击原文中的高亮即编辑该条；选中原文可添加为遗漏条目。在「摘要」框中按 Enter = 接受并跳到下一条。"
)
_TAB_META, _TAB_AUDIT = "基本信息", "修改记录"
_SAVE_STATUSES = ["in_review", "approved", "rejected"]
_META_FIELDS = {
    "issuer": "发布机关",
    "region": "地区",
    "report_year": "报告年度",
    "plan_year": "计划年度",
    "publish_date": "发布日期（YYYY-MM-DD）",
}


@st.cache_resource(show_spinner=False)
def get_store(url: str) -> Store:
    """The one Store handle per database URL (connections are pooled inside it)."""
    return Store(url or None)


# -- state helpers (glue only) ------------------------------------------------------------


def _flash(kind: str, message: str) -> None:
    st.session_state.setdefault("rv_flash", []).append((kind, message))


def _sessions() -> dict[str, ReviewSession]:
    return st.session_state.setdefault("rv_sessions", {})


def _forget_item_widgets() -> None:
    """Drop the editors' widget state so they show the record as it is now."""
    for key in [
        k for k in st.session_state if isinstance(k, str) and ("_item_" in k or k.startswith("rv_meta_"))
    ]:
        del st.session_state[key]


def _reopen(store: Store, doc_key: str) -> ReviewSession:
    session = open_session(store, doc_key)
    _sessions()[doc_key] = session
    _forget_item_widgets()
    return session


def _focus() -> FocusState:
    return FocusState(st.session_state)


def _open_report(doc_key: str | None, focus: Focus | None = None) -> None:
    st.session_state["rv_open"] = doc_key
    _focus().reset(focus)
    _forget_item_widgets()


def _pane_key(doc_key: str) -> str:
    return f"rv_pane_{doc_key[:16]}"


def _on_pane_actions(doc_key: str) -> None:
    """The pane's queue changed (a key, a click, a selection): apply what is new."""
    session = _sessions().get(doc_key)
    state = st.session_state.get(_pane_key(doc_key))
    if session is None or state is None:
        return
    seen = st.session_state.setdefault("rv_pane_seq", {})
    outcome = apply_actions(
        session, state.get("actions"), focus=_focus().current(session), last_seq=seen.get(doc_key, 0)
    )
    seen[doc_key] = outcome.last_seq
    for kind, message in outcome.messages:
        _flash(kind, message)
    if outcome.changed:
        _forget_item_widgets()
    _focus().set(outcome.focus, show_tab=True)


def _on_pick(list_name: ListName, key: str) -> None:
    _focus().set(Focus(list_name, st.session_state[key]), show_tab=False)


def _on_step(session: ReviewSession, focus: Focus, delta: int) -> None:
    _focus().set(step(session, focus, delta), show_tab=False)


# -- panels -----------------------------------------------------------------------------


def reviewer_panel(*, key_prefix: str) -> str:
    name = st.text_input("审核人", key=f"{key_prefix}reviewer", placeholder="请输入您的姓名（保存时必填）")
    return name.strip()


def flash_panel() -> None:
    for kind, message in st.session_state.pop("rv_flash", []):
        getattr(st, kind)(message)


def queue_panel(*, store: Store, key_prefix: str) -> None:
    st.header("待审核报告")
    rows = review_queue.queue_rows(store.list_documents())
    done = review_queue.progress(rows)
    st.progress(done.fraction, text=f"已审核 {done} 份报告")
    if not rows:
        st.info("库中还没有报告。请先运行抽取，例如 `extractor extract eval/docs`。")
        return
    c1, c2, c3 = st.columns([3, 1, 1])
    statuses = c1.multiselect(
        "状态", options=list(STATUS_LABELS), format_func=STATUS_LABELS.__getitem__, key=f"{key_prefix}status"
    )
    flagged_only = c2.checkbox("只看有待核查条目的", key=f"{key_prefix}flagged")
    flagged_first = c3.checkbox("待核查优先", value=True, key=f"{key_prefix}flagged_first")
    shown = review_queue.sort_rows(
        review_queue.filter_rows(rows, statuses=statuses, flagged_only=flagged_only),
        flagged_first=flagged_first,
    )
    st.dataframe(review_queue.table_rows(shown), hide_index=True, width="stretch")
    if not shown:
        st.caption("没有符合筛选条件的报告。")
        return
    st.caption("点击一份报告即打开；Tab / Shift+Tab 在报告之间移动，Enter 打开。")
    for row in shown:
        st.button(
            queue_button_label(row), key=f"{key_prefix}open_{row.doc_key[:16]}",
            on_click=_open_report, args=(row.doc_key,), width="stretch",
        )  # fmt: skip


def output_panel(*, store: Store, key_prefix: str) -> None:
    st.subheader("下载审核结果")
    approved_only = st.checkbox("只包括「已通过」的报告", value=True, key=f"{key_prefix}approved_only")
    records = downloads.reviewed_records(store, approved_only=approved_only)
    if not records:
        st.caption("还没有可下载的审核记录。")
        return
    columns = st.columns(len(downloads.FORMATS))
    for column, (fmt, mime) in zip(columns, downloads.FORMATS.items(), strict=True):
        try:
            data = downloads.export_bytes(records, fmt=fmt)
        except ReviewInputError as e:
            column.warning(e.message)
            continue
        column.download_button(
            f"下载 {fmt.upper()}（{len(records)} 份）",
            data=data,
            file_name=downloads.download_name(fmt),
            mime=mime,
            key=f"{key_prefix}{fmt}",
        )


def report_header_panel(*, session: ReviewSession, latest_version: int, key_prefix: str) -> None:
    st.button("← 返回报告列表", key=f"{key_prefix}back", on_click=_open_report, args=(None,))
    stored = session.stored
    st.header(f"{session.doc_id}：{session.meta.issuer or '（未知发布机关）'}")
    unsaved = "，有未保存的修改" if session.has_unsaved_changes() else ""
    st.caption(
        f"状态：{STATUS_LABELS.get(stored.status, stored.status)} · 打开的版本：v{session.base_version}"
        f"{f'（{stored.reviewer}）' if stored.reviewer else ''}{unsaved}"
    )
    if latest_version > stored.latest_version:
        st.warning(f"您打开这份报告后，已有人保存了 v{latest_version}；现在保存会被拒绝（见「修改记录」）。")
    st.caption(SHORTCUTS)


def conflict_panel(*, store: Store, session: ReviewSession, key_prefix: str) -> None:
    message = st.session_state.get("rv_conflict", {}).get(session.doc_key)
    if not message:
        return
    st.error(message)
    pending = audit.change_lines_between(session.stored.record, session.record())
    if pending:
        with st.expander("您未保存的修改（载入最新版本后需要重新录入）"):
            st.dataframe([line.as_row() for line in pending], hide_index=True)
    if st.button("载入最新版本（放弃本页未保存的修改）", key=f"{key_prefix}reload"):
        st.session_state["rv_conflict"].pop(session.doc_key, None)
        _reopen(store, session.doc_key)
        _flash("info", "已载入最新版本。")
        st.rerun()


def save_panel(*, store: Store, session: ReviewSession, key_prefix: str) -> None:
    st.subheader("保存")
    decided, total = session.progress()
    suggested = _SAVE_STATUSES.index(session.suggested_status())
    st.radio(
        "保存为",
        _SAVE_STATUSES,
        index=suggested,
        format_func=STATUS_LABELS.__getitem__,
        key=f"{key_prefix}status",
    )
    st.button(
        "接受其余全部", key=f"{key_prefix}accept_all", disabled=decided == total,
        on_click=_on_accept_all, args=(session,),
    )  # fmt: skip
    st.button(
        "保存为新版本", type="primary", key=f"{key_prefix}save", shortcut="Alt+S",
        on_click=_on_save, args=(store, session, f"{key_prefix}status"),
    )  # fmt: skip


def _on_accept_all(session: ReviewSession) -> None:
    count = session.accept_remaining()
    _flash("success", f"已接受其余 {count} 条。")


def _on_save(store: Store, session: ReviewSession, status_key: str) -> None:
    """Save as a callback: the page is drawn once, after the save, with the new version."""
    reviewer = str(st.session_state.get("rv_top_reviewer", "")).strip()
    try:
        info = session.save(store, reviewer=reviewer, status=st.session_state[status_key])
    except ReviewInputError as e:
        _flash("error", e.message)
        return
    except ReviewConflictError as e:
        explanation = audit.conflict_explanation(store.versions(session.doc_key), session.base_version)
        st.session_state.setdefault("rv_conflict", {})[session.doc_key] = (
            f"保存冲突，本次没有保存任何内容：{explanation}（{e}）"
        )
        return
    _reopen(store, session.doc_key)
    _flash("success", f"已保存为 v{info.version}（{STATUS_LABELS[info.status]}，审核人：{info.reviewer}）。")


def source_panel(*, session: ReviewSession, focus: Focus) -> None:
    st.subheader("报告原文")
    ack = st.session_state.get("rv_pane_seq", {}).get(session.doc_key, 0)
    key = _pane_key(session.doc_key)
    with_text = not pane_holds_text(key=key, doc_key=session.doc_key)
    source_pane(
        data=pane_data(session, focus=focus, ack=ack, with_text=with_text),  # text and offsets only
        key=key,
        on_actions=lambda: _on_pane_actions(session.doc_key),
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
            key=pick_key, on_change=_on_pick, args=(list_name, pick_key),
        )  # fmt: skip
        c2.button(
            "下一条 ↓", key=f"{key_prefix}next", shortcut="Alt+N",
            on_click=_on_step, args=(session, focus, 1),
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
        _flash("warning", note)
    _forget_item_widgets()
    remaining = len(session.entries(list_name))  # rejecting an added item drops it
    _focus().set(
        after_decision(session, list_name, min(position, remaining - 1))
        if remaining
        else Focus(list_name, None),
        show_tab=False,
    )
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
    _flash("success", f"已添加为{LIST_LABELS[list_name]}第 {position + 1} 条，请核对预填的内容。")
    for note in notes:
        _flash("warning", note)
    _focus().set(Focus(list_name, position), show_tab=False)
    st.rerun()


def audit_panel(*, versions: list[RecordVersionInfo]) -> None:
    for entry in audit.audit_entries(versions):
        with st.expander(entry.summary()):
            if entry.changes:
                st.dataframe([line.as_row() for line in entry.changes], hide_index=True, width="stretch")
            else:
                st.caption("首个版本。" if entry.first else "与所依据的版本相比没有字段变化。")


def gold_panel(*, store: Store, session: ReviewSession, key_prefix: str) -> None:
    st.subheader("设为金标准")
    st.caption("把最近保存且「已通过」的记录写入 eval/gold/，须先通过金标准校验；未保存的修改不包括在内。")
    overwrite = st.checkbox("覆盖已有金标准", key=f"{key_prefix}overwrite")
    if not st.button("设为金标准", key=f"{key_prefix}promote"):
        return
    stored = store.current_record(session.doc_key)
    try:
        if stored is None:
            raise GoldError("这份报告还没有保存的记录", source=session.doc_id)
        path = promote_stored(stored, session.source, gold_dir=default_gold_dir(), overwrite=overwrite)
    except GoldError as e:
        st.error(str(e))
        return
    st.success(f"已写入金标准：{path}")


def report_page(*, store: Store, doc_key: str) -> None:
    session = _sessions().get(doc_key) or _reopen(store, doc_key)
    versions = store.versions(doc_key)
    latest = versions[-1].version if versions else session.base_version
    report_header_panel(session=session, latest_version=latest, key_prefix="rv_report_")
    conflict_panel(store=store, session=session, key_prefix="rv_conflict_")
    with st.sidebar:
        save_panel(store=store, session=session, key_prefix="rv_save_")
        st.divider()
        gold_panel(store=store, session=session, key_prefix="rv_gold_")
    review_area(store=store, doc_key=doc_key)


@st.fragment
def review_area(*, store: Store, doc_key: str) -> None:
    """The source pane and the editor. A fragment: a key, a click in the pane or a change of
    item reruns only this part of the page, which is what keeps keys quick."""
    session = _sessions()[doc_key]
    flash_panel()  # messages from the pane's actions (a full run shows them at the top first)
    # Focus is settled before anything is drawn (callbacks ran first), so the pane, the
    # editor, the tab and the URL all show the same item in this run.
    focus = _focus().current(session)
    sync_url(st.query_params, url_params(doc_id=session.doc_id, focus=focus))
    decided, total = session.progress()
    st.progress(decided / total if total else 1.0, text=f"已审核条目 {decided} / {total}")
    left, right = st.columns([5, 6])
    with left:
        source_panel(session=session, focus=focus)
    with right:
        tabs = st.tabs(
            [_TAB_META, *LIST_LABELS.values(), _TAB_AUDIT], key=TABS_KEY, on_change="rerun",
            default=LIST_LABELS[focus.list_name],
        )  # fmt: skip
        # Only the open tab is drawn (the tabs track their state), which keeps reruns short.
        if tabs[0].open:
            with tabs[0]:
                meta_panel(session=session, key_prefix="rv_meta_")
        for tab, list_name in zip(tabs[1:4], ListName, strict=True):
            if tab.open:
                with tab:
                    items_panel(
                        session=session,
                        focus=_focus().within(session, list_name),
                        key_prefix=f"rv_{list_name.value}_",
                    )
        if tabs[4].open:
            with tabs[4]:
                audit_panel(versions=store.versions(doc_key))


# -- widgets with conversion -------------------------------------------------------------------


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


def _open_from_url(store: Store) -> None:
    """On a session's first run, open the report and item the URL names (a link, a reload)."""
    if st.session_state.get("rv_url_read"):
        return
    st.session_state["rv_url_read"] = True
    doc_key = doc_key_for(review_queue.queue_rows(store.list_documents()), st.query_params.get("report"))
    if doc_key is not None:
        _open_report(doc_key, focus_from_params(st.query_params.to_dict()))


def main() -> None:
    st.set_page_config(page_title="法治政府建设报告审核", layout="wide")
    st.title("法治政府建设年度报告 · 人工审核")
    try:
        store = get_store(os.environ.get(DB_URL_ENV, "").strip())
        reviewer_panel(key_prefix="rv_top_")
        _open_from_url(store)
        flash_panel()
        doc_key = st.session_state.get("rv_open")
        if doc_key:
            report_page(store=store, doc_key=doc_key)
        else:
            sync_url(st.query_params, {})
            queue_panel(store=store, key_prefix="rv_queue_")
            output_panel(store=store, key_prefix="rv_output_")
    except ExtractorError as e:
        st.error(str(e))


main()
