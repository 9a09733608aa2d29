"""The queue page in a real browser (`streamlit run review_app.py` driven by Playwright,
Debian chromium): j past a page's last report turns to the next page, k past its first turns
back, Enter opens the report the keys are on; a download's file is built on its click."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_fixtures import DOC_ID, fill_many_store, fill_store
from test_review_browser import _require_chromium, _serve, chromium, idle, new_page

from extractor.review import open_session
from extractor.store import Store

pytestmark = pytest.mark.browser


@pytest.fixture
def served_many_reports(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(app URL, database URL): the review app serving 52 reports (two pages)."""
    _require_chromium()
    yield from _serve(tmp_path, fill_many_store(tmp_path / "review.db", 52))


def _report(page, doc_id: str):
    return page.get_by_role("button", name=re.compile(rf"· {doc_id}$"))


def test_the_queue_keys_cross_pages(served_many_reports: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    app_url, _ = served_many_reports
    with chromium() as browser:
        page = new_page(browser, 1366, 768)
        page.goto(app_url)
        expect(page.get_by_text("第 1 / 2 页 · 第 1–50 份，共 52 份")).to_be_visible()
        idle(page)
        expect(page.locator("html[data-queue-keys=on]")).to_have_count(1)  # the keys listen
        page.locator("body").press("k")  # from outside the list: the page's last report
        expect(_report(page, "many-049")).to_be_focused()
        page.keyboard.press("j")  # past the last: the next page, its first report
        expect(page.get_by_text("第 2 / 2 页 · 第 51–52 份，共 52 份")).to_be_visible()
        expect(_report(page, "many-050")).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(_report(page, "many-051")).to_be_focused()
        page.keyboard.press("j")  # the last report of the last page: stays
        expect(_report(page, "many-051")).to_be_focused()
        page.keyboard.press("k")
        page.keyboard.press("ArrowUp")  # past the first: back to the first page, its last report
        expect(page.get_by_text("第 1 / 2 页 · 第 1–50 份，共 52 份")).to_be_visible()
        expect(_report(page, "many-049")).to_be_focused()
        page.keyboard.press("k")
        expect(_report(page, "many-048")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=re.compile("^many-048："))).to_be_visible()
        expect(page).to_have_url(re.compile(r"[?&]report=many-048(&|$)"))


@pytest.fixture
def served_approved_report(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(app URL, database URL): the review app serving one report a reviewer approved."""
    _require_chromium()
    db_url = fill_store(tmp_path / "review.db")
    with Store(db_url) as store:
        session = open_session(store, DOC_ID)
        session.accept_remaining()
        session.save(store, reviewer="张三", status="approved")
    yield from _serve(tmp_path, db_url)


def test_a_download_is_built_when_clicked(served_approved_report: tuple[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    app_url, _ = served_approved_report
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True)
        page.set_default_timeout(30_000)
        page.goto(app_url)
        button = page.get_by_role("button", name="下载 CSV（1 份）")
        expect(button).to_be_visible()
        idle(page)
        with page.expect_download() as download:
            button.click()
        saved = tmp_path / "downloaded.csv"
        download.value.save_as(saved)
        assert download.value.suggested_filename == "reviewed-records.csv"
        text = saved.read_text(encoding="utf-8-sig")
        assert DOC_ID in text and "张三" in text and "已通过" in text
        idle(page)
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)  # no failure reported
