"""Browser tests for issue 12's screen as a Chinese reviewer meets it: no English from
Streamlit itself (placeholders, hints, toolbar, menu), no usage statistics sent, the queue
worked with keys, and the "unsaved changes" mark. Same server fixtures as test_review_browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_fixtures import DOC_ID, LONG_DOC_ID, fill_store, long_report
from test_review_browser import (
    _require_chromium,
    _serve,
    chromium,
    focused_in_pane,
    idle,
    new_page,
    served_app,  # noqa: F401  (the fixture these tests share)
    settled_on,
)

from extractor.core.document import SourceDocument
from extractor.store import Store

pytestmark = pytest.mark.browser

#: Words that may be read in Latin letters: key names in the shortcut hints, a date format,
#: the gold folder's path and the reports' ids (data, not interface).
ALLOWED = ("Enter", "Shift", "Tab", "Alt", "Ctrl", "Esc", "YYYY-MM-DD", "eval/gold/", DOC_ID, LONG_DOC_ID)

# Every piece of text a reviewer can see (text, placeholders, tooltips) that has a word in
# Latin letters, outside the report's own text and the icon font's ligature names.
_ENGLISH_SHOWN = """
([allowed]) => {
  const english = (text) => {
    let rest = text;
    for (const word of allowed) rest = rest.split(word).join(" ");
    return /[A-Za-z]{3,}/.test(rest);
  };
  const seen = (el) => el && !el.closest('.rv-source, [data-testid="stIconMaterial"]')
    && el.checkVisibility({ opacityProperty: true, visibilityProperty: true })
    && parseFloat(getComputedStyle(el).fontSize) > 0;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (english(node.data) && seen(node.parentElement)) found.push(node.data.trim());
  }
  for (const el of document.querySelectorAll("[placeholder], [title]")) {
    for (const name of ["placeholder", "title"]) {
      const value = el.getAttribute(name);
      if (value && english(value) && seen(el)) found.push(`${name}: ${value}`);
    }
  }
  for (const el of document.querySelectorAll("*")) {
    const after = getComputedStyle(el, "::after").content;
    if (after && after !== "none" && english(after) && seen(el)) found.push(`::after ${after}`);
  }
  return found;
}
"""


def english_shown(page) -> list[str]:
    return page.evaluate(_ENGLISH_SHOWN, [list(ALLOWED)])


@pytest.fixture
def served_two_reports(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(app URL, database URL): the small report (flagged: listed first) and the long one."""
    _require_chromium()
    db_url = fill_store(tmp_path / "review.db")
    text, record = long_report()
    with Store(db_url) as store:
        doc = SourceDocument(doc_id=LONG_DOC_ID, path=f"/reports/{LONG_DOC_ID}.txt", text=text)
        store.save_extraction(doc, record, run_id=None)
    yield from _serve(tmp_path, db_url)


def test_streamlits_own_words_are_chinese_and_nothing_is_sent_out(served_app: tuple[str, str]) -> None:  # noqa: F811  (the imported fixture)
    from playwright.sync_api import expect

    app_url, _ = served_app
    with chromium() as browser:
        page = new_page(browser, 1366, 768)
        elsewhere: list[str] = []  # usage statistics or anything else leaving the machine
        page.on(
            "request",
            lambda r: (
                elsewhere.append(r.url)
                if re.match(r"https?:", r.url) and not r.url.startswith(app_url)
                else None
            ),
        )
        page.goto(app_url)
        expect(page.get_by_role("button", name=re.compile("蓝山县司法局"))).to_be_visible()
        idle(page)
        assert english_shown(page) == []
        # No Deploy button and no main menu (its entries are English): config.toml's toolbar.
        expect(page.get_by_text("Deploy", exact=True)).to_have_count(0)
        expect(page.get_by_test_id("stMainMenu")).to_have_count(0)
        expect(page.get_by_test_id("stToolbarActions")).to_have_count(0)

        # Typing the name: Streamlit's "Press Enter to apply" is said in Chinese.
        page.get_by_label("审核人").press_sequentially("王五")
        hint = page.get_by_test_id("InputInstructions")
        expect(hint).to_be_attached()
        assert hint.evaluate('(el) => getComputedStyle(el, "::after").content') == '"按 Enter 确认"'
        assert english_shown(page) == []
        page.get_by_label("审核人").press("Enter")
        idle(page)
        # The first Tab's link is said in Chinese too.
        page.keyboard.press("Tab")
        skip = page.get_by_test_id("stSkipToContent")
        assert skip.evaluate('(el) => getComputedStyle(el, "::after").content') == '"跳到主要内容"'
        assert english_shown(page) == []

        page.get_by_role("button", name=re.compile("蓝山县司法局")).click()
        settled_on(page, "开展普法活动120场")
        assert english_shown(page) == []
        for tab in ["补充遗漏条目", "条目一览", "基本信息", "修改记录"]:
            page.get_by_role("tab", name=tab).click()
            expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
            idle(page)
            assert english_shown(page) == [], tab
        # A refusal (no name is fine here: 已通过 with undecided items) reads in Chinese.
        page.get_by_test_id("stRadioGroup").get_by_text("已通过", exact=True).click()
        idle(page)
        page.get_by_role("button", name=re.compile("保存为新版本")).click()
        expect(page.get_by_text(re.compile("不能标记为「已通过」"))).to_be_visible()
        assert english_shown(page) == []
    assert elsewhere == []


