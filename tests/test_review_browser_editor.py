"""Browser tests for the item editor the source pane draws (issue 12): what a reviewer types
while Python's rerun is still on its way is kept, and an edit Python refuses comes back on
its item with the reason and the typing intact. Same server fixtures as test_review_browser.
"""

from __future__ import annotations

import re

import pytest
from review_fixtures import DOC_ID, LONG_DOC_ID, long_report
from test_review_browser import (
    _SELECT_TEXT,
    chromium,
    focused_in_pane,
    idle,
    new_page,
    served_app,  # noqa: F401  (the fixtures these tests share)
    served_long_report,  # noqa: F401
    settled_on,
)

from extractor.store import Store

pytestmark = pytest.mark.browser

NOT_IN_SOURCE = "全年培训执法人员500人次<img src=x onerror=alert(1)>。"


def _summary(page):
    return page.get_by_label("摘要", exact=True).filter(visible=True)


def test_typing_while_a_rerun_is_in_flight_is_kept_and_saved(served_long_report: tuple[str, str]) -> None:  # noqa: F811  (the imported fixture)
    from playwright.sync_api import expect

    app_url, db_url = served_long_report
    _, record = long_report()
    summaries = [item.text for item in record.achievements]
    with chromium() as browser:
        page = new_page(browser, 1366, 768)
        page.goto(f"{app_url}?report={LONG_DOC_ID}&list=achievements&item=1")
        page.get_by_label("审核人").fill("王五")
        page.get_by_label("审核人").press("Enter")
        settled_on(page, summaries[0])
        page.evaluate("document.activeElement.blur()")
        # a: the editor shows the next item at once; type into it before the rerun is back.
        page.locator("body").press("a")
        expect(_summary(page)).to_have_value(summaries[1])
        _summary(page).fill("改写后的摘要")
        # The accept's rerun has arrived and been drawn: the server's focus is in the link
        # (written during that run), and the run is over.
        expect(page).to_have_url(re.compile(r"[?&]item=2(&|$)"))
        idle(page)
        expect(page.get_by_text("已审核条目 1 / 40")).to_be_visible()
        expect(_summary(page)).to_have_value("改写后的摘要")
        # Away and back: the draft is still there; Enter accepts it with the edit.
        page.evaluate("document.activeElement.blur()")
        page.locator("body").press("j")
        focused_in_pane(page, "achievements:2")
        page.locator("body").press("k")
        focused_in_pane(page, "achievements:1")
        expect(_summary(page)).to_have_value("改写后的摘要")
        _summary(page).press("Enter")
        focused_in_pane(page, "achievements:2")
        page.locator("body").press("s")
        expect(page.get_by_text(re.compile("已保存为 v2"))).to_be_visible()
    with Store(db_url) as store:
        saved = store.current_record(LONG_DOC_ID).record
    assert saved.achievements[1].text == "改写后的摘要"
    assert saved.achievements[0].text == summaries[0]


def test_an_edit_python_refuses_comes_back_with_the_reason_and_the_typing(
    served_app: tuple[str, str],  # noqa: F811  (the imported fixture)
) -> None:
    from playwright.sync_api import expect

    app_url, db_url = served_app
    with chromium() as browser:
        page = new_page(browser, 1600, 1100)
        page.goto(f"{app_url}?report={DOC_ID}")
        settled_on(page, "开展普法活动120场")  # the flagged item comes first
        evidence = page.get_by_label("证据（须为原文）", exact=True).filter(visible=True)
        evidence.fill(NOT_IN_SOURCE)
        page.get_by_role("button", name="修改 ✎").click()
        # Python refuses (the passage is not in the report): the editor is back on the item,
        # says why, and still holds what was typed; nothing was decided.
        expect(page.get_by_text(re.compile("不在报告原文中"))).to_be_visible()
        focused_in_pane(page, "achievements:1")
        expect(evidence).to_have_value(NOT_IN_SOURCE)
        expect(page.get_by_text("第 2 条 · 未审核")).to_be_visible()
        expect(page.get_by_text("已审核条目 0 / 4")).to_be_visible()
        assert page.locator(".rv-editor img, .rv-editor script").count() == 0  # text, never markup
    with Store(db_url) as store:
        assert [v.version for v in store.versions(DOC_ID)] == [1]


