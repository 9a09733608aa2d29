"""Browser tests for issue 12's drafts and saves through the source pane: drafts surviving a
reload (F5), two reviewers' changes to different items both in the final version, and a metric
contradicting its evidence that cannot be approved. Same server fixture as test_review_browser.
"""

from __future__ import annotations

import re

import pytest
from review_fixtures import DOC_ID
from test_review_browser import (
    UI_TIMEOUT_MS,
    chromium,
    focused_in_pane,
    idle,
    served_app,  # noqa: F401  (the fixture these tests share)
    settled_on,
)

from extractor.store import Store

pytestmark = pytest.mark.browser

FIRST_SUMMARY = "开展普法活动120场"  # the flagged item, focused first
SECOND_SUMMARY = "受理行政复议案件37件，已结案31件"


def _open(page, app_url: str, reviewer: str) -> None:
    from playwright.sync_api import expect

    page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    page.goto(f"{app_url}?report={DOC_ID}")
    page.get_by_label("审核人").fill(reviewer)
    page.get_by_label("审核人").press("Enter")
    settled_on(page, FIRST_SUMMARY)
    focused_in_pane(page, "achievements:1")  # the pane is drawn, so it listens for keys
    idle(page)
    page.evaluate("document.activeElement.blur()")  # keys act when no field has the cursor


def test_reload_keeps_the_unsaved_decisions_and_the_name(served_app: tuple[str, str]) -> None:  # noqa: F811  (the imported fixture)
    from playwright.sync_api import expect

    app_url, _ = served_app
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        _open(page, app_url, "王五")
        page.locator("body").press("a")
        settled_on(page, SECOND_SUMMARY)  # the editor moves on at once, before the server
        expect(page.get_by_text("已审核条目 1 / 4")).to_be_visible()
        # Reload only once the server has applied the accept: the run that moves its focus
        # (the link's item) also writes the draft, and it is over.
        expect(page).to_have_url(re.compile(r"[?&]item=1(&|$)"))
        idle(page)
        page.reload()  # F5: the draft is in the database, its owner token in the URL
        restored = page.get_by_text(re.compile("已恢复您.*未保存的修改"))
        expect(restored).to_be_visible()
        expect(page.get_by_text("已审核条目 1 / 4")).to_be_visible()
        expect(page.get_by_label("审核人")).to_have_value("王五")
        # Saved with s: the page no longer speaks of a restored draft (it is stored now).
        settled_on(page, SECOND_SUMMARY)
        idle(page)
        page.evaluate("document.activeElement.blur()")
        page.locator("body").press("s")
        expect(page.get_by_text("已保存为 v2")).to_be_visible()
        expect(restored).to_have_count(0)
        expect(page.get_by_text(re.compile("打开的版本：v2"))).to_be_visible()


def test_two_reviewers_changing_different_items_both_keep_their_work(served_app: tuple[str, str]) -> None:  # noqa: F811  (the imported fixture)
    from playwright.sync_api import expect

    app_url, db_url = served_app
    with chromium() as browser:
        first = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
        second = browser.new_context(viewport={"width": 1600, "height": 1100}).new_page()
        _open(first, app_url, "王五")
        _open(second, app_url, "赵六")
        # The first reviewer rewrites the flagged item's summary and saves.
        first.locator("body").press("e")
        first.get_by_label("摘要").filter(visible=True).fill("开展普法宣传活动120场")
        first.get_by_label("摘要").filter(visible=True).press("Enter")
        settled_on(first, SECOND_SUMMARY)
        first.evaluate("document.activeElement.blur()")
        first.locator("body").press("s")
        expect(first.get_by_text("已保存为 v2")).to_be_visible()
        # The second rewrites the other item, opened before v2 existed, and saves.
        second.locator("body").press("j")
        settled_on(second, SECOND_SUMMARY)
        second.locator("body").press("e")
        second.get_by_label("摘要").filter(visible=True).fill("受理行政复议案件37件")
        second.get_by_label("摘要").filter(visible=True).press("Enter")
        idle(second)
        second.evaluate("document.activeElement.blur()")
        second.locator("body").press("s")
        expect(second.get_by_text(re.compile(r"已保存为 v3（已与 v2 合并）"))).to_be_visible()
    with Store(db_url) as store:
        saved = store.current_record(DOC_ID).record
    assert [item.text for item in saved.achievements] == ["受理行政复议案件37件", "开展普法宣传活动120场"]


def test_a_metric_contradicting_its_evidence_cannot_be_approved(served_app: tuple[str, str]) -> None:  # noqa: F811  (the imported fixture)
    from playwright.sync_api import expect

    app_url, db_url = served_app
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        _open(page, app_url, "王五")
        page.locator("body").press("j")
        settled_on(page, SECOND_SUMMARY)
        # 37 -> 38 beside "受理行政复议案件37件": type into the metrics table's value cell.
        value_cell = page.get_by_label("数值（第1行）")
        expect(value_cell).to_have_value("37")
        value_cell.fill("38")
        page.get_by_role("button", name=re.compile(r"^接受 ✓")).filter(visible=True).click()
        expect(page.get_by_text(re.compile("不能通过"))).to_be_visible()
        page.get_by_role("button", name="接受其余全部").click()
        # That rerun sets the 保存为 radio from the decisions; a choice made during it is lost.
        expect(page.get_by_text(re.compile("已接受其余"))).to_be_visible()
        idle(page)
        page.get_by_test_id("stRadioGroup").get_by_text("已通过", exact=True).click()
        expect(page.get_by_role("radio", name="已通过")).to_be_checked()
        idle(page)
        page.get_by_role("button", name=re.compile("保存为新版本")).click()
        expect(page.get_by_text(re.compile("不能标记为「已通过」"))).to_be_visible()
    with Store(db_url) as store:
        assert store.current_record(DOC_ID).status != "approved"
