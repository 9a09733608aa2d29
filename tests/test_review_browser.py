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
from pathlib import Path

import pytest
from review_fixtures import DOC_ID, fill_store

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
    db_url = fill_store(tmp_path / "review.db")
    port = _free_port()
    env = {**os.environ, "EXTRACTOR_DB_URL": db_url, "EXTRACTOR_GOLD_DIR": str(tmp_path / "gold")}
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "review_app.py",
            "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
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
    from playwright.sync_api import expect, sync_playwright

    app_url, db_url = served_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.set_default_timeout(UI_TIMEOUT_MS)
            # expect() has its own 5 s default: a loaded 2-core CI machine needs longer reruns.
            expect.set_options(timeout=UI_TIMEOUT_MS)
            page.goto(app_url)
            page.get_by_label("审核人").fill("王五")
            page.get_by_label("审核人").press("Enter")
            page.get_by_role("button", name="打开报告").click()
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
        finally:
            browser.close()

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