def test_the_queue_is_worked_with_keys(served_two_reports: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    app_url, _ = served_two_reports
    with chromium() as browser:
        page = new_page(browser, 1366, 768)
        page.goto(app_url)
        first = page.get_by_role("button", name=re.compile("蓝山县司法局"))
        second = page.get_by_role("button", name=re.compile("某市司法局"))
        expect(second).to_be_visible()
        idle(page)
        page.locator("body").press("j")
        expect(first).to_be_focused()
        page.keyboard.press("j")
        expect(second).to_be_focused()
        page.keyboard.press("k")
        expect(first).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(second).to_be_focused()
        page.keyboard.press("Enter")  # opens the report the keys are on
        expect(page.get_by_role("heading", name=f"{LONG_DOC_ID}：某市司法局")).to_be_visible()
        expect(page).to_have_url(re.compile(rf"[?&]report={LONG_DOC_ID}(&|$)"))


def test_the_unsaved_mark_shows_until_the_save(served_app: tuple[str, str]) -> None:  # noqa: F811  (the imported fixture)
    from playwright.sync_api import expect

    app_url, _ = served_app
    with chromium() as browser:
        page = new_page(browser, 1600, 1100)
        page.goto(f"{app_url}?report={DOC_ID}")
        page.get_by_label("审核人").fill("王五")
        page.get_by_label("审核人").press("Enter")
        settled_on(page, "开展普法活动120场")
        focused_in_pane(page, "achievements:1")
        idle(page)
        mark = page.locator(".rv-unsaved")
        version = page.get_by_text(re.compile("打开的版本：v"))
        expect(mark).to_be_hidden()
        expect(version).not_to_contain_text("有未保存的修改")
        # Typing not sent yet is unsaved too, and s does not save without it.
        summary = page.get_by_label("摘要", exact=True).filter(visible=True)
        summary.fill("开展普法宣传活动120场")
        expect(mark).to_be_visible()
        page.evaluate("document.activeElement.blur()")
        page.locator("body").press("s")
        expect(page.get_by_text(re.compile("成效 第2条有尚未提交的修改"))).to_be_visible()
        summary.fill("开展普法活动120场")  # typed back: nothing is pending
        expect(mark).to_be_hidden()
        page.evaluate("document.activeElement.blur()")
        # Working in 存在不足: a message (here a rejection's rerun) keeps the editor there.
        page.get_by_role("tab", name=re.compile("^存在不足")).click()
        focused_in_pane(page, "problems:0")
        page.evaluate("document.activeElement.blur()")  # keys act when no button has the focus
        page.locator("body").press("x")
        expect(page).to_have_url(re.compile(r"[?&]list=problems(&|$)"))
        idle(page)
        expect(page.get_by_role("tab", name=re.compile("^存在不足"))).to_have_attribute(
            "aria-selected", "true"
        )
        expect(page.get_by_text("第 1 条 · 已退回")).to_be_visible()
        page.get_by_role("button", name="恢复此条").click()
        expect(page.get_by_text("第 1 条 · 未审核")).to_be_visible()
        page.get_by_role("tab", name=re.compile("^主要成效")).click()
        focused_in_pane(page, "achievements:1")
        expect(page).to_have_url(re.compile(r"[?&]list=achievements(&|$)"))
        idle(page)
        expect(mark).to_be_hidden()  # the restore undid the only change
        page.evaluate("document.activeElement.blur()")
        page.locator("body").press("a")
        expect(mark).to_be_visible()  # at once, before the server's rerun
        expect(mark).to_have_text("有未保存的修改")
        expect(version).to_contain_text("有未保存的修改")  # the server's view, once it has run
        page.locator("body").press("s")
        expect(page.get_by_text("已保存为 v2")).to_be_visible()
        expect(mark).to_be_hidden()
        expect(version).to_contain_text("打开的版本：v2")
        expect(version).not_to_contain_text("有未保存的修改")
