"""Benchmark: the review screen as a reviewer feels it, in a real browser.

Serves `review_app.py` (streamlit run) over a temporary SQLite store holding the synthetic
30,000-character, 150-item report of eval/bench_review.py, drives Debian's chromium with
Playwright at 1366x768, and times, in the page (performance.now(), checked every frame):

- open: one click on the report in the queue until the source pane shows the focused item
  outlined and inside the pane's visible box, the editor shows its summary and the script run
  has finished (bar <= 1.0 s). Every round opens the report in a new page (a new Streamlit
  session): a reviewer opening a report for the first time, so the server loads and checks
  the record and sends the 30,000 characters and every item's fields, none of it held from
  an earlier round;
- accept -> next: the `a` key until the next item is outlined in the pane ("pane") and until
  the editor shows its summary ("editor"; the bar, <= 0.15 s, is for this one). The editor is
  drawn by the browser and does not wait for Streamlit's rerun, so neither does this figure;
  what the rerun must still do is persist the decision and agree: "accept -> draft in DB"
  times the key press until the reviewer's draft in the database holds the accepted item
  (bounded: the benchmark fails if it takes over DRAFT_TIMEOUT_S), and the benchmark fails
  if, once the rerun is over, the server's focus (the link's item) is not the item the
  editor showed or the editor no longer shows it;
- save: the `s` key until "已保存为 v…" shows and the run has finished (bar <= 0.4 s); the
  benchmark then fails unless the store holds that version with the accepted item's decision.

Run: python eval/bench_review_browser.py [--repeat 7]
Prints the median and worst of each, and the CPU time the Streamlit server and the browser
spent on each (from /proc: on a shared, loaded machine wall time is mostly waiting for a
core, so the load average is printed too); exits 1 if a median is over its bar.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_review import build_report

from extractor.core.document import SourceDocument
from extractor.core.schema import ListName
from extractor.review.decisions import load_decisions
from extractor.review.queue import load_queue
from extractor.store import Store

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
BARS_S = {"open": 1.0, "accept -> next (editor)": 0.15, "save": 0.4}
TIMEOUT_MS = 60_000
DRAFT_TIMEOUT_S = 10.0

# Each check records the first frame it holds on (window.__rvT1), so a Playwright round trip
# is not counted. window.__rvT0 is set by the click or key that starts the measurement.
_IDLE = 'document.querySelector(\'[data-testid="stApp"]\').getAttribute("data-test-script-state") === "notRunning"'
_SUMMARY_SHOWN = f"""
([wanted]) => {{
  const fields = [...document.querySelectorAll('input[aria-label="摘要"]')].filter((f) => f.offsetParent !== null);
  const mark = document.querySelector("mark.rv-focus");
  const pane = document.querySelector(".rv-scroll");
  let inView = false;
  if (mark !== null && pane !== null) {{
    const box = pane.getBoundingClientRect();
    const at = mark.getBoundingClientRect();
    inView = at.height > 0 && at.top >= box.top && at.bottom <= box.bottom;
  }}
  const ok = {_IDLE} && fields.length === 1 && (wanted === null || fields[0].value === wanted) && inView;
  if (ok && window.__rvT1 === undefined) window.__rvT1 = performance.now();
  return ok;
}}
"""
# Armed before the key press: checks every frame, in the page, for the pane's outline to move
# off `owner` (window.__rvPane) and for the editor to show the newly focused item's summary
# (window.__rvT1), so neither figure waits for a Playwright round trip.
_WATCH_NEXT = """
([owner, summaries]) => {
  delete window.__rvT1; delete window.__rvPane;
  const check = () => {
    const now = performance.now();
    const mark = document.querySelector("mark.rv-focus");
    if (mark !== null && mark.dataset.owner !== owner) {
      if (window.__rvPane === undefined) window.__rvPane = now;
      const wanted = summaries[Number(mark.dataset.owner.split(":")[1])];
      const fields = [...document.querySelectorAll('input[aria-label="摘要"]')].filter((f) => f.offsetParent !== null);
      if (fields.length === 1 && fields[0].value === wanted) {
        window.__rvT1 = now;
        return;
      }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
  document.addEventListener("keydown", () => { window.__rvT0 = performance.now(); }, { capture: true, once: true });
}
"""
_PANE_FOCUS_ON = """
([owner]) => {
  const mark = document.querySelector("mark.rv-focus");
  const ok = mark !== null && mark.dataset.owner !== owner;
  if (ok && window.__rvPane === undefined) window.__rvPane = performance.now();
  return ok;
}
"""
_SAVED = f"""
([wanted]) => {{
  // Where a save's outcome shows: the pane's notices, or a message of a full run. (Not
  // document.body.innerText: that lays out the whole page on every frame it is polled.)
  const shown = [...document.querySelectorAll('.rv-notices, [data-testid="stAlert"]')].some(
    (box) => box.offsetParent !== null && box.textContent.includes(wanted),
  );
  const ok = {_IDLE} && shown;
  if (ok && window.__rvT1 === undefined) window.__rvT1 = performance.now();
  return ok;
}}
"""
_FOCUSED_STATE = '() => document.querySelector("mark.rv-focus").dataset.state || "open"'
_ARM_CLICK = """
() => {
  delete window.__rvT1; delete window.__rvPane;
  document.addEventListener("pointerdown", () => { window.__rvT0 = performance.now(); }, { capture: true, once: true });
}
"""
_ARM_KEY = """
() => {
  delete window.__rvT1; delete window.__rvPane;
  document.addEventListener("keydown", () => { window.__rvT0 = performance.now(); }, { capture: true, once: true });
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants_cpu_seconds(root: int, *, excluding: int) -> float:
    """CPU time so far of every process under `root` except the subtree of `excluding`:
    here the browser and Playwright's driver, the server left out."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked

    def under(pid: int) -> bool:
        while pid in parents and pid not in (root, excluding, 0, 1):
            pid = parents[pid]
        return pid == root

    total = 0.0
    for pid in parents:
        if pid not in (root, excluding) and under(pid):
            try:
                total += cpu_seconds(pid)
            except (OSError, IndexError, ValueError):
                continue
    return total


@contextmanager
def served(db_url: str, log_path: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = {**os.environ, "EXTRACTOR_DB_URL": db_url, "PYTHONPATH": str(REPO)}
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "review_app.py", "--server.headless", "true",
                "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                # As a deployed server runs: no watching the source files for changes.
                "--server.fileWatcherType", "none", "--server.runOnSave", "false",
            ],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit(f"streamlit did not start: {log_path.read_text()[-2000:]}") from None
                    time.sleep(0.3)
            yield f"http://127.0.0.1:{port}/", server.pid
        finally:
            server.terminate()
            server.wait(timeout=10)


def _elapsed(page, end: str = "__rvT1") -> float:
    return page.evaluate(f"(window.{end} - window.__rvT0) / 1000")


def draft_holds_decision(store: Store, *, doc_key: str, owner: str, position: int, since: float) -> float:
    """Seconds from `since` (time.perf_counter) until `owner`'s draft in the database shows
    achievement `position` accepted; SystemExit after DRAFT_TIMEOUT_S."""
    while True:
        draft = store.load_draft(doc_key, owner=owner)
        if draft is not None:
            entries = draft.state["lists"][ListName.ACHIEVEMENTS.value]
            if entries[position]["decision"] == "accepted":
                return time.perf_counter() - since
        if time.perf_counter() - since > DRAFT_TIMEOUT_S:
            raise SystemExit(
                f"the accepted item did not reach the draft within {DRAFT_TIMEOUT_S:.0f} s"
                f" ({owner=}, {position=}, draft: {None if draft is None else [e['decision'] for e in entries]})"
            )
        time.sleep(0.005)


def server_agrees(page, shown: str, summaries: list[str]) -> None:
    """Once the accept's rerun is over, the server's focus (the link's `item`) is the item
    the editor showed at once, and the editor still shows it; SystemExit otherwise."""
    position = int(shown.split(":")[1])
    page.wait_for_function(
        f"""() => {_IDLE} && new URLSearchParams(location.search).get("item") === "{position + 1}" """,
        timeout=TIMEOUT_MS,
    )
    fields = page.evaluate(
        """() => [...document.querySelectorAll('input[aria-label="摘要"]')]
            .filter((f) => f.offsetParent !== null).map((f) => f.value)"""
    )
    if fields != [summaries[position]]:
        raise SystemExit(f"after the rerun the editor shows {fields}, not item {shown}'s summary")


def stored_with_decision(store: Store, *, doc_key: str, version: int, position: int) -> None:
    """SystemExit unless `version` is the report's current version and records achievement
    `position` as accepted (the save is complete and stored, not only announced)."""
    current = store.current_record(doc_key)
    if current is None or current.version != version:
        raise SystemExit(f"the save announced v{version}, the store holds v{current and current.version}")
    decided = load_decisions(store, document_id=current.document.id, version=version)
    if not any(d.list_name is ListName.ACHIEVEMENTS and d.position == position for d in decided):
        raise SystemExit(f"v{version} does not record the decision on achievement {position + 1}")


def measure(
    app_url: str, server_pid: int, summaries: list[str], repeat: int, *, store: Store, doc_key: str
) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {
        "open": [],
        "accept -> next (pane)": [],
        "accept -> next (editor)": [],
        "accept -> draft in DB": [],
        "save": [],
        "server CPU: open": [],
        "server CPU: accept -> next": [],
        "server CPU: save": [],
        "browser CPU: open": [],
        "browser CPU: accept -> next": [],
        "browser CPU: save": [],
    }

    def cpu() -> tuple[float, float]:
        return cpu_seconds(server_pid), descendants_cpu_seconds(os.getpid(), excluding=server_pid)

    def used(since: tuple[float, float]) -> tuple[float, float]:
        now = cpu()
        return now[0] - since[0], now[1] - since[1]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for n in range(repeat + 1):  # the first round warms Streamlit and the browser: not counted
            # A new page each round: a new Streamlit session, so opening the report is a
            # first open (nothing of it held in the session or in the page).
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(app_url)
            page.get_by_label("审核人").fill("基准测试")
            page.get_by_label("审核人").press("Enter")
            queue_button = page.get_by_role("button", name="某县司法局", exact=False).first
            queue_button.wait_for()
            page.wait_for_function(f"() => {_IDLE}")
            page.evaluate(_ARM_CLICK)
            start = cpu()
            queue_button.click()
            page.wait_for_function(_SUMMARY_SHOWN, arg=[None], polling="raf", timeout=TIMEOUT_MS)
            opened, open_cpu = _elapsed(page), used(start)
            page.evaluate("document.activeElement && document.activeElement.blur()")

            owner = page.evaluate('document.querySelector("mark.rv-focus").dataset.owner')
            while page.evaluate(_FOCUSED_STATE) != "open":  # accept an item not yet decided
                page.keyboard.press("j")
                page.wait_for_function(_PANE_FOCUS_ON, arg=[owner], polling="raf", timeout=TIMEOUT_MS)
                owner = page.evaluate('document.querySelector("mark.rv-focus").dataset.owner')
            page.wait_for_function(f"() => {_IDLE}")
            accepted = int(owner.split(":")[1])
            page.evaluate(_WATCH_NEXT, [owner, summaries])
            start = cpu()
            pressed = time.perf_counter()
            page.keyboard.press("a")
            page.wait_for_function("() => window.__rvT1 !== undefined", timeout=TIMEOUT_MS)
            pane, editor = _elapsed(page, "__rvPane"), _elapsed(page)
            shown = page.evaluate('document.querySelector("mark.rv-focus").dataset.owner')
            reviewer_key = page.evaluate('new URLSearchParams(location.search).get("reviewer_key")')
            persisted = draft_holds_decision(
                store, doc_key=doc_key, owner=reviewer_key, position=accepted, since=pressed
            )
            server_agrees(page, shown, summaries)
            accept_cpu = used(start)  # the rerun's CPU is counted in full

            page.evaluate(_ARM_KEY)
            start = cpu()
            page.keyboard.press("s")
            page.wait_for_function(_SAVED, arg=[f"已保存为 v{n + 2}"], polling="raf", timeout=TIMEOUT_MS)
            saved, save_cpu = _elapsed(page), used(start)
            stored_with_decision(store, doc_key=doc_key, version=n + 2, position=accepted)
            if n:
                figures = (
                    opened, pane, editor, persisted, saved, open_cpu[0], accept_cpu[0], save_cpu[0],
                    open_cpu[1], accept_cpu[1], save_cpu[1],
                )  # fmt: skip
                for name, value in zip(times, figures, strict=True):
                    times[name].append(value)
            page.get_by_role("button", name="← 返回报告列表").click()  # releases the soft lock
            page.wait_for_function(f"() => {_IDLE} && location.search.indexOf('report=') < 0")
            page.close()
        browser.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    text, record = build_report()
    print(f"report: {len(text):,} characters, {sum(len(record.items(n)) for n in ListName)} items")
    with tempfile.TemporaryDirectory(prefix="bench-review-browser-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        with Store(db_url) as store:
            store.save_extraction(
                SourceDocument(doc_id=record.doc_id, path="/bench/bench-review.txt", text=text),
                record,
                run_id=None,
            )
        print("load average (1, 5, 15 min): " + ", ".join(f"{load:.1f}" for load in os.getloadavg()))
        with Store(db_url) as store, served(db_url, Path(tmp) / "streamlit.log") as (app_url, server_pid):
            [row] = load_queue(store)
            times = measure(
                app_url, server_pid, [item.text for item in record.achievements], args.repeat,
                store=store, doc_key=row.doc_key,
            )  # fmt: skip
    ok = True
    for name, values in times.items():
        median = statistics.median(values)
        bar = BARS_S.get(name)
        verdict = "" if bar is None else f" (bar <= {bar * 1000:.0f} ms) {'OK' if median <= bar else 'OVER'}"
        print(
            f"{name}: median {median * 1000:.0f} ms, worst {max(values) * 1000:.0f} ms over {len(values)} runs{verdict}"
        )
        ok &= bar is None or median <= bar
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
