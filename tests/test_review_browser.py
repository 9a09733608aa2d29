"""The review screen in a real browser: `streamlit run review_app.py` driven by Playwright.

Needs Debian's chromium at /usr/bin/chromium (`apt-get install chromium fonts-noto-cjk`);
skipped without it, except under CI, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from review_fixtures import DOC_ID, LONG_DOC_ID, REPEATED_SENTENCE, fill_long_store, fill_store, long_report

from extractor.store import Store

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = REPO / "artifacts" / "review.png"
STARTUP_SECONDS = 60
UI_TIMEOUT_MS = 30_000


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium driven by Playwright, closed however the test ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, width: int, height: int) -> Any:
    """A page of that size whose waits, expect()'s included (its own default is 5 s), allow a
    loaded 2-core CI machine's slower reruns."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    return page


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)"
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run under CI: {message}")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(app URL, database URL): the review app serving a store with one extracted report."""
    _require_chromium()
    yield from _serve(tmp_path, fill_store(tmp_path / "review.db"))


@pytest.fixture
def served_long_report(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(app URL, database URL): the review app serving a report taller than the source pane."""
    _require_chromium()
    yield from _serve(tmp_path, fill_long_store(tmp_path / "review.db"))


def _serve(tmp_path: Path, db_url: str) -> Iterator[tuple[str, str]]:
    port = _free_port()
    env = {**os.environ, "EXTRACTOR_DB_URL": db_url, "EXTRACTOR_GOLD_DIR": str(tmp_path / "gold")}
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "review_app.py",
            # Nothing else set here: .streamlit/config.toml (usage statistics, toolbar) is
            # what these tests see, as a reviewer's server would.
            "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        ],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", server, tmp_path / "streamlit.log")
        yield f"http://127.0.0.1:{port}/", db_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer on {url} within {STARTUP_SECONDS}s")


def idle(page) -> None:
    """Wait until Streamlit has finished the current script run."""
    from playwright.sync_api import expect

    app = page.locator('[data-testid="stApp"]')
    expect(app).to_have_attribute("data-test-script-state", "notRunning")


_ONE_SUMMARY_FIELD_WITH = """
([wanted]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const fields = [...document.querySelectorAll('input[aria-label="摘要"]')]
    .filter((field) => field.offsetParent !== null);
  return app && app.getAttribute("data-test-script-state") === "notRunning"
    && fields.length === 1 && fields[0].value === wanted;
}
"""


def settled_on(page, value: str) -> None:
    """Wait until the rerun is over and exactly one 摘要 field shows `value` (during a rerun
    Streamlit shows the old field beside the new one, which a strict locator refuses)."""
    page.wait_for_function(_ONE_SUMMARY_FIELD_WITH, arg=[value], timeout=UI_TIMEOUT_MS)


def test_accept_items_and_save_in_the_browser(served_app: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    app_url, db_url = served_app
    with chromium() as browser:
        page = new_page(browser, 1600, 1100)
        page.goto(app_url)
        page.get_by_label("审核人").fill("王五")
        page.get_by_label("审核人").press("Enter")
        page.get_by_role("button", name=re.compile("蓝山县司法局")).click()  # one click opens
        expect(page.get_by_text("报告原文")).to_be_visible()
        page.get_by_role("tab", name="主要成效").click()
        # The report's markup is shown as text, not run.
        expect(page.locator(".rv-source")).to_contain_text("<script>alert('x')</script>")
        assert page.locator(".rv-source script, .rv-source img").count() == 0

        # Enter in the focused item's 摘要 field accepts it (the flagged item comes first).
        summary = page.get_by_label("摘要").filter(visible=True)
        # Act and check only once the script run is over: during a rerun Streamlit shows
        # the old field beside the new one, and keys pressed mid-run can be lost.
        idle(page)
        expect(summary).to_have_value("开展普法活动120场")
        summary.press("Enter")
        settled_on(page, "受理行政复议案件37件，已结案31件")
        expect(summary).to_have_value("受理行政复议案件37件，已结案31件")
        # The accept button accepts the next one.
        page.get_by_role("button", name=re.compile(r"^接受 ✓")).filter(visible=True).click()
        expect(page.get_by_text("已审核条目 2 / 4")).to_be_visible()

        page.get_by_role("button", name="保存为新版本").click()
        expect(page.get_by_text("已保存为 v2")).to_be_visible()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    with Store(db_url) as store:
        current = store.current_record(DOC_ID)
        versions = store.versions(DOC_ID)
    assert (current.version, current.kind, current.reviewer, current.status) == (
        2,
        "review",
        "王五",
        "in_review",
    )
    assert current.record.achievements[1].flags == []  # the accepted flagged item is resolved
    assert [v.version for v in versions] == [1, 2] and versions[1].base_version == 1


_FOCUS_INSIDE_PANE = """
() => {
  const marks = [...document.querySelectorAll("mark.rv-focus")];
  const pane = document.querySelector(".rv-scroll");
  if (!marks.length || !pane) return null;
  const box = pane.getBoundingClientRect();
  const first = marks[0].getBoundingClientRect();
  const last = marks[marks.length - 1].getBoundingClientRect();
  return {
    owner: marks[0].dataset.owner,
    outline: getComputedStyle(marks[0]).outlineStyle,
    inside: first.top >= box.top && last.bottom <= box.bottom && first.left >= box.left && last.right <= box.right,
  };
}
"""

_SELECT_TEXT = """
([sentence, occurrence]) => {
  const source = document.querySelector(".rv-source");
  const walker = document.createTreeWalker(source, NodeFilter.SHOW_TEXT);
  let seen = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(sentence);
    if (at < 0) continue;
    if (seen++ < occurrence) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + sentence.length);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    source.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
    return true;
  }
  return false;
}
"""


_ITEM_STARTS = """
(ids) => ids.map((id) => {
  const first = document.querySelector(`mark.rv-first[data-owner="${id}"]`);
  const style = getComputedStyle(first);
  return { bar: style.borderLeftStyle, background: style.backgroundColor };
})
"""


_EVIDENCE_SHOWN = """
([wanted]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const fields = [...document.querySelectorAll('textarea[aria-label="证据（须为原文）"]')]
    .filter((field) => field.offsetParent !== null);
  return app.getAttribute("data-test-script-state") === "notRunning"
    && fields.length === 1 && fields[0].value === wanted;
}
"""


def focused_in_pane(page, item_id: str) -> None:
    """Wait until `item_id` is the outlined item and lies wholly inside the source pane's box."""
    page.wait_for_function(
        f"(() => {{ const f = ({_FOCUS_INSIDE_PANE})(); return f && f.owner === {item_id!r} && f.inside; }})",
        timeout=UI_TIMEOUT_MS,
    )
    state = page.evaluate(_FOCUS_INSIDE_PANE)
    assert state["outline"] == "solid", state


