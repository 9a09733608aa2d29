"""Review screen: `streamlit run review_app.py` (database: $EXTRACTOR_DB_URL or ./extractor.db).

Thin by design: every decision lives in `extractor.review` (tested without Streamlit);
this file only lays out widgets and passes their values on. One function per panel, with
keyword-only arguments and widget keys prefixed by the panel. Review state lives in
`st.session_state` (per browser session); only the Store handle is cached.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

import pandas as pd
import streamlit as st

from extractor.core.errors import ExtractorError, GoldError, ReviewConflictError
from extractor.core.labels import LIST_LABELS, STATUS_LABELS
from extractor.core.paths import default_gold_dir
from extractor.core.schema import Achievement, Area, ListName, Problem
from extractor.review import audit, downloads, views
from extractor.review import drafts as review_drafts
from extractor.review import queue as review_queue
from extractor.review.decisions import decisions_by_version
from extractor.review.edits import (
    METRIC_COLUMN_LABELS,
    METRIC_COLUMNS,
    PERIOD_LABELS,
    ItemEdit,
    meta_from_form,
    metric_rows,
)
from extractor.review.errors import MergeConflictError, ReviewInputError
from extractor.review.gold import promote_stored
from extractor.review.highlight import legend_html
from extractor.review.labels import DECISION_LABELS, Decision, flag_reasons
from extractor.review.session import ReviewSession, open_session
from extractor.store import DB_URL_ENV, RecordVersionInfo, Store
from extractor.store.queries import beijing_text

SHORTCUTS = (
    "快捷键：在「摘要」框中按 Enter 或在多行文本框中按 Ctrl+Enter = 接受当前条目并跳到下一条；"
    "Alt+A 接受 · Alt+E 修改 · Alt+X 退回 · Alt+N 下一条 · Alt+S 保存（只对当前列表有效）。"
)
_SAVE_STATUSES = ["in_review", "approved", "rejected"]
#: Seconds between soft-lock heartbeats (well inside extractor.store.LOCK_EXPIRY).
LOCK_HEARTBEAT_S = 30
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


def _draft_owner() -> str:
    """Whose drafts and soft locks these are: a token kept in the page's URL, so a reload
    (or a crash of this server) finds the same draft in the database."""
    owner = st.query_params.get("reviewer_key")
    if not owner:
        owner = secrets.token_urlsafe(12)
        st.query_params["reviewer_key"] = owner
    return owner


def _reopen(store: Store, doc_key: str) -> ReviewSession:
    session = open_session(store, doc_key, owner=_draft_owner())
    _sessions()[doc_key] = session
    _forget_item_widgets()
    if session.reviewer and not st.session_state.get("rv_top_reviewer"):
        # The name field is already drawn this run: it takes the draft's name on the next.
        st.session_state["rv_pending_reviewer"] = session.reviewer
        st.rerun()
    return session


def _heartbeat(store: Store, doc_key: str, reviewer: str) -> None:
    """Keep this page's soft lock alive: a write only every LOCK_HEARTBEAT_S (or when the
    name changes), not on every rerun."""
    beats = st.session_state.setdefault("rv_lock_beat", {})
    now = time.monotonic()
    last = beats.get(doc_key)
    if last is None or now - last[0] > LOCK_HEARTBEAT_S or last[1] != reviewer:
        store.touch_lock(doc_key, holder=_draft_owner(), reviewer=reviewer)
        beats[doc_key] = (now, reviewer)


def _keep_draft(store: Store, session: ReviewSession, reviewer: str) -> None:
    digests = st.session_state.setdefault("rv_draft_digest", {})
    digests[session.doc_key] = review_drafts.autosave_draft(
        store, session, owner=_draft_owner(), reviewer=reviewer, last_digest=digests.get(session.doc_key)
    )


def _focus(list_name: ListName, position: int | None) -> None:
    st.session_state["rv_focus_list"] = list_name.value
    if position is not None:
        st.session_state[f"rv_{list_name.value}_pending_focus"] = position


# -- panels -----------------------------------------------------------------------------


def reviewer_panel(*, key_prefix: str) -> str:
    pending = st.session_state.pop("rv_pending_reviewer", None)
    if pending:
        st.session_state[f"{key_prefix}reviewer"] = pending
    name = st.text_input("审核人", key=f"{key_prefix}reviewer", placeholder="请输入您的姓名（保存时必填）")
    return name.strip()


def flash_panel() -> None:
    for kind, message in st.session_state.pop("rv_flash", []):
        getattr(st, kind)(message)


def queue_panel(*, store: Store, key_prefix: str) -> None:
    st.header("待审核报告")
    rows = review_queue.load_queue(store)
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
    labels = {
        r.doc_key: f"{r.title}（{r.status_label}，已审 {r.progress_text}，待核查 {r.flagged_count}）"
        + (f"，{r.open_by_text()} 正在审核" if r.open_by else "")
        for r in shown
    }
    picked = st.selectbox(
        "选择报告", options=list(labels), format_func=labels.__getitem__, key=f"{key_prefix}pick"
    )
    if st.button("打开报告", type="primary", key=f"{key_prefix}open"):
        st.session_state["rv_open"] = picked
        _forget_item_widgets()
        st.rerun()


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


def report_header_panel(
    *, store: Store, session: ReviewSession, latest_version: int, reviewer: str, key_prefix: str
) -> None:
    if st.button("← 返回报告列表", key=f"{key_prefix}back"):
        store.release_lock(session.doc_key, holder=_draft_owner())
        st.session_state.get("rv_lock_beat", {}).pop(session.doc_key, None)
        st.session_state["rv_open"] = None
        st.rerun()
    stored = session.stored
    st.header(f"{session.doc_id}：{session.meta.issuer or '（未知发布机关）'}")
    unsaved = "，有未保存的修改" if session.has_unsaved_changes() else ""
    st.caption(
        f"状态：{STATUS_LABELS.get(stored.status, stored.status)} · 打开的版本：v{session.base_version}"
        f"{f'（{stored.reviewer}）' if stored.reviewer else ''}{unsaved}"
    )
    if latest_version > stored.latest_version:
        st.warning(
            f"您打开这份报告后，已有人保存了 v{latest_version}；保存时会与之按条目合并，"
            "只有双方改了同一处时才需要您选择（见「修改记录」）。"
        )
    owner = _draft_owner()
    _heartbeat(store, session.doc_key, reviewer)
    others = [lock for lock in store.active_locks(session.doc_key) if lock.holder != owner]
    if others:
        names = "；".join(
            f"{lock.reviewer or '未署名审核人'}（自 {beijing_text(lock.opened_at)}）" for lock in others
        )
        st.info(f"同事也打开了这份报告：{names}。")
    if session.restored_at is not None:
        st.info(f"已恢复您 {beijing_text(session.restored_at)} 未保存的修改。")
        if st.button("放弃未保存的修改", key=f"{key_prefix}discard"):
            _sessions()[session.doc_key] = review_drafts.discard_draft(store, session, owner=owner)
            _forget_item_widgets()
            st.rerun()
    st.caption(SHORTCUTS)


def conflict_panel(*, store: Store, session: ReviewSession, reviewer: str, key_prefix: str) -> None:
    message = st.session_state.get("rv_conflict", {}).get(session.doc_key)
    if not message:
        return
    st.error(message)
    conflicts = st.session_state.get("rv_merge_conflicts", {}).get(session.doc_key)
    if conflicts:
        keep = {
            c.path: st.radio(
                c.label, ["mine", "theirs"], format_func={"mine": "保留我的", "theirs": "保留对方的"}.__getitem__,
                key=f"{key_prefix}keep_{c.path}", horizontal=True,
            )
            for c in conflicts
        }  # fmt: skip
        if st.button("按所选保存", type="primary", key=f"{key_prefix}resolve"):
            status = st.session_state.get("rv_save_status", "in_review")
            _save(store=store, session=session, reviewer=reviewer, status=status, keep=keep)
    pending = audit.change_lines_between(session.stored.record, session.record())
    if pending:
        with st.expander("您未保存的修改（载入最新版本后需要重新录入）"):
            st.dataframe([line.as_row() for line in pending], hide_index=True)
    if st.button("载入最新版本（放弃本页未保存的修改）", key=f"{key_prefix}reload"):
        st.session_state["rv_conflict"].pop(session.doc_key, None)
        st.session_state.get("rv_merge_conflicts", {}).pop(session.doc_key, None)
        store.discard_draft(session.doc_key, owner=_draft_owner())
        _reopen(store, session.doc_key)
        _flash("info", "已载入最新版本。")
        st.rerun()


def save_panel(*, store: Store, session: ReviewSession, reviewer: str, key_prefix: str) -> None:
    st.subheader("保存")
    decided, total = session.progress()
    st.progress(decided / total if total else 1.0, text=f"已审核条目 {decided} / {total}")
    suggested = _SAVE_STATUSES.index(session.suggested_status())
    pending = st.session_state.pop(f"{key_prefix}pending_status", None)
    if pending is not None:
        st.session_state[f"{key_prefix}status"] = pending
    status = st.radio(
        "保存为",
        _SAVE_STATUSES,
        index=suggested,
        format_func=STATUS_LABELS.__getitem__,
        key=f"{key_prefix}status",
    )
    if st.button("接受其余全部", key=f"{key_prefix}accept_all", disabled=decided == total):
        count = session.accept_remaining()
        # The radio keeps its own state: the status to save follows the decisions (set
        # before the radio is drawn on the rerun).
        st.session_state[f"{key_prefix}pending_status"] = session.suggested_status()
        _flash("success", f"已接受其余 {count} 条。")
        st.rerun()
    if not st.button("保存为新版本", type="primary", key=f"{key_prefix}save", shortcut="Alt+S"):
        return
    _save(store=store, session=session, reviewer=reviewer, status=status, keep=None)


def _save(
    *, store: Store, session: ReviewSession, reviewer: str, status: str, keep: dict[str, Any] | None
) -> None:
    try:
        info = session.save(store, reviewer=reviewer, status=status, owner=_draft_owner(), keep=keep)
    except ReviewInputError as e:
        st.error(e.message)
        return
    except MergeConflictError as e:
        st.session_state.setdefault("rv_conflict", {})[session.doc_key] = e.message
        st.session_state.setdefault("rv_merge_conflicts", {})[session.doc_key] = e.conflicts
        st.rerun()
    except ReviewConflictError as e:
        explanation = audit.conflict_explanation(store.versions(session.doc_key), session.base_version)
        st.session_state.setdefault("rv_conflict", {})[session.doc_key] = (
            f"保存冲突，本次没有保存任何内容：{explanation}（{e.message}）"
        )
        st.rerun()
    st.session_state.get("rv_conflict", {}).pop(session.doc_key, None)
    st.session_state.get("rv_merge_conflicts", {}).pop(session.doc_key, None)
    merged = f"（已与 v{info.base_version} 合并）" if info.base_version != session.base_version else ""
    _reopen(store, session.doc_key)
    _flash(
        "success",
        f"已保存为 v{info.version}{merged}（{STATUS_LABELS[info.status]}，审核人：{info.reviewer}）。",
    )
    st.rerun()


def source_panel(*, session: ReviewSession, focus: tuple[ListName, int] | None) -> None:
    st.subheader("报告原文")
    st.html(legend_html())
    with st.container(height=760):
        st.html(session.highlight(focus=focus))  # document text is escaped in highlight_html


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


def items_panel(*, session: ReviewSession, list_name: ListName, focused: bool, key_prefix: str) -> None:
    entries = session.entries(list_name)
    order = session.display_order(list_name)
    if not entries:
        st.info(f"没有{LIST_LABELS[list_name]}条目。")
    else:
        st.dataframe(views.overview_rows(session, list_name), hide_index=True, width="stretch")
        focus_key = f"{key_prefix}focus"
        pending = st.session_state.pop(f"{key_prefix}pending_focus", None)
        if pending in order:
            st.session_state[focus_key] = pending
        elif st.session_state.get(focus_key) not in order:
            st.session_state[focus_key] = order[0]
        position = st.selectbox(
            "当前条目（待核查的排在前面）", order, format_func=lambda i: views.item_label(session, list_name, i),
            key=focus_key, on_change=_focus, args=(list_name, None),
        )  # fmt: skip
        if st.button("下一条 ↓", key=f"{key_prefix}next", shortcut="Alt+N" if focused else None):
            _focus(list_name, order[(order.index(position) + 1) % len(order)])
            st.rerun()
        item_editor_panel(
            session=session, list_name=list_name, position=position, focused=focused,
            key_prefix=f"{key_prefix}item_{position}_",
        )  # fmt: skip
    add_item_panel(session=session, list_name=list_name, key_prefix=f"{key_prefix}add_")


def item_editor_panel(
    *, session: ReviewSession, list_name: ListName, position: int, focused: bool, key_prefix: str
) -> None:
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
        accept = c1.form_submit_button(
            "接受 ✓", type="primary", key=f"{key_prefix}accept", shortcut="Alt+A" if focused else None
        )
        fix = c2.form_submit_button("修改 ✎", key=f"{key_prefix}fix", shortcut="Alt+E" if focused else None)
        reject = c3.form_submit_button(
            "退回 ✗", key=f"{key_prefix}reject", shortcut="Alt+X" if focused else None
        )
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
    following = session.next_undecided(list_name, position)
    _focus(list_name, position if following is None else following)
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
    _focus(list_name, position)
    st.rerun()


def audit_panel(*, store: Store, session: ReviewSession, versions: list[RecordVersionInfo]) -> None:
    decisions = decisions_by_version(store, document_id=session.stored.document.id)
    for entry in audit.audit_entries(versions, decisions=decisions):
        with st.expander(entry.summary()):
            for line in entry.overrides:
                st.warning(f"强行通过：{line}")
            if entry.changes:
                st.html(audit.changes_html(entry.changes))  # values escaped in changes_html
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


def report_page(*, store: Store, doc_key: str, reviewer: str) -> None:
    session = _sessions().get(doc_key) or _reopen(store, doc_key)
    versions = store.versions(doc_key)
    latest = versions[-1].version if versions else session.base_version
    report_header_panel(
        store=store, session=session, latest_version=latest, reviewer=reviewer, key_prefix="rv_report_"
    )
    conflict_panel(store=store, session=session, reviewer=reviewer, key_prefix="rv_conflict_")
    with st.sidebar:
        save_panel(store=store, session=session, reviewer=reviewer, key_prefix="rv_save_")
        st.divider()
        gold_panel(store=store, session=session, key_prefix="rv_gold_")
    focus_list = ListName(st.session_state.get("rv_focus_list", ListName.ACHIEVEMENTS.value))
    focus = views.focus_of(session, focus_list, st.session_state.get(f"rv_{focus_list.value}_focus"))
    left, right = st.columns([5, 6])
    with left:
        source_panel(session=session, focus=focus)
    with right:
        tabs = st.tabs(
            ["基本信息", *LIST_LABELS.values(), "修改记录"], default=LIST_LABELS[ListName.ACHIEVEMENTS]
        )
        with tabs[0]:
            meta_panel(session=session, key_prefix="rv_meta_")
        for tab, list_name in zip(tabs[1:4], ListName, strict=True):
            with tab:
                items_panel(
                    session=session, list_name=list_name, focused=list_name is focus_list,
                    key_prefix=f"rv_{list_name.value}_",
                )  # fmt: skip
        with tabs[4]:
            audit_panel(store=store, session=session, versions=versions)
    _keep_draft(store, session, reviewer)


# -- widgets with conversion -------------------------------------------------------------------


def _metrics_editor(*, item: Achievement, key: str) -> list[dict[str, Any]]:
    frame = pd.DataFrame(metric_rows(item), columns=list(METRIC_COLUMNS)).astype(
        {"name": "string", "value": "float64", "unit": "string", "evidence": "string"}
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


def main() -> None:
    st.set_page_config(page_title="法治政府建设报告审核", layout="wide")
    st.title("法治政府建设年度报告 · 人工审核")
    try:
        store = get_store(os.environ.get(DB_URL_ENV, "").strip())
        if st.sidebar.radio("页面", ["审核", "分析"], horizontal=True, key="app_page") == "分析":
            from extractor.analysis.page import render_analysis_page  # scikit-learn: only when asked for

            render_analysis_page(store=store, key_prefix="an_")
            return
        reviewer = reviewer_panel(key_prefix="rv_top_")
        flash_panel()
        doc_key = st.session_state.get("rv_open")
        if doc_key:
            report_page(store=store, doc_key=doc_key, reviewer=reviewer)
        else:
            queue_panel(store=store, key_prefix="rv_queue_")
            output_panel(store=store, key_prefix="rv_output_")
    except ExtractorError as e:
        st.error(str(e))


main()
