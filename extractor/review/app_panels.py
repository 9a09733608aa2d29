"""The review screen's page-level panels: name, queue, downloads, report header (locks, restored
draft), save conflicts, save, audit and gold. One function per panel, keyword-only arguments,
widget keys prefixed by the panel; the editor's panels are in `app_items`.
"""

from __future__ import annotations

import streamlit as st

from extractor.core.errors import GoldError
from extractor.core.labels import STATUS_LABELS
from extractor.core.paths import default_gold_dir
from extractor.review import app_state, audit, downloads
from extractor.review import queue as review_queue
from extractor.review.decisions import decisions_by_version
from extractor.review.gold import promote_stored
from extractor.review.navigation import queue_button_label
from extractor.review.queue_keys import queue_keys
from extractor.review.session import ReviewSession
from extractor.store import RecordVersionInfo, Store
from extractor.store.queries import beijing_text

SHORTCUTS = (
    "快捷键（光标不在输入框时）：j / k 下一条 / 上一条 · a 接受 · x 退回 · e 编辑摘要 · s 保存 · ? 显示全部；"
    "点击原文中的高亮即编辑该条；选中原文可添加为遗漏条目。在「摘要」框中按 Enter = 接受并跳到下一条。"
)
QUEUE_KEYS = "点击一份报告即打开；也可按 j / k（或 ↓ / ↑）在报告之间移动，Enter 打开。"
SAVE_STATUSES = ["in_review", "approved", "rejected"]
_KEEP_LABELS = {"mine": "保留我的", "theirs": "保留对方的"}
#: How long a download's click waits for its file to start and to be built before the page
#: carries on (a failure after that is not shown; the browser still says the download failed).
EXPORT_START_WAIT_S = 2.0
EXPORT_WAIT_S = 60.0


#: Streamlit's own words a reviewer would otherwise read in English, said in Chinese: the hint
#: under a text field being typed in ("Press Enter to apply"; the name field is the only one
#: outside a form, and the forms submit only by their button) and the link the first Tab
#: shows ("Skip to main content"). Streamlit has no setting for either; tables are st.table
#: (a dataframe's toolbar has English tooltips) and selections are pills or radios (a
#: multiselect's placeholder is "Choose options").
PAGE_STYLE = """<style>
.st-key-rv_top_reviewer [data-testid="InputInstructions"],
[data-testid="stSkipToContent"] { font-size: 0; }
.st-key-rv_top_reviewer [data-testid="InputInstructions"]::after { content: "按 Enter 确认"; font-size: 0.75rem; }
[data-testid="stSkipToContent"]::after { content: "跳到主要内容"; font-size: 1rem; }
</style>"""


def page_style_panel() -> None:
    st.html(PAGE_STYLE)  # style only: Streamlit adds it without taking space on the page


def reviewer_panel(*, key_prefix: str) -> str:
    pending = st.session_state.pop("rv_pending_reviewer", None)
    if pending:
        st.session_state[f"{key_prefix}reviewer"] = pending
    name = st.text_input(
        "审核人", key=f"{key_prefix}reviewer", placeholder="请输入您的姓名，按 Enter 确认（保存时必填）"
    )
    return name.strip()


def flash_panel() -> None:
    for kind, message in st.session_state.pop("rv_flash", []):
        getattr(st, kind)(message)


