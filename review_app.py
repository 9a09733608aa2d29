"""Review screen: `streamlit run review_app.py` (database: $EXTRACTOR_DB_URL or ./extractor.db).

Thin by design: every decision lives in `extractor.review` (tested without Streamlit); the
panels are in `extractor.review.app_panels` / `app_items` and the session-state glue in
`extractor.review.app_state`. This file lays out the page: the queue, or a report with its
review fragment (the source pane with the item editor, a component the browser draws) and,
outside the fragment, the tabs a key press need not redraw. Review state lives in
`st.session_state` (per browser session) plus the draft in the database; only the Store
handle is cached.
"""

from __future__ import annotations

import os

import streamlit as st

from extractor.analysis.warm import warm_later
from extractor.core.errors import ExtractorError
from extractor.review import app_state
from extractor.review import queue as review_queue
from extractor.review.app_items import add_item_panel, meta_panel, overview_panel, source_panel
from extractor.review.app_panels import (
    audit_panel,
    conflict_panel,
    flash_panel,
    gold_panel,
    output_panel,
    page_style_panel,
    queue_panel,
    report_header_panel,
    reviewer_panel,
    save_panel,
    version_panel,
)
from extractor.review.navigation import doc_key_for, focus_from_params, sync_url, url_params
from extractor.store import DB_URL_ENV, Store

_MORE_TABS = ["补充遗漏条目", "条目一览", "基本信息", "修改记录"]


@st.cache_resource(show_spinner=False)
def get_store(url: str) -> Store:
    """The one Store handle per database URL (connections are pooled inside it). A server that
    starts warms the 分析 page's analysis in the background (read back from disk or computed),
    so the page's first opening after a restart does not pay for it."""
    store = Store(url or None)
    warm_later(store.url.render_as_string(hide_password=False))
    return store


def report_page(*, store: Store, doc_key: str) -> None:
    session = app_state.sessions().get(doc_key) or app_state.reopen(store, doc_key)
    versions = store.versions(doc_key)
    latest = versions[-1].version if versions else session.base_version
    report_header_panel(store=store, session=session, latest_version=latest, key_prefix="rv_report_")
    conflict_panel(store=store, session=session, key_prefix="rv_conflict_")
    with st.sidebar:
        save_panel(store=store, session=session, key_prefix="rv_save_")
        st.divider()
        gold_panel(store=store, session=session, key_prefix="rv_gold_")
    review_area(store=store, doc_key=doc_key)
    # Outside the fragment: a key press does not redraw these (opening a tab reruns the page).
    tabs = st.tabs(_MORE_TABS, key="rv_more_tabs", on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            add_item_panel(session=app_state.sessions()[doc_key], key_prefix="rv_add_")
    if tabs[1].open:
        with tabs[1]:
            overview_panel(session=app_state.sessions()[doc_key], key_prefix="rv_overview_")
    if tabs[2].open:
        with tabs[2]:
            meta_panel(session=app_state.sessions()[doc_key], key_prefix="rv_meta_")
    if tabs[3].open:
        with tabs[3]:
            audit_panel(store=store, session=app_state.sessions()[doc_key], versions=store.versions(doc_key))


@st.fragment
def review_area(*, store: Store, doc_key: str) -> None:
    """The source pane with the item editor, drawn by the browser. A fragment: the pane's
    actions (keys, clicks, edits) rerun only this part of the page, and the pane does not
    wait for the rerun to show the next item."""
    session = app_state.sessions()[doc_key]
    flash_panel()  # messages from a full run's callbacks (the pane shows its own)
    if st.session_state.pop("rv_full_run", False):
        # A save from the pane: the page outside this fragment (header, conflicts, the
        # restored-draft notice, 保存为) shows the version before it until redrawn.
        st.rerun()
    # The pane's callback has applied its actions before this run; any it has not (a run
    # that came without it: streamlit.testing sets a component's state directly) apply
    # here. Sequence numbers make this a no-op for actions already applied.
    app_state.on_pane_actions(store, doc_key)
    # Focus is settled before anything is drawn (callbacks ran first), so the pane, the
    # editor and the URL all show the same item in this run.
    focus = app_state.focus().current(session)
    sync_url(st.query_params, url_params(doc_id=session.doc_id, focus=focus))
    version_panel(session=session)
    source_panel(store=store, session=session, focus=focus)
    # Here, not after the fragment: a key press reruns only this fragment, and its decision
    # must reach the draft in the database all the same (a reload then finds it), and the
    # soft lock must stay alive while the reviewer works with keys alone.
    app_state.keep_draft(store, session)
    app_state.heartbeat(store, doc_key, app_state.reviewer())


def _open_from_url(store: Store) -> None:
    """On a session's first run, open the report and item the URL names (a link, a reload)."""
    if st.session_state.get("rv_url_read"):
        return
    st.session_state["rv_url_read"] = True
    doc_key = doc_key_for(review_queue.load_queue(store), st.query_params.get("report"))
    if doc_key is not None:
        app_state.open_report(doc_key, focus_from_params(st.query_params.to_dict()))


def main() -> None:
    st.set_page_config(page_title="法治政府建设报告审核", layout="wide")
    st.title("法治政府建设年度报告 · 人工审核", anchor=False)
    page_style_panel()
    # After a save, the 分析 page's analysis is computed in the background (one thread).
    app_state.after_save(warm_later)
    try:
        store = get_store(os.environ.get(DB_URL_ENV, "").strip())
        if st.sidebar.radio("页面", ["审核", "分析"], horizontal=True, key="app_page") == "分析":
            from extractor.analysis.page import render_analysis_page  # scikit-learn: only when asked for

            render_analysis_page(store=store, key_prefix="an_")
            return
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
