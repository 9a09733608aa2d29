"""The source pane's data and actions, and the review URL, without Streamlit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_fixtures import DOC_ID, TEXT, fill_store

from extractor.core.schema import ListName
from extractor.review import Decision, ReviewInputError, ReviewSession, open_session
from extractor.review.edits import ItemEdit
from extractor.review.focus_state import TABS_KEY, FocusState
from extractor.review.navigation import (
    doc_key_for,
    focus_from_params,
    queue_button_label,
    sync_url,
    url_params,
)
from extractor.review.queue import load_queue, queue_rows
from extractor.review.source_pane import Focus, apply_actions, pane_data, step
from extractor.store import Store

A, P, PL = ListName.ACHIEVEMENTS, ListName.PROBLEMS, ListName.PLANS


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(fill_store(tmp_path / "review.db")) as s:
        yield s


@pytest.fixture
def session(store: Store) -> ReviewSession:
    return open_session(store, DOC_ID)


def test_pane_data_is_text_and_offsets_that_point_at_each_items_evidence(session: ReviewSession) -> None:
    data = pane_data(session, focus=Focus(A, 1), ack=7)
    assert data["text"] == TEXT and data["focus"] == "achievements:1" and data["ack"] == 7
    by_id = {item["id"]: item for item in data["items"]}
    assert set(by_id) == {"achievements:0", "achievements:1", "problems:0", "plans:0"}
    for name in ListName:
        for position, entry in enumerate(session.entries(name)):
            item = by_id[f"{name.value}:{position}"]
            assert TEXT[item["start"] : item["end"]] == entry.item.evidence
    assert by_id["achievements:1"]["flagged"] and by_id["achievements:1"]["state"] == "open"
    assert data["order"]["achievements"] == [1, 0]  # flagged first, as the editor lists them
    json.dumps(data)  # what the component receives must be JSON


def test_keys_accept_and_reject_move_to_the_next_undecided_item(session: ReviewSession) -> None:
    focus = Focus(A, 1)
    done = apply_actions(
        session,
        [{"seq": 5, "kind": "accept", "list": "achievements", "position": 1}],
        focus=focus,
        last_seq=0,
    )
    assert session.entry(A, 1).decision is Decision.ACCEPTED and session.record().achievements[1].flags == []
    assert done.focus == Focus(A, 0) and done.last_seq == 5 and done.changed
    done = apply_actions(
        session,
        [{"seq": 6, "kind": "reject", "list": "achievements", "position": 0}],
        focus=done.focus,
        last_seq=5,
    )
    assert session.entry(A, 0).decision is Decision.REJECTED
    assert pane_data(session, focus=done.focus, ack=6)["items"][0]["state"] == "rejected"


def test_actions_already_applied_are_not_applied_twice(session: ReviewSession) -> None:
    queue = [
        {"seq": 10, "kind": "focus", "list": "plans", "position": 0},
        {"seq": 11, "kind": "accept", "list": "problems", "position": 0},
    ]
    first = apply_actions(session, queue, focus=Focus(A, 1), last_seq=0)
    assert first.focus == Focus(P, 0) and first.last_seq == 11
    session.restore(P, 0)
    again = apply_actions(session, queue, focus=first.focus, last_seq=first.last_seq)
    assert session.entry(P, 0).decision is None and not again.changed  # a rerun resent the queue


def test_a_stale_action_is_refused_with_a_message_and_the_rest_apply(session: ReviewSession) -> None:
    queue = [
        {"seq": 1, "kind": "accept", "list": "plans", "position": 9},
        {"seq": 2, "kind": "focus", "list": "problems", "position": 0},
    ]
    done = apply_actions(session, queue, focus=Focus(A, 1), last_seq=0)
    assert [kind for kind, _ in done.messages] == ["error"] and "没有第10条" in done.messages[0][1]
    assert done.focus == Focus(P, 0)


def test_a_selection_becomes_an_added_item_at_exactly_those_offsets(session: ReviewSession) -> None:
    sentence = "办理法律援助案件86件，挽回经济损失约8万元。"
    start = TEXT.index(sentence)
    action = {"seq": 3, "kind": "add", "list": "achievements", "start": start, "end": start + len(sentence)}
    done = apply_actions(session, [action], focus=Focus(A, 1), last_seq=0)
    added = session.entry(A, 2)
    assert done.focus == Focus(A, 2) and added.decision is Decision.ADDED
    assert (added.item.span.start, added.item.span.end) == (start, start + len(sentence))
    assert added.item.evidence == sentence
    assert any("已添加为主要成效第 3 条" in message for _, message in done.messages)


def test_a_selection_is_trimmed_of_the_line_breaks_around_it(session: ReviewSession) -> None:
    line = "二是部分执法人员"
    start = TEXT.index(line)
    position, _ = session.add_item_at(P, start - 1, start + len(line))  # the "\n" before it selected too
    assert session.entry(P, position).item.span.start == start


def test_a_selection_of_a_repeated_phrase_is_located_where_it_was_selected(store: Store) -> None:
    session = open_session(store, DOC_ID)
    phrase = "普法"
    second = TEXT.index(phrase, TEXT.index(phrase) + 1)
    position, _ = session.add_item_at(PL, second, second + len(phrase))
    assert session.entry(PL, position).item.span.start == second  # not the first occurrence


@pytest.mark.parametrize(("start", "end"), [(-1, 3), (5, 5), (0, len(TEXT) + 1)])
def test_a_selection_outside_the_text_is_refused(session: ReviewSession, start: int, end: int) -> None:
    with pytest.raises(ReviewInputError):
        session.add_item_at(A, start, end)


def test_step_wraps_around_the_lists_display_order(session: ReviewSession) -> None:
    assert step(session, Focus(A, 1), 1) == Focus(A, 0)
    assert step(session, Focus(A, 0), 1) == Focus(A, 1)
    assert step(session, Focus(A, 1), -1) == Focus(A, 0)
    assert step(session, Focus(A, None), 0) == Focus(A, 1)


def test_url_names_report_list_and_item_and_reads_back(store: Store) -> None:
    rows = queue_rows(store.list_documents())
    params = url_params(doc_id=DOC_ID, focus=Focus(P, 0))
    assert params == {"report": DOC_ID, "list": "problems", "item": "1"}
    assert doc_key_for(rows, params["report"]) == rows[0].doc_key
    assert focus_from_params(params) == Focus(P, 0)
    assert doc_key_for(rows, "no-such-report") is None and url_params(doc_id=None, focus=None) == {}
    assert focus_from_params({"list": "plans", "item": "x"}) == Focus(PL, None)
    assert focus_from_params({"list": "nonsense"}) is None
    assert queue_button_label(rows[0]).startswith("蓝山县司法局 2024年 · 待审核 · 已审 0 / 4 · 待核查 1 条")


def test_queue_button_names_progress_and_who_has_the_report_open(store: Store) -> None:
    session = open_session(store, DOC_ID)
    session.accept(PL, 0, ItemEdit())
    session.save(store, reviewer="李四", status="in_review")
    store.touch_lock(session.doc_key, holder="browser-2", reviewer="王五")
    [row] = load_queue(store)
    label = queue_button_label(row)
    assert "已审 1 / 4" in label and "王五（自 " in label and "正在审核" in label
    assert label.endswith(DOC_ID)


def test_focus_is_remembered_per_list_and_follows_the_open_tab(session: ReviewSession) -> None:
    state: dict[str, object] = {}
    focus = FocusState(state)
    assert focus.current(session) == Focus(A, 1)  # the flagged item first
    focus.set(Focus(A, 0), show_tab=False)
    focus.set(Focus(P, 0), show_tab=True)
    assert state[TABS_KEY] == "存在不足" and focus.current(session) == Focus(P, 0)
    state[TABS_KEY] = "主要成效"  # the reviewer clicks the tab: its list's item comes back
    assert focus.current(session) == Focus(A, 0)
    state[TABS_KEY] = "修改记录"  # not a list: the last list focused stays
    assert focus.current(session) == Focus(P, 0)
    focus.reset()
    assert focus.current(session) == Focus(A, 1) and state[TABS_KEY] == "主要成效"


def test_the_url_is_updated_only_in_its_own_parameters() -> None:
    query = {"report": "old", "item": "4", "reviewer_key": "token"}
    sync_url(query, url_params(doc_id=DOC_ID, focus=Focus(PL, None)))
    assert query == {"report": DOC_ID, "list": "plans", "reviewer_key": "token"}
    sync_url(query, {})
    assert query == {"reviewer_key": "token"}