def test_typing_not_sent_goes_with_the_sidebars_save(
    served_app: tuple[str, str],  # noqa: F811  (the imported fixture)
) -> None:
    from playwright.sync_api import expect

    app_url, db_url = served_app
    with chromium() as browser:
        page = new_page(browser, 1600, 1100)
        page.goto(f"{app_url}?report={DOC_ID}")
        page.get_by_label("审核人").fill("王五")
        page.get_by_label("审核人").press("Enter")
        settled_on(page, "开展普法活动120场")  # the flagged item comes first
        mark = page.locator(".rv-unsaved")
        # Typed, neither Enter nor 修改: the sidebar's button saves what the editor shows.
        _summary(page).fill("开展普法宣传活动120场")
        expect(mark).to_be_visible()
        page.get_by_role("button", name="保存为新版本").click()
        expect(page.get_by_text(re.compile("已保存为 v2"))).to_be_visible()
        expect(page.get_by_text(re.compile("尚未提交的修改记为「修改」：成效 第2条"))).to_be_visible()
        expect(_summary(page)).to_have_value("开展普法宣传活动120场")
        expect(mark).to_be_hidden()
        # Its shortcut, pressed while the cursor is still in the field, does the same.
        _summary(page).fill("开展普法宣传活动共120场")
        _summary(page).press("Alt+s")
        expect(page.get_by_text(re.compile("已保存为 v3"))).to_be_visible()
        expect(_summary(page)).to_have_value("开展普法宣传活动共120场")
        expect(mark).to_be_hidden()
    with Store(db_url) as store:
        second, third = store.record_version(DOC_ID, 2), store.record_version(DOC_ID, 3)
    assert second is not None and third is not None
    assert second.record.achievements[1].text == "开展普法宣传活动120场"
    assert third.record.achievements[1].text == "开展普法宣传活动共120场"
    assert third.record.achievements[0].text == "受理行政复议案件37件，已结案31件"


def _add_selection(page, sentence: str, position: int) -> None:
    assert page.evaluate(_SELECT_TEXT, [sentence, 0])
    page.get_by_role("button", name="添加为遗漏条目").click()
    focused_in_pane(page, f"achievements:{position}")
    idle(page)


def test_typing_follows_its_item_when_a_rejected_addition_moves_it_up(
    served_long_report: tuple[str, str],  # noqa: F811  (the imported fixture)
) -> None:
    """Added items are dropped when rejected and the ones after them move up: typing not
    sent yet stays with the item it was typed into, never with the one that takes its place."""
    from playwright.sync_api import expect

    app_url, db_url = served_long_report
    added = ["组织第7批执法人员培训", "组织第8批执法人员培训", "组织第9批执法人员培训"]
    with chromium() as browser:
        page = new_page(browser, 1366, 768)
        page.goto(f"{app_url}?report={LONG_DOC_ID}&list=achievements&item=40")
        settled_on(page, "第40项工作办理案件140件")
        page.get_by_label("审核人").fill("王五")
        page.get_by_label("审核人").press("Enter")
        idle(page)
        for position, sentence in enumerate(added, start=40):
            _add_selection(page, sentence, position)
        page.evaluate("document.activeElement.blur()")
        page.locator("body").press("k")
        focused_in_pane(page, "achievements:41")
        second_summary = _summary(page).input_value()
        _summary(page).fill("第二条补充的新摘要")
        page.evaluate("document.activeElement.blur()")
        page.locator("body").press("k")
        focused_in_pane(page, "achievements:40")
        page.locator("body").press("x")  # the first addition is dropped: the others move up
        expect(page.get_by_text("已审核条目 2 / 42")).to_be_visible()
        idle(page)
        page.evaluate("document.activeElement.blur()")
        page.locator('mark[data-owner="achievements:41"]').last.click()
        focused_in_pane(page, "achievements:41")
        expect(_summary(page)).not_to_have_value("第二条补充的新摘要")
        page.locator('mark[data-owner="achievements:40"]').last.click()
        focused_in_pane(page, "achievements:40")
        expect(_summary(page)).to_have_value("第二条补充的新摘要")
        _summary(page).press("Enter")
        idle(page)
        page.evaluate("document.activeElement.blur()")
        page.locator("body").press("s")
        expect(page.get_by_text(re.compile("已保存为 v2"))).to_be_visible()
    with Store(db_url) as store:
        saved = store.current_record(LONG_DOC_ID).record
    texts = {item.evidence: item.text for item in saved.achievements[40:]}
    assert texts[added[1]] == "第二条补充的新摘要", texts
    assert texts[added[2]] != "第二条补充的新摘要", texts
    assert added[0] not in texts and second_summary != "第二条补充的新摘要"
