"""The review screen driven through streamlit.testing (AppTest) against a temporary store."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from review_fixtures import DOC_ID, fill_store
from streamlit.testing.v1 import AppTest

from extractor.core.schema import Area, ListName
from extractor.review import open_session
from extractor.review.app_state import pane_key
from extractor.review.edits import ItemEdit
from extractor.store import Store

APP = Path(__file__).resolve().parent.parent / "review_app.py"
SECRET = "sk-test-0123456789abcdef-never-shown"


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = fill_store(tmp_path / "review.db")
    monkeypatch.setenv("EXTRACTOR_DB_URL", url)
    monkeypatch.setenv("EXTRACTOR_GOLD_DIR", str(tmp_path / "gold"))
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return url


def started(reviewer: str = "张三") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    if reviewer:
        at.text_input(key="rv_top_reviewer").input(reviewer)
    return at


def open_report(at: AppTest) -> AppTest:
    next(b for b in at.button if str(b.key).startswith("rv_queue_open_")).click().run()
    assert not at.exception, at.exception
    return at


_SEQ = itertools.count(1)


def act(at: AppTest, *actions: dict[str, Any]) -> AppTest:
    """Queue `actions` in the source pane's state as its editor does in the browser (a key,
    a click, an edit) and run the page."""
    [doc_key] = at.session_state["rv_sessions"]
    queued = [{**action, "seq": next(_SEQ)} for action in actions]
    at.session_state[pane_key(doc_key)] = {"actions": queued, "have": None}
    at.run()
    assert not at.exception, at.exception
    return at


def pane(at: AppTest) -> dict[str, Any]:
    """The data the source pane and its editor were sent in the last run."""
    [component] = [
        node for node in _walk(at._tree) if type(getattr(node, "proto", None)).__name__ == "BidiComponent"
    ]
    return json.loads(component.proto.json)


def _walk(node: Any) -> Any:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def pane_item(at: AppTest, item_id: str) -> dict[str, Any]:
    return next(item for item in pane(at)["items"] if item["id"] == item_id)


def rendered_text(at: AppTest) -> str:
    return "\n".join(str(getattr(node, "proto", "")) for node in at._tree)


def messages(at: AppTest, kind: str) -> list[str]:
    return [element.value for element in getattr(at, kind)]


def test_queue_lists_the_report_with_status_flags_and_progress(db_url: str) -> None:
    at = started()
    table = at.table[0].value
    assert list(table["报告"]) == ["蓝山县司法局 2024年"]  # issuer and year, not the id
    assert (
        list(table["状态"]) == ["待审核"]
        and list(table["待核查"]) == [1]
        and list(table["进度（已审/条目）"]) == ["0 / 4"]
    )
    assert "已审核 0 / 1 份报告" in rendered_text(at)
    at.button_group(key="rv_queue_status").set_value(["approved"]).run()
    assert not at.table and not [b for b in at.button if str(b.key).startswith("rv_queue_open_")]
    assert any("没有符合筛选条件的报告" in c for c in messages(at, "caption"))
    at.button_group(key="rv_queue_status").set_value(["pending", "in_review"]).run()
    assert list(at.table[0].value["报告"]) == ["蓝山县司法局 2024年"]


def test_report_page_shows_escaped_source_and_flagged_items_first(db_url: str) -> None:
    at = open_report(started())
    assert [tab.label for tab in at.tabs] == ["补充遗漏条目", "条目一览", "基本信息", "修改记录"]
    # The source pane is a custom component fed text and offsets (tests/test_source_pane.py and
    # the browser test check what it shows); the page holds no HTML built from the report.
    assert not any("alert(" in h.value for h in at.html)
    # The flagged achievement (second in the record) is the one opened, with its reason.
    assert pane(at)["focus"] == "achievements:1"
    assert "规则与模型判断的领域不一致" in pane_item(at, "achievements:1")["fields"]["reasons"]
    assert SECRET not in rendered_text(at)


def test_change_area_edit_metrics_accept_save_and_see_the_audit_entry(db_url: str) -> None:
    at = open_report(started())
    rows = [{"name": "普法活动", "value": "120", "unit": "场", "evidence": "开展普法活动120场"}]
    rows.append({"name": "发放资料", "value": "40000", "unit": "份", "evidence": "发放资料4万余份"})
    edit = {"area": "普法与法治宣传", "metrics": rows}
    act(at, {"kind": "accept", "list": "achievements", "position": 1, "edit": edit})
    assert not [n for n in pane(at)["notices"] if n[0] == "error"], pane(at)["notices"]
    assert pane(at)["focus"] == "achievements:0"  # moved on to the next undecided item
    at.button(key="rv_save_save").click().run()
    assert any("已保存为 v2" in s for s in messages(at, "success"))

    with Store(db_url) as store:
        current = store.current_record(DOC_ID)
    assert (current.version, current.kind, current.reviewer, current.status) == (
        2,
        "review",
        "张三",
        "in_review",
    )
    saved = current.record.achievements[1]
    assert saved.area is Area.LEGAL_EDUCATION and saved.flags == []
    assert [(m.name, m.value) for m in saved.metrics] == [("普法活动", 120), ("发放资料", 40000)]
    at.session_state["rv_more_tabs"] = "修改记录"
    at.run()
    audit = [e.label for e in at.expander if e.label.startswith("v2")]
    assert audit and "张三" in audit[0] and "审核中" in audit[0]
    assert any("主要成效第2条 · 领域" in h.value and "<ins>" in h.value for h in at.html)


def test_saving_requires_a_reviewer_name(db_url: str) -> None:
    at = open_report(started(reviewer=""))
    act(at, {"kind": "accept", "list": "achievements", "position": 1})
    at.button(key="rv_save_save").click().run()
    assert any("审核人" in e for e in messages(at, "error"))
    with Store(db_url) as store:
        assert [v.version for v in store.versions(DOC_ID)] == [1]


def test_a_colleagues_save_on_other_items_is_merged(db_url: str) -> None:
    at = open_report(started())
    # Another reviewer saves between opening the page and saving it.
    with Store(db_url) as store:
        other = open_session(store, DOC_ID)
        other.accept(ListName.PLANS, 0, ItemEdit(text="打造普法精品"))
        other.save(store, reviewer="李四", status="in_review")
    act(at, {"kind": "accept", "list": "achievements", "position": 1, "edit": {"area": "普法与法治宣传"}})
    assert any("已有人保存了 v2" in w for w in messages(at, "warning"))
    at.button(key="rv_save_save").click().run()
    assert not at.error
    assert any("已保存为 v3（已与 v2 合并）" in s for s in messages(at, "success"))
    with Store(db_url) as store:
        assert [v.version for v in store.versions(DOC_ID)] == [1, 2, 3]
        record = store.current_record(DOC_ID).record
    assert record.plans[0].text == "打造普法精品" and record.achievements[1].area is Area.LEGAL_EDUCATION


def test_the_same_field_changed_by_both_asks_which_to_keep(db_url: str) -> None:
    at = open_report(started())
    with Store(db_url) as store:
        other = open_session(store, DOC_ID)
        other.accept(ListName.ACHIEVEMENTS, 1, ItemEdit(area=Area.LEGAL_SERVICES))
        other.save(store, reviewer="李四", status="in_review")
    act(at, {"kind": "accept", "list": "achievements", "position": 1, "edit": {"area": "普法与法治宣传"}})
    at.button(key="rv_save_save").click().run()
    error = " ".join(messages(at, "error"))
    assert "保存冲突" in error and "李四" in error and "主要成效第2条 · 领域" in error
    assert not re.search(r"[A-Za-z]{3,}", error.replace(DOC_ID, "")), error  # no English tail
    with Store(db_url) as store:
        assert [v.version for v in store.versions(DOC_ID)] == [1, 2]
    at.radio(key="rv_conflict_keep_achievements[1].area").set_value("mine")
    at.button(key="rv_conflict_resolve").click().run()
    assert any("已保存为 v3" in s for s in messages(at, "success"))
    with Store(db_url) as store:
        assert store.current_record(DOC_ID).record.achievements[1].area is Area.LEGAL_EDUCATION


def test_a_reload_brings_back_the_unsaved_decisions_and_the_name(db_url: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["reviewer_key"] = "browser-1"
    at.run()
    at.text_input(key="rv_top_reviewer").input("张三")
    open_report(at)
    act(at, {"kind": "reject", "list": "problems", "position": 0})
    assert pane(at)["unsaved"] and any("未保存的修改" in c for c in messages(at, "caption"))
    # F5: a new script session with the same URL.
    reloaded = AppTest.from_file(str(APP), default_timeout=60)
    reloaded.query_params["reviewer_key"] = "browser-1"
    reloaded.run()
    open_report(reloaded)
    assert any("已恢复您" in i for i in messages(reloaded, "info"))
    assert reloaded.text_input(key="rv_top_reviewer").value == "张三"
    assert pane_item(reloaded, "problems:0")["state"] == "rejected"
    reloaded.button(key="rv_save_save").click().run()
    with Store(db_url) as store:
        assert store.current_record(DOC_ID).record.problems == []
        assert store.load_draft(DOC_ID, owner="browser-1") is None


def test_the_report_says_which_colleague_has_it_open_and_since_when(db_url: str) -> None:
    with Store(db_url) as store:
        store.touch_lock(store.get_document(DOC_ID).sha256, holder="browser-2", reviewer="李四")
    at = started()
    assert any("李四（自 " in b.label and "正在审核" in b.label for b in at.button)  # in the queue
    open_report(at)
    [shown] = [i for i in messages(at, "info") if "同事也打开了这份报告" in i]
    assert "李四（自 " in shown and "（北京时间）" in shown


def test_accept_all_makes_approved_the_status_to_save(db_url: str) -> None:
    at = open_report(started())
    assert at.radio(key="rv_save_status").value == "in_review"
    at.button(key="rv_save_accept_all").click().run()
    assert at.radio(key="rv_save_status").value == "approved"


def test_reject_leaves_the_item_out_of_the_saved_record(db_url: str) -> None:
    at = open_report(started())
    act(at, {"kind": "focus", "list": "problems", "position": 0})
    act(at, {"kind": "reject", "list": "problems", "position": 0})
    assert pane(at)["list"] == "problems"  # deciding keeps the reviewer in the list
    assert pane_item(at, "problems:0")["fields"]["rejected"]
    at.button(key="rv_save_save").click().run()
    with Store(db_url) as store:
        assert store.current_record(DOC_ID).record.problems == []
        [review] = [v for v in store.versions(DOC_ID) if v.kind == "review"]
    assert any(change.path == "problems[0]" and change.new is None for change in review.diff)


def test_add_missed_item_from_a_pasted_passage(db_url: str) -> None:
    at = open_report(started())
    at.text_area(key="rv_add_passage").input("全年培训执法人员500人次。")
    at.button(key="rv_add_submit").click().run()
    assert any("不在报告原文中" in e for e in messages(at, "error"))
    passage = "办理法律援助案件86件，挽回经济损失约8万元。"
    at.text_area(key="rv_add_passage").input(passage)
    at.button(key="rv_add_submit").click().run()
    assert any("已添加为主要成效第 3 条" in s for s in messages(at, "success"))
    assert pane(at)["focus"] == "achievements:2"
    added = pane_item(at, "achievements:2")
    # Evidence equal to the source under the span is sent as offsets only.
    assert added["fields"]["evidence"] is None and pane(at)["text"] is not None
    assert pane(at)["text"][added["start"] : added["end"]] == passage


def test_approve_then_promote_to_gold(db_url: str, tmp_path: Path) -> None:
    at = open_report(started())
    at.button(key="rv_gold_promote").click().run()
    assert any("已通过" in e for e in messages(at, "error"))
    at.button(key="rv_save_accept_all").click().run()
    at.radio(key="rv_save_status").set_value("approved")
    at.button(key="rv_save_save").click().run()
    assert any("已通过" in s for s in messages(at, "success"))
    at.button(key="rv_gold_promote").click().run()
    gold = tmp_path / "gold" / f"{DOC_ID}.json"
    assert any(str(gold) in s for s in messages(at, "success"))
    assert json.loads(gold.read_text(encoding="utf-8"))["doc_id"] == DOC_ID
    # A second promotion without the overwrite box keeps the file.
    gold.write_text('{"kept": true}', encoding="utf-8")
    at.button(key="rv_gold_promote").click().run()
    assert any("已存在" in e for e in messages(at, "error"))
    assert json.loads(gold.read_text(encoding="utf-8")) == {"kept": True}


def test_back_to_queue_shows_the_saved_status(db_url: str) -> None:
    at = open_report(started())
    at.button(key="rv_save_accept_all").click().run()
    at.radio(key="rv_save_status").set_value("approved")
    at.button(key="rv_save_save").click().run()
    at.button(key="rv_report_back").click().run()
    table = at.table[0].value
    assert list(table["状态"]) == ["已通过"] and list(table["最后审核人"]) == ["张三"]
    assert "已审核 1 / 1 份报告" in rendered_text(at)
    # The approved record is offered for download in every format.
    assert {b.key for b in at.download_button} == {"rv_output_csv", "rv_output_xlsx", "rv_output_jsonl"}
    assert all("1 份" in b.label for b in at.download_button)


def _analysis_page_opens_without_analysing(at: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Open 分析 with analysing made to fail: the page must be served the warmed analysis."""
    from extractor.analysis import snapshot

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the 分析 page analysed the records again")

    monkeypatch.setattr(snapshot, "analyse", refuse)
    at.sidebar.radio(key="app_page").set_value("分析").run()
    assert not at.exception, at.exception
    assert "仅已通过审核的记录；共 1 份报告" in at.info[0].value


def test_a_started_server_warms_the_analysis_before_the_page_is_opened(db_url: str, monkeypatch) -> None:
    from extractor.analysis.warm import warmer

    with Store(db_url) as store:  # approved before this server started
        current = store.current_record(DOC_ID)
        assert current is not None
        store.save_review(
            DOC_ID, current.record, base_version=current.version, reviewer="李四", status="approved"
        )
    at = started()
    assert warmer.wait(120)  # the server's first run started the warming in the background
    _analysis_page_opens_without_analysing(at, monkeypatch)


def test_after_an_approval_the_analysis_page_opens_without_analysing(db_url: str, monkeypatch) -> None:
    from extractor.analysis.warm import warmer

    at = open_report(started())
    at.button(key="rv_save_accept_all").click().run()
    at.radio(key="rv_save_status").set_value("approved")
    at.button(key="rv_save_save").click().run()
    assert any("已通过" in s for s in messages(at, "success"))
    assert warmer.wait(120)  # the save started the warming in the background
    _analysis_page_opens_without_analysing(at, monkeypatch)
