"""Typing held in the item editor (not yet sent with Enter, 接受 or 修改) goes with the sidebar's
保存为新版本 and 接受其余全部, or they refuse and name the items: never saved into an item the
reviewer did not type into, never dropped. Plain Python first, then the page (AppTest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from review_fixtures import DOC_ID, fill_store
from test_review_app import db_url, messages, open_report, pane, pane_item, started  # noqa: F401  (db_url: fixture)

from extractor.core.schema import ListName
from extractor.review import Decision, ReviewInputError, ReviewSession, open_session
from extractor.review.app_state import pane_key
from extractor.review.edits import ItemEdit
from extractor.review.source_pane import Focus, apply_actions, pane_data
from extractor.review.source_pane.unsent import apply_unsent
from extractor.store import Store

A, P = ListName.ACHIEVEMENTS, ListName.PROBLEMS


@pytest.fixture
def session(tmp_path: Path) -> ReviewSession:
    with Store(fill_store(tmp_path / "review.db")) as store:
        return open_session(store, DOC_ID)


def fv(session: ReviewSession, item_id: str) -> str:
    """The fields version the pane was sent for an item (what typing is made against)."""
    data = pane_data(session, focus=Focus(A, 0), ack=0)
    return next(item["fv"] for item in data["items"] if item["id"] == item_id)


def typed(session: ReviewSession, list_name: ListName, position: int, **edit: Any) -> dict[str, Any]:
    return {
        "list": list_name.value,
        "position": position,
        "fv": fv(session, f"{list_name.value}:{position}"),
        "edit": edit,
    }


def test_typing_is_applied_as_a_fix_of_the_item_it_was_typed_into(session: ReviewSession) -> None:
    applied = apply_unsent(session, [typed(session, A, 1, text="开展普法宣传活动120场")])
    assert applied == ["成效 第2条"]
    entry = session.entry(A, 1)
    assert entry.item.text == "开展普法宣传活动120场" and entry.decision is Decision.FIXED
    assert session.entry(A, 0).decision is None  # the others are untouched


def test_typing_already_applied_or_typed_back_changes_nothing(session: ReviewSession) -> None:
    entry = typed(session, A, 1, text="开展普法宣传活动120场")
    apply_unsent(session, [entry])
    # The same report again (its fields version is now older): the values are there already.
    assert apply_unsent(session, [entry]) == []
    assert apply_unsent(session, [typed(session, A, 0, text=session.entry(A, 0).item.text)]) == []
    assert session.entry(A, 0).decision is None


def test_typing_against_an_item_changed_since_is_refused_and_nothing_applied(session: ReviewSession) -> None:
    good = typed(session, P, 0, cause="人员编制不足")
    stale = typed(session, A, 1, text="开展普法宣传活动120场")
    session.accept(A, 1, None)  # the item changed after the typing began (here: decided)
    with pytest.raises(ReviewInputError) as refused:
        apply_unsent(session, [good, stale])
    assert "成效 第2条在输入之后已有变动" in refused.value.message
    assert session.entry(P, 0).item.cause is None and session.entry(P, 0).decision is None
    assert session.entry(A, 1).item.text == "开展普法活动120场"


def test_typing_never_lands_on_the_item_that_moved_into_its_place(session: ReviewSession) -> None:
    session.add_item_at(A, *_span(session, "办理法律援助案件86件"))
    session.add_item_at(A, *_span(session, "挽回经济损失约8万元"))
    second_added = len(session.entries(A)) - 1
    into_last = typed(session, A, second_added, text="挽回经济损失约8万元（改）")
    into_first_added = typed(session, A, second_added - 1, text="办理法律援助案件86件（改）")
    # The first added item is dropped: the second moves up into its position.
    done = apply_actions(
        session,
        [{"seq": 1, "kind": "reject", "list": "achievements", "position": second_added - 1}],
        focus=Focus(A, 0),
        last_seq=0,
    )
    assert not done.refused
    with pytest.raises(ReviewInputError) as refused:
        apply_unsent(session, [into_first_added, into_last])
    message = refused.value.message
    assert f"成效 第{second_added}条在输入之后已有变动" in message
    assert f"成效 第{second_added + 1}条已不存在" in message
    assert "（改）" not in session.entries(A)[second_added - 1].item.text


def test_typing_the_session_refuses_is_named_with_the_reason(session: ReviewSession) -> None:
    with pytest.raises(ReviewInputError) as refused:
        apply_unsent(session, [typed(session, A, 1, evidence="全年培训执法人员500人次。")])
    assert "成效 第2条：" in refused.value.message and "原文" in refused.value.message
    assert session.entry(A, 1).decision is None


def _span(session: ReviewSession, passage: str) -> tuple[int, int]:
    start = session.source.index(passage)
    return start, start + len(passage)


# -- the page: the sidebar's buttons -------------------------------------------------------


def _hold_typing(at: Any, *entries: dict[str, Any]) -> None:
    """Put typing in the pane's state as the browser's editor reports it (no action sent)."""
    [doc_key] = at.session_state["rv_sessions"]
    at.session_state[pane_key(doc_key)] = {"actions": [], "have": None, "typing": list(entries)}


def _typing_for(at: Any, item_id: str, **edit: Any) -> dict[str, Any]:
    list_name, position = item_id.split(":")
    return {"list": list_name, "position": int(position), "fv": pane_item(at, item_id)["fv"], "edit": edit}


def test_the_sidebar_save_stores_the_typing_the_editor_shows(db_url: str) -> None:  # noqa: F811
    at = open_report(started())
    _hold_typing(at, _typing_for(at, "achievements:1", text="开展普法宣传活动120场"))
    at.button(key="rv_save_save").click().run()
    assert any("已保存为 v2" in s for s in messages(at, "success"))
    assert any("成效 第2条" in i for i in messages(at, "info"))
    with Store(db_url) as store:
        saved = store.current_record(DOC_ID).record
    assert saved.achievements[1].text == "开展普法宣传活动120场"


def test_the_sidebar_refuses_typing_it_cannot_apply_and_saves_or_accepts_nothing(db_url: str) -> None:  # noqa: F811
    at = open_report(started())
    stale = _typing_for(at, "achievements:1", text="开展普法宣传活动120场")
    stale["fv"] = "0000000000000000"  # typed against fields the item no longer has
    _hold_typing(at, stale)
    at.button(key="rv_save_accept_all").click().run()
    assert any("成效 第2条在输入之后已有变动" in e for e in messages(at, "error"))
    assert pane_item(at, "achievements:0")["state"] == "open"  # nothing accepted
    at.button(key="rv_save_save").click().run()
    assert any("成效 第2条在输入之后已有变动" in e for e in messages(at, "error"))
    with Store(db_url) as store:
        assert [v.version for v in store.versions(DOC_ID)] == [1]


def test_accept_all_takes_the_typing_as_a_fix_and_accepts_the_rest(db_url: str) -> None:  # noqa: F811
    at = open_report(started())
    _hold_typing(at, _typing_for(at, "problems:0", cause="人员编制不足"))
    at.button(key="rv_save_accept_all").click().run()
    assert pane_item(at, "problems:0")["fields"]["cause"] == "人员编制不足"
    assert pane_item(at, "problems:0")["fields"]["decision"] == "已修改"
    assert all(item["state"] != "open" for item in pane(at)["items"])


def test_a_report_already_applied_is_not_applied_again_but_new_typing_is(session: ReviewSession) -> None:
    entry = {**typed(session, A, 1, text="开展普法宣传活动120场"), "draft": "t1"}
    apply_unsent(session, [entry])
    session.restore(A, 1)
    session.fix(A, 1, ItemEdit(text="开展普法活动120场"))  # back to the fields the typing began on
    # The browser's report still lists the applied draft: it is not applied over the change.
    assert apply_unsent(session, [entry], applied_before=[entry]) == []
    assert session.entry(A, 1).item.text == "开展普法活动120场"
    # The same words typed again are a new draft: applied.
    again = {**entry, "fv": fv(session, "achievements:1"), "draft": "t2"}
    assert apply_unsent(session, [again], applied_before=[entry]) == ["成效 第2条"]
