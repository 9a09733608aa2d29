"""The review screen's glue to `st.session_state`: open sessions, drafts, soft locks, focus and
the callbacks widgets run before a rerun. No layout here (that is `app_panels` / `app_items`);
every decision is made by the plain modules of this package.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, cast

import streamlit as st

from extractor.core.errors import ReviewConflictError
from extractor.core.labels import STATUS_LABELS
from extractor.review import audit
from extractor.review import drafts as review_drafts
from extractor.review.errors import MergeConflictError, ReviewInputError
from extractor.review.focus_state import FocusState
from extractor.review.merge import Side
from extractor.review.session import ReviewSession, open_session
from extractor.review.source_pane import Focus, apply_actions
from extractor.review.source_pane.unsent import apply_unsent
from extractor.store import RecordVersionInfo, Store

#: Seconds between soft-lock heartbeats (well inside extractor.store.LOCK_EXPIRY).
LOCK_HEARTBEAT_S = 30
#: The name field's widget key (callbacks read the reviewer from it).
REVIEWER_KEY = "rv_top_reviewer"
#: The 保存为 radio's widget key (a save asked for in the pane reads the status from it).
SAVE_STATUS_KEY = "rv_save_status"
#: How many refused action seqs the pane is told about (it needs only its edits in flight).
_REFUSED_KEPT = 50
#: Called with the database URL after every save that wrote a version (review_app.py wires
#: it to the analysis's warming: review does not import its sibling analysis).
_after_save: Callable[[str], None] | None = None


def after_save(callback: Callable[[str], None] | None) -> None:
    """Set what runs after each save (once per process is enough; setting it again replaces it)."""
    global _after_save
    _after_save = callback


def flash(kind: str, message: str) -> None:
    st.session_state.setdefault("rv_flash", []).append((kind, message))


def sessions() -> dict[str, ReviewSession]:
    return st.session_state.setdefault("rv_sessions", {})


def reviewer() -> str:
    return str(st.session_state.get(REVIEWER_KEY, "")).strip()


def forget_item_widgets() -> None:
    """Drop the editors' widget state so they show the record as it is now."""
    for key in [
        k for k in st.session_state if isinstance(k, str) and ("_item_" in k or k.startswith("rv_meta_"))
    ]:
        del st.session_state[key]


def draft_owner() -> str:
    """Whose drafts and soft locks these are: a token kept in the page's URL, so a reload
    (or a crash of this server) finds the same draft in the database."""
    owner = st.query_params.get("reviewer_key")
    if not owner:
        owner = secrets.token_urlsafe(12)
        st.query_params["reviewer_key"] = owner
    return owner


def reopen(store: Store, doc_key: str, *, in_callback: bool = False) -> ReviewSession:
    session = open_session(store, doc_key, owner=draft_owner())
    sessions()[doc_key] = session
    forget_item_widgets()
    if session.reviewer and not st.session_state.get(REVIEWER_KEY):
        # The name field takes the draft's name before it is drawn: on the next run, or on
        # this one when a callback reopened the report (callbacks run before any widget).
        st.session_state["rv_pending_reviewer"] = session.reviewer
        if not in_callback:
            st.rerun()
    return session


def heartbeat(store: Store, doc_key: str, name: str) -> None:
    """Keep this page's soft lock alive: a write only every LOCK_HEARTBEAT_S (or when the
    name changes), not on every rerun."""
    beats = st.session_state.setdefault("rv_lock_beat", {})
    now = time.monotonic()
    last = beats.get(doc_key)
    if last is None or now - last[0] > LOCK_HEARTBEAT_S or last[1] != name:
        store.touch_lock(doc_key, holder=draft_owner(), reviewer=name)
        beats[doc_key] = (now, name)


def keep_draft(store: Store, session: ReviewSession) -> None:
    """Write the draft when the decisions changed (the digest says whether they did)."""
    digests = st.session_state.setdefault("rv_draft_digest", {})
    digests[session.doc_key] = review_drafts.autosave_draft(
        store, session, owner=draft_owner(), reviewer=reviewer(), last_digest=digests.get(session.doc_key)
    )