def queue_panel(*, store: Store, key_prefix: str) -> None:
    st.header("待审核报告", anchor=False)
    rows = review_queue.load_queue(store)
    done = review_queue.progress(rows)
    st.progress(done.fraction, text=f"已审核 {done} 份报告")
    if not rows:
        st.info("库中还没有报告。请先运行抽取，例如 `extractor extract eval/docs`。")
        return
    c1, c2, c3 = st.columns([3, 1, 1])
    # Pills, not a multiselect: no English placeholder ("Choose options") or search hints.
    # A changed filter starts again at the first page.
    page_key = f"{key_prefix}page"
    to_first = (page_key, 0)
    statuses = c1.pills(
        "状态（不选即全部）", options=list(STATUS_LABELS), format_func=STATUS_LABELS.__getitem__,
        selection_mode="multi", key=f"{key_prefix}status", on_change=_set_page, args=to_first,
    )  # fmt: skip
    flagged_only = c2.checkbox(
        "只看有待核查条目的", key=f"{key_prefix}flagged", on_change=_set_page, args=to_first
    )
    flagged_first = c3.checkbox(
        "待核查优先", value=True, key=f"{key_prefix}flagged_first", on_change=_set_page, args=to_first
    )
    shown = review_queue.sort_rows(
        review_queue.filter_rows(rows, statuses=statuses, flagged_only=flagged_only),
        flagged_first=flagged_first,
    )
    if not shown:
        st.caption("没有符合筛选条件的报告。")
        return
    page = review_queue.page_of(shown, page=st.session_state.get(page_key, 0))
    st.table(review_queue.table_rows(page.rows), hide_index=True)  # no toolbar (English tooltips)
    st.caption(QUEUE_KEYS)
    queue_keys(key=f"{key_prefix}keys")
    for row in page.rows:
        st.button(
            queue_button_label(row), key=f"{key_prefix}open_{row.doc_key[:16]}",
            on_click=app_state.open_report, args=(row.doc_key,), width="stretch",
        )  # fmt: skip
    _pager(page, page_key=page_key, key_prefix=key_prefix)


def _set_page(page_key: str, number: int) -> None:
    st.session_state[page_key] = number


def _pager(page: review_queue.QueuePage, *, page_key: str, key_prefix: str) -> None:
    """上一页 / 下一页 under the page's reports (their widget keys are what the queue's keys
    press to move past a page's first or last report)."""
    if page.count == 1:
        return
    c1, c2, c3 = st.columns([1, 3, 1], vertical_alignment="center")
    c1.button(
        "← 上一页", key=f"{key_prefix}previous_page", disabled=not page.has_previous,
        on_click=_set_page, args=(page_key, page.number - 1), width="stretch",
    )  # fmt: skip
    c2.caption(page.caption())
    c3.button(
        "下一页 →", key=f"{key_prefix}next_page", disabled=not page.has_next,
        on_click=_set_page, args=(page_key, page.number + 1), width="stretch",
    )  # fmt: skip


def output_panel(*, store: Store, key_prefix: str) -> None:
    st.subheader("下载审核结果", anchor=False)
    approved_only = st.checkbox("只包括「已通过」的报告", value=True, key=f"{key_prefix}approved_only")
    summaries, _ = review_queue.stored_summaries(store)  # read once per saved change, no record parsed
    count = review_queue.reviewed_count(summaries, approved_only=approved_only)
    if not count:
        st.caption("还没有可下载的审核记录。")
        return
    columns = st.columns(len(downloads.FORMATS))
    for column, (fmt, mime) in zip(columns, downloads.FORMATS.items(), strict=True):
        # Built on click in Streamlit's own thread (no run builds every record's file); its
        # failure reaches the reviewer through the click's rerun, which waits for it.
        export = downloads.DeferredExport(
            store.url.render_as_string(hide_password=False), fmt=fmt, approved_only=approved_only
        )
        column.download_button(
            f"下载 {fmt.upper()}（{count} 份）",
            data=export,
            file_name=downloads.download_name(fmt),
            mime=mime,
            key=f"{key_prefix}{fmt}",
            on_click=_report_export_failure,
            args=(export,),
        )


def _report_export_failure(export: downloads.DeferredExport) -> None:
    message = export.wait_failure(start_within=EXPORT_START_WAIT_S, finish_within=EXPORT_WAIT_S)
    if message:
        st.session_state.setdefault("rv_flash", []).append(("error", message))