def test_source_pane_follows_focus_keys_clicks_and_selection(served_long_report: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    app_url, db_url = served_long_report
    text, record = long_report()
    summaries = [item.text for item in record.achievements]
    with chromium() as browser:
        page = new_page(browser, 1366, 768)
        # A link names the report and the item: item 30 is far below the pane's first screen.
        page.goto(f"{app_url}?report={LONG_DOC_ID}&list=achievements&item=30&keep=1")
        settled_on(page, summaries[29])
        focused_in_pane(page, "achievements:29")
        # Neighbouring items of one list never read as one block: each starts with a bar and
        # their colours alternate.
        starts = page.evaluate(_ITEM_STARTS, ["achievements:29", "achievements:30"])
        assert [s["bar"] for s in starts] == ["solid", "solid"], starts
        assert starts[0]["background"] != starts[1]["background"], starts

        # j moves on: the pane outlines and scrolls at once, the editor follows.
        page.locator("body").press("j")
        focused_in_pane(page, "achievements:30")
        settled_on(page, summaries[30])
        # The link follows once the server's rerun for the new item has drawn (the editor in
        # the page switches before it); parameters not ours stay.
        expect(page).to_have_url(re.compile(r"[?&]item=31(&|$)"))
        assert "keep=1" in page.url

        # Clicking a highlight (here one scrolled out of view) edits that item.
        page.locator('mark[data-owner="achievements:4"]').first.click()
        settled_on(page, summaries[4])
        focused_in_pane(page, "achievements:4")

        # a accepts and moves to the next undecided item; x rejects it.
        page.locator("body").press("a")
        focused_in_pane(page, "achievements:5")
        settled_on(page, summaries[5])
        expect(page.get_by_text("已审核条目 1 / 40")).to_be_visible()
        page.locator("body").press("x")
        focused_in_pane(page, "achievements:6")
        settled_on(page, summaries[6])
        expect(page.get_by_text("已审核条目 2 / 40")).to_be_visible()
        expect(page.locator('mark[data-owner="achievements:5"]').first).to_have_attribute(
            "data-state", "rejected"
        )
        expect(page.locator('mark[data-owner="achievements:4"]').first).to_have_attribute(
            "data-state", "accepted"
        )

        # e puts the cursor in the focused item's summary; ? shows the keys.
        page.locator("body").press("e")
        expect(page.get_by_label("摘要").filter(visible=True)).to_be_focused()
        page.evaluate("document.activeElement.blur()")  # keys act when no field has the cursor
        page.locator("body").press("?")
        expect(page.get_by_role("dialog", name="快捷键")).to_be_visible()
        expect(page.get_by_role("dialog", name="快捷键")).to_contain_text("编辑当前条目的摘要")
        page.locator("body").press("Escape")
        expect(page.get_by_role("dialog", name="快捷键")).to_be_hidden()

        # Selecting the second occurrence of a sentence adds an item located right there.
        assert page.evaluate(_SELECT_TEXT, [REPEATED_SENTENCE, 1])
        page.get_by_role("button", name="添加为遗漏条目").click()
        expect(page.get_by_text("已添加为主要成效第 41 条")).to_be_visible()
        page.wait_for_function(_EVIDENCE_SHOWN, arg=[REPEATED_SENTENCE], timeout=UI_TIMEOUT_MS)
        focused_in_pane(page, "achievements:40")

        # s saves (with the reviewer's name).
        page.get_by_label("审核人").fill("王五")
        page.get_by_label("审核人").press("Enter")
        idle(page)
        page.evaluate("document.activeElement.blur()")  # keys act when no field has the cursor
        page.locator("body").press("s")
        expect(page.get_by_text("已保存为 v2")).to_be_visible()

    with Store(db_url) as store:
        saved = store.current_record(LONG_DOC_ID).record
    second = text.index(REPEATED_SENTENCE, text.index(REPEATED_SENTENCE) + 1)
    added = saved.achievements[-1]
    assert (added.span.start, added.span.end) == (second, second + len(REPEATED_SENTENCE))
    assert len(saved.achievements) == 40  # 40 - 1 rejected + 1 added