def focus() -> FocusState:
    # Session state is a mutable mapping keyed by widget keys (str or int); ours are str.
    return FocusState(cast(MutableMapping[str, Any], st.session_state))


def open_report(doc_key: str | None, at: Focus | None = None) -> None:
    st.session_state["rv_open"] = doc_key
    st.session_state.pop("rv_pane_notices", None)  # the last visit's messages are done with
    focus().reset(at)
    forget_item_widgets()


def on_back(store: Store, doc_key: str) -> None:
    """Back to the queue: the soft lock goes (colleagues stop seeing this page as open)."""
    store.release_lock(doc_key, holder=draft_owner())
    st.session_state.get("rv_lock_beat", {}).pop(doc_key, None)
    open_report(None)


def on_discard(store: Store, doc_key: str) -> None:
    sessions()[doc_key] = review_drafts.discard_draft(store, sessions()[doc_key], owner=draft_owner())
    forget_item_widgets()


def pane_key(doc_key: str) -> str:
    return f"rv_pane_{doc_key[:16]}"


def on_pane_actions(store: Store, doc_key: str) -> None:
    """The pane's queue changed (a key, a click, an edit, a selection): apply what is new.
    Its messages go back to the pane (shown in its editor, no Streamlit element redrawn);
    a save asked for with `s` is made here, after the actions before it."""
    session = sessions().get(doc_key)
    state = st.session_state.get(pane_key(doc_key))
    if session is None or state is None:
        return
    seen = st.session_state.setdefault("rv_pane_seq", {})
    outcome = apply_actions(
        session, state.get("actions"), focus=focus().current(session), last_seq=seen.get(doc_key, 0)
    )
    if outcome.last_seq == seen.get(doc_key, 0):
        return  # nothing new (the state echoed back, or "have" changed)
    seen[doc_key] = outcome.last_seq
    notices = list(outcome.messages)
    if outcome.save:
        status = st.session_state.get(SAVE_STATUS_KEY) or session.suggested_status()
        # The page outside the pane's fragment says things a save can make untrue: a
        # conflict, the restored draft, a colleague's newer version (merged by this save).
        said_outside = (
            session.doc_key in st.session_state.get("rv_conflict", {}) or session.restored_at is not None
        )
        info = save(store, session, status=status, keep=None, notify=lambda k, m: notices.append((k, m)))
        merged = info is not None and info.base_version != session.base_version
        if said_outside or merged or session.doc_key in st.session_state.get("rv_conflict", {}):
            st.session_state["rv_full_run"] = True  # redraw the whole page, not only the pane
    st.session_state.setdefault("rv_pane_notices", {})[doc_key] = notices
    # Kept across batches (the last few): a later batch applied before the pane saw this
    # one's state must not make the pane drop the typing of an edit refused here.
    refused = st.session_state.setdefault("rv_pane_refused", {})
    refused[doc_key] = [*refused.get(doc_key, []), *outcome.refused][-_REFUSED_KEPT:]
    if outcome.changed:
        forget_item_widgets()
    focus().set(outcome.focus, show_tab=True)


def pane_feedback(doc_key: str) -> dict[str, Any]:
    """What the pane shows of the last actions applied: messages and refused seqs."""
    return {
        "notices": st.session_state.get("rv_pane_notices", {}).get(doc_key, []),
        "refused": st.session_state.get("rv_pane_refused", {}).get(doc_key, []),
    }


def on_accept_all(store: Store, session: ReviewSession, status_key: str) -> None:
    # The pane's last key presses may arrive in this same run: they are the reviewer's
    # earlier acts, so they apply first (Streamlit runs callbacks in no promised order).
    on_pane_actions(store, session.doc_key)
    st.session_state.pop("rv_full_run", None)  # this run is a full one already
    session = sessions().get(session.doc_key, session)
    if not _apply_typing(session):
        return
    count = session.accept_remaining()
    # The radio keeps its own state: the status to save follows the decisions.
    st.session_state[status_key] = session.suggested_status()
    flash("success", f"已接受其余 {count} 条。")