def report_header_panel(
    *, store: Store, session: ReviewSession, latest_version: int, key_prefix: str
) -> None:
    st.button(
        "← 返回报告列表", key=f"{key_prefix}back", on_click=app_state.on_back, args=(store, session.doc_key)
    )
    stored = session.stored
    st.header(f"{session.doc_id}：{session.meta.issuer or '（未知发布机关）'}", anchor=False)
    if latest_version > stored.latest_version:
        st.warning(
            f"您打开这份报告后，已有人保存了 v{latest_version}；保存时会与之按条目合并，"
            "只有双方改了同一处时才需要您选择（见「修改记录」）。"
        )
    owner = app_state.draft_owner()
    others = [lock for lock in store.active_locks(session.doc_key) if lock.holder != owner]
    if others:
        names = "；".join(
            f"{lock.reviewer or '未署名审核人'}（自 {beijing_text(lock.opened_at)}）" for lock in others
        )
        st.info(f"同事也打开了这份报告：{names}。")
    if session.restored_at is not None:
        st.info(f"已恢复您 {beijing_text(session.restored_at)} 未保存的修改。")
        st.button(
            "放弃未保存的修改", key=f"{key_prefix}discard",
            on_click=app_state.on_discard, args=(store, session.doc_key),
        )  # fmt: skip
    st.caption(SHORTCUTS)


def version_panel(*, session: ReviewSession) -> None:
    """The version opened and whether there are unsaved changes: drawn in the review fragment,
    so a decision made with a key (a fragment run) updates it."""
    stored = session.stored
    unsaved = " · 有未保存的修改" if session.has_unsaved_changes() else ""
    st.caption(
        f"状态：{STATUS_LABELS.get(stored.status, stored.status)} · 打开的版本：v{session.base_version}"
        f"{f'（{stored.reviewer}）' if stored.reviewer else ''}{unsaved}"
    )


def conflict_panel(*, store: Store, session: ReviewSession, key_prefix: str) -> None:
    message = st.session_state.get("rv_conflict", {}).get(session.doc_key)
    if not message:
        return
    st.error(message)
    conflicts = st.session_state.get("rv_merge_conflicts", {}).get(session.doc_key)
    if conflicts:
        keep_keys = {c.path: f"{key_prefix}keep_{c.path}" for c in conflicts}
        for c in conflicts:
            st.radio(
                c.label, ["mine", "theirs"], format_func=_KEEP_LABELS.__getitem__,
                key=keep_keys[c.path], horizontal=True,
            )  # fmt: skip
        st.button(
            "按所选保存", type="primary", key=f"{key_prefix}resolve",
            on_click=app_state.on_resolve, args=(store, session, "rv_save_status", keep_keys),
        )  # fmt: skip
    pending = audit.change_lines_between(session.stored.record, session.record())
    if pending:
        with st.expander("您未保存的修改（载入最新版本后需要重新录入）"):
            st.table([line.as_row() for line in pending], hide_index=True)
    st.button(
        "载入最新版本（放弃本页未保存的修改）", key=f"{key_prefix}reload",
        on_click=app_state.on_reload_latest, args=(store, session.doc_key),
    )  # fmt: skip


def save_panel(*, store: Store, session: ReviewSession, key_prefix: str) -> None:
    st.subheader("保存", anchor=False)
    decided, total = session.progress()
    status_key = f"{key_prefix}status"
    st.radio(
        "保存为",
        SAVE_STATUSES,
        index=SAVE_STATUSES.index(session.suggested_status()),
        format_func=STATUS_LABELS.__getitem__,
        key=status_key,
    )
    st.button(
        "接受其余全部", key=f"{key_prefix}accept_all", disabled=decided == total,
        on_click=app_state.on_accept_all, args=(store, session, status_key),
    )  # fmt: skip
    st.button(
        "保存为新版本", type="primary", key=f"{key_prefix}save", shortcut="Alt+S",
        on_click=app_state.on_save, args=(store, session, status_key),
    )  # fmt: skip


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
    st.subheader("设为金标准", anchor=False)
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
