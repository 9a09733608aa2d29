"""The item editor drawn by the source pane: the fields it is sent and the decisions and edits
it sends back, applied by Python with ReviewSession's rules (no Streamlit)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_fixtures import DOC_ID, TEXT, fill_store

from extractor.core.schema import ListName
from extractor.review import Decision, ReviewInputError, ReviewSession, open_session
from extractor.review.source_pane import Focus, apply_actions, pane_data
from extractor.review.source_pane.editor import edit_of
from extractor.store import Store

A, P = ListName.ACHIEVEMENTS, ListName.PROBLEMS
FIRST = Focus(A, 0)
METRIC_ROWS = [
    {"name": "受理行政复议案件", "value": "37", "unit": "件", "evidence": "受理行政复议案件37件"},
    {"name": "已结案", "value": "31", "unit": "件", "evidence": "已结案31件"},
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(fill_store(tmp_path / "review.db")) as s:
        yield s


@pytest.fixture
def session(store: Store) -> ReviewSession:
    return open_session(store, DOC_ID)


def run(session: ReviewSession, *actions: dict[str, Any], focus: Focus = FIRST) -> Any:
    queued = [{**action, "seq": seq} for seq, action in enumerate(actions, start=1)]
    return apply_actions(session, queued, focus=focus, last_seq=0)


def test_the_editor_gets_each_items_fields_as_data_and_evidence_under_its_span_as_offsets(
    session: ReviewSession,
) -> None:
    data = pane_data(session, focus=Focus(A, 1), ack=0)
    by_id = {item["id"]: item for item in data["items"]}
    first = by_id["achievements:0"]
    assert first["fields"]["text"] == "受理行政复议案件37件，已结案31件"
    assert first["fields"]["evidence"] is None  # the browser cuts it from the text it holds
    assert TEXT[first["start"] : first["end"]] == session.entry(A, 0).item.evidence
    metric = first["fields"]["metrics"][0]
    assert metric["evidence"] is None and TEXT[metric["at"][0] : metric["at"][1]] == "受理行政复议案件37件"
    assert metric["value"] == 37 and metric["name"] == "受理行政复议案件"
    assert by_id["problems:0"]["fields"]["cause"] == "" and "metrics" not in by_id["problems:0"]["fields"]
    assert by_id["achievements:1"]["fields"]["reasons"] == ["规则与模型判断的领域不一致"]
    assert data["progress"] == [0, 4] and not data["unsaved"]
    assert "普法与法治宣传" in data["editor"]["areas"]
    json.dumps(data)


def test_an_edit_sent_with_accept_is_applied_and_focus_moves_on(session: ReviewSession) -> None:
    edit = {"area": "普法与法治宣传", "text": "开展普法宣传活动120场", "ignored": "x"}
    done = run(
        session, {"kind": "accept", "list": "achievements", "position": 1, "edit": edit}, focus=Focus(A, 1)
    )
    entry = session.entry(A, 1)
    assert entry.item.text == "开展普法宣传活动120场" and entry.item.area.value == "普法与法治宣传"
    assert entry.decision is Decision.FIXED and session.record().achievements[1].flags == []
    assert done.focus == Focus(A, 0) and not done.refused
    assert pane_data(session, focus=done.focus, ack=1)["unsaved"]


def test_a_contradicting_metric_blocks_approval_until_overridden_with_a_reason(
    store: Store, session: ReviewSession
) -> None:
    rows = [{**METRIC_ROWS[0], "value": "38"}, METRIC_ROWS[1]]
    done = run(session, {"kind": "accept", "list": "achievements", "position": 0, "edit": {"metrics": rows}})
    entry = session.entry(A, 0)
    assert entry.problems and entry.blocks_approval
    assert any("不能通过" in message for _, message in done.messages)
    fields = pane_data(session, focus=done.focus, ack=1)["items"][0]["fields"]
    assert fields["problems"] == entry.problems and fields["override"] is None
    session.accept_remaining()
    with pytest.raises(ReviewInputError, match="不能标记为「已通过」"):
        session.save(store, reviewer="王五", status="approved")
    assert [v.version for v in store.versions(DOC_ID)] == [1]
    refused = apply_actions(
        session,
        [{"seq": 9, "kind": "override", "list": "achievements", "position": 0, "reason": " "}],
        focus=done.focus,
        last_seq=1,
    )
    assert refused.refused == [9] and not entry.override
    apply_actions(
        session,
        [{"seq": 10, "kind": "override", "list": "achievements", "position": 0, "reason": "原文另有说明"}],
        focus=done.focus,
        last_seq=9,
    )
    assert entry.override == "原文另有说明" and not entry.blocks_approval


def test_a_refused_edit_lists_its_seq_changes_nothing_and_the_rest_apply(session: ReviewSession) -> None:
    before = session.entry(A, 0).item
    done = run(
        session,
        {"kind": "fix", "list": "achievements", "position": 0, "edit": {"text": before.text}},
        {
            "kind": "accept",
            "list": "achievements",
            "position": 0,
            "edit": {"evidence": "全年培训执法人员500人次。"},
        },
        {"kind": "accept", "list": "problems", "position": 0},
    )
    assert done.refused == [1, 2] and [kind for kind, _ in done.messages] == ["error", "error"]
    assert "没有修改任何内容" in done.messages[0][1] and "不在报告原文中" in done.messages[1][1]
    assert session.entry(A, 0).item == before and session.entry(A, 0).decision is None
    assert session.entry(P, 0).decision is Decision.ACCEPTED


def test_restore_undoes_a_rejection_and_save_is_left_to_the_caller(session: ReviewSession) -> None:
    done = run(
        session,
        {"kind": "reject", "list": "problems", "position": 0},
        {"kind": "restore", "list": "problems", "position": 0},
        {"kind": "save"},
    )
    assert session.entry(P, 0).decision is None and done.focus == Focus(P, 0)
    assert done.save and done.last_seq == 3 and not done.refused


def test_edit_of_reads_only_the_editors_fields() -> None:
    assert edit_of({"kind": "accept"}) is None
    assert edit_of({"edit": {"text": None, "unknown": 1}}) is None
    edit = edit_of({"edit": {"cause": "人手不足", "metrics": [{"name": "a", "value": "1", "extra": 2}, "x"]}})
    assert edit is not None and edit.cause == "人手不足"
    assert edit.metrics == [{"name": "a", "value": "1", "unit": None, "evidence": None}]


def test_fields_the_pane_holds_are_not_sent_again_and_changed_ones_are(session: ReviewSession) -> None:
    first = pane_data(session, focus=FIRST, ack=0)
    known = {item["id"]: item["fv"] for item in first["items"]}
    assert all("fields" in item for item in first["items"])
    session.accept(A, 0, edit_of({"edit": {"text": "受理行政复议案件37件"}}))
    again = pane_data(session, focus=FIRST, ack=1, with_text=False, known_fields=known)
    sent = {item["id"]: item for item in again["items"] if "fields" in item}
    assert (
        list(sent) == ["achievements:0"]
        and sent["achievements:0"]["fields"]["text"] == "受理行政复议案件37件"
    )
    assert sent["achievements:0"]["fv"] != known["achievements:0"]