def on_save(store: Store, session: ReviewSession, status_key: str) -> None:
    """Save as a callback: the page is drawn once, after the save, with the new version.
    The pane's actions not applied yet (a key pressed just before the click) apply first."""
    on_pane_actions(store, session.doc_key)
    st.session_state.pop("rv_full_run", None)  # this run is a full one already
    session = sessions().get(session.doc_key, session)
    if _apply_typing(session):
        save(store, session, status=st.session_state[status_key], keep=None)


def _apply_typing(session: ReviewSession) -> bool:
    """The item editor's typing not sent yet (the pane reports it as state) applied as 修改
    before a sidebar action, so what the editor shows is what is saved or accepted. False
    (with the reason flashed, nothing applied, the typing left in the editor) when it cannot
    be applied as the reviewer sees it."""
    state = st.session_state.get(pane_key(session.doc_key)) or {}
    # The editor stays on the item it shows: a focus never set explicitly follows the
    # display order, which a decision reorders.
    shown = focus().current(session)
    typing = state.get("typing") or []
    applied_before = st.session_state.setdefault("rv_typing_applied", {})
    try:
        applied = apply_unsent(session, typing, applied_before=applied_before.get(session.doc_key, []))
    except ReviewInputError as e:
        flash("error", e.message)
        return False
    applied_before[session.doc_key] = list(typing)
    focus().set(shown, show_tab=False)
    if applied:
        flash("info", f"已把编辑框中尚未提交的修改记为「修改」：{'、'.join(applied)}。")
    return True


def on_resolve(store: Store, session: ReviewSession, status_key: str, keep_keys: Mapping[str, str]) -> None:
    """Save again with the reviewer's choice for each field both sides changed."""
    keep: dict[str, Side] = {
        path: "theirs" if st.session_state.get(key) == "theirs" else "mine" for path, key in keep_keys.items()
    }
    save(store, session, status=st.session_state.get(status_key, "in_review"), keep=keep)


def on_reload_latest(store: Store, doc_key: str) -> None:
    st.session_state.get("rv_conflict", {}).pop(doc_key, None)
    st.session_state.get("rv_merge_conflicts", {}).pop(doc_key, None)
    store.discard_draft(doc_key, owner=draft_owner())
    reopen(store, doc_key, in_callback=True)
    flash("info", "已载入最新版本。")


def save(
    store: Store,
    session: ReviewSession,
    *,
    status: str,
    keep: Mapping[str, Side] | None,
    notify: Callable[[str, str], None] = flash,
) -> RecordVersionInfo | None:
    """Save a new version (merged with colleagues' saves); the outcome and refusals go to
    `notify`, a conflict to the conflict panel. The version saved, or None."""
    conflicts = st.session_state.setdefault("rv_conflict", {})
    merge_conflicts = st.session_state.setdefault("rv_merge_conflicts", {})
    try:
        info = session.save(store, reviewer=reviewer(), status=status, owner=draft_owner(), keep=keep)
    except ReviewInputError as e:
        notify("error", e.message)
        return None
    except MergeConflictError as e:
        conflicts[session.doc_key] = e.message
        merge_conflicts[session.doc_key] = e.conflicts
        return None
    except ReviewConflictError as e:
        explanation = audit.conflict_explanation(store.versions(session.doc_key), session.base_version)
        conflicts[session.doc_key] = f"保存冲突，本次没有保存任何内容：{explanation}（{e.message}）"
        return None
    conflicts.pop(session.doc_key, None)
    merge_conflicts.pop(session.doc_key, None)
    if _after_save is not None:
        _after_save(store.url.render_as_string(hide_password=False))
    merged = f"（已与 v{info.base_version} 合并）" if info.base_version != session.base_version else ""
    reopen(store, session.doc_key, in_callback=True)
    # The save deleted the draft with it: nothing for keep_draft to discard after this run.
    st.session_state.setdefault("rv_draft_digest", {})[session.doc_key] = None
    notify(
        "success",
        f"已保存为 v{info.version}{merged}（{STATUS_LABELS[info.status]}，审核人：{info.reviewer}）。",
    )
    return info
