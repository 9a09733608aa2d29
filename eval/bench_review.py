"""Benchmark: the review screen's server work on a large report.

Builds a synthetic 30,000-character report with 150 items (100 achievements with two
metrics each, 25 problems, 25 plans; every tenth item flagged) in a temporary SQLite
store, then times:

- open: what the report page runs on the server: load the current record, the report text
  and the version log, index the text, build the highlight HTML, check for unsaved changes,
  order and label the three item lists (target < 1.5 s);
- save: saving the record with one changed item as a new version, with its decisions
  (target < 200 ms);
- draft: keeping the working copy after one decision as the reviewer's draft in the
  database, as the page does after every change (target < 100 ms);
- merged save: saving while a colleague saved another item meanwhile, merged per item
  on top of their version (target < 400 ms).

Run: python eval/bench_review.py [--repeat 5] [--apptest] [--queue [--records 1000]]
`--apptest` also times the Streamlit script (AppTest) opening the report page.
`--queue` also times the queue page's script run (AppTest; the CPU of the process, which
runs the script) with 1,000 approved records stored (eval/bench_analysis.py's records):
a run with nothing saved since the last (target < 0.3 s CPU), the first run after a save
(the queue reads the records again), and, for comparison, the work every run did before
the queue was paged and the downloads deferred (every record loaded, the three files built).
Prints the median and worst time of each; exits 1 if a median is over its target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from extractor.check import ground_record
from extractor.core.document import SourceDocument
from extractor.core.schema import (
    Achievement,
    Area,
    Flag,
    FlagCode,
    ListName,
    Meta,
    Metric,
    Plan,
    Problem,
    Provenance,
    Record,
)
from extractor.review import open_session
from extractor.review.audit import audit_entries
from extractor.review.drafts import save_draft
from extractor.review.edits import ItemEdit
from extractor.review.labels import DECISION_LABELS, flag_reasons
from extractor.store import Store

OPEN_TARGET_S = 1.5
SAVE_TARGET_S = 0.2
DRAFT_TARGET_S = 0.1
MERGED_SAVE_TARGET_S = 0.4
QUEUE_RUN_TARGET_S = 0.3
TARGET_CHARS = 30_000
ITEMS = {ListName.ACHIEVEMENTS: 100, ListName.PROBLEMS: 25, ListName.PLANS: 25}
HEADINGS = {
    ListName.ACHIEVEMENTS: "一、主要成效",
    ListName.PROBLEMS: "二、存在的不足",
    ListName.PLANS: "三、下一步工作计划",
}
_AREAS = list(Area)
_FILLER = "坚持以习近平法治思想为指导，统筹推进法治政府建设各项任务，严格落实工作责任，确保各项措施落地见效"
_ORDINALS = "一二三四五六七八九十"


def _paragraph(list_name: ListName, n: int) -> tuple[str, list[tuple[str, int, str, str]]]:
    """One item's paragraph (about 190 characters) and its metrics (name, value, unit, evidence)."""
    lead = f"{n + 1}、第{n + 1}项重点工作推进情况。"
    if list_name is ListName.ACHIEVEMENTS:
        cases, people = 10 + 7 * n, 200 + 13 * n
        metrics = [
            (f"办理第{n + 1}类案件", cases, "件", f"办理第{n + 1}类案件{cases}件"),
            (f"培训第{n + 1}批人员", people, "人次", f"培训第{n + 1}批人员{people}人次"),
        ]
        body = f"全年{metrics[0][3]}，{metrics[1][3]}，" + _FILLER
    elif list_name is ListName.PROBLEMS:
        metrics = []
        body = f"{_ORDINALS[n % 10]}是第{n + 1}方面工作仍有短板，基层力量相对薄弱，" + _FILLER
    else:
        metrics = []
        body = f"继续推进第{n + 1}项工作，进一步完善制度机制，" + _FILLER
    text = lead + body
    while len(text) < 190:
        text += "，" + _FILLER[: 190 - len(text)]
    return text + "。", metrics


def build_report() -> tuple[str, Record]:
    """A report of about TARGET_CHARS characters and its grounded 150-item record."""
    lines = ["某县2024年法治政府建设年度报告", "2024年，我县深入贯彻落实党中央、国务院决策部署。"]
    items: dict[ListName, list[Achievement | Problem | Plan]] = {name: [] for name in ListName}
    for list_name, count in ITEMS.items():
        lines.append(HEADINGS[list_name])
        for n in range(count):
            paragraph, metrics = _paragraph(list_name, n)
            lines.append(paragraph)
            common = {
                "area": _AREAS[n % len(_AREAS)],
                "text": paragraph[:30],
                "evidence": paragraph,
                "flags": [Flag(code=FlagCode.FUZZY_ALIGNMENT)] if n % 10 == 0 else [],
            }
            if list_name is ListName.ACHIEVEMENTS:
                item: Achievement | Problem | Plan = Achievement(
                    **common, metrics=[Metric(name=a, value=b, unit=c, evidence=d) for a, b, c, d in metrics]
                )
            elif list_name is ListName.PROBLEMS:
                item = Problem(**common)
            else:
                item = Plan(**common)
            items[list_name].append(item)
    text = "\n".join(lines)
    while len(text) < TARGET_CHARS:
        text += "\n" + _FILLER + "。"
    record = Record(
        doc_id="bench-review",
        meta=Meta(issuer="某县司法局", region="某县", report_year=2024),
        achievements=items[ListName.ACHIEVEMENTS],  # type: ignore[arg-type]
        problems=items[ListName.PROBLEMS],  # type: ignore[arg-type]
        plans=items[ListName.PLANS],  # type: ignore[arg-type]
        provenance=Provenance(backend="rules"),
    )
    return text, ground_record(record, text)


def open_report_page(store: Store, doc_key: str) -> int:
    """The report page's server work; returns the highlight's length (kept so it is used)."""
    session = open_session(store, doc_key)
    html = session.highlight(focus=(ListName.ACHIEVEMENTS, 0))
    audit_entries(store.versions(doc_key))
    session.has_unsaved_changes()
    for list_name in ListName:
        for position in session.display_order(list_name):
            entry = session.entry(list_name, position)
            _ = (DECISION_LABELS[entry.decision], flag_reasons(entry.item.flags), entry.item.text[:24])
    return len(html)


def _timed(work: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def _report(label: str, times: list[float], target: float) -> bool:
    median = statistics.median(times)
    ok = median < target
    print(
        f"{label}: median {median * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms "
        f"over {len(times)} runs (target < {target * 1000:.0f} ms) {'OK' if ok else 'OVER'}"
    )
    return ok


def _time_saves(store: Store, doc_key: str, repeat: int) -> list[float]:
    times = []
    for n in range(repeat):
        session = open_session(store, doc_key)
        session.accept(ListName.ACHIEVEMENTS, n % 100, ItemEdit(area=_AREAS[(n + 1) % len(_AREAS)]))
        start = time.perf_counter()
        session.save(store, reviewer="基准测试", status="in_review")
        times.append(time.perf_counter() - start)
    return times


def _time_drafts(store: Store, doc_key: str, repeat: int) -> list[float]:
    session = open_session(store, doc_key, owner="bench")
    times = []
    for n in range(repeat):
        session.accept(ListName.PLANS, n % 25)
        start = time.perf_counter()
        save_draft(store, session, owner="bench", reviewer="基准测试")
        times.append(time.perf_counter() - start)
    store.discard_draft(doc_key, owner="bench")
    return times


def _time_merged_saves(store: Store, doc_key: str, repeat: int) -> list[float]:
    times = []
    for n in range(repeat):
        mine, theirs = open_session(store, doc_key), open_session(store, doc_key)
        theirs.accept(ListName.PROBLEMS, n % 25, ItemEdit(area=_AREAS[(n + 2) % len(_AREAS)]))
        theirs.save(store, reviewer="同事", status="in_review")
        mine.accept(ListName.ACHIEVEMENTS, n % 100, ItemEdit(area=_AREAS[(n + 3) % len(_AREAS)]))
        start = time.perf_counter()
        mine.save(store, reviewer="基准测试", status="in_review")
        times.append(time.perf_counter() - start)
    return times


def _time_apptest(db_url: str, repeat: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    os.environ["EXTRACTOR_DB_URL"] = db_url
    app = Path(__file__).resolve().parent.parent / "review_app.py"
    times = []
    for _ in range(repeat + 1):  # the first run imports everything: not counted
        at = AppTest.from_file(str(app), default_timeout=120)
        at.run()
        next(b for b in at.button if str(b.key).startswith("rv_queue_open_")).click()
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        if at.exception:
            raise RuntimeError(str(at.exception))
    return times[1:]


def _cpu_timed(work: Callable[[], object], repeat: int) -> list[float]:
    """CPU seconds of the whole process (AppTest runs the script in a thread of its own)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return times


def _old_queue_run_work(db_url: str) -> None:
    """What every queue page run did before: every report's summary (each record parsed),
    every reviewed record loaded and all three download files built."""
    from extractor.review import downloads
    from extractor.review.queue import queue_rows

    with Store(db_url) as store:
        queue_rows(store.list_documents())
        records = downloads.reviewed_records(store)
        for fmt in downloads.FORMATS:
            downloads.export_bytes(records, fmt=fmt)


def _time_queue_page(repeat: int, records: int) -> bool:
    from bench_analysis import fill
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory(prefix="bench-review-queue-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'queue.db'}"
        fill(db_url, records)
        print(f"queue page: {records} approved records stored (not timed)")
        os.environ["EXTRACTOR_DB_URL"] = db_url
        at = AppTest.from_file(
            str(Path(__file__).resolve().parent.parent / "review_app.py"), default_timeout=300
        )
        at.run()  # imports, the Store, the first read of the records: not counted
        if at.exception:
            raise RuntimeError(str(at.exception))
        steady = _cpu_timed(at.run, repeat)
        shown = sum(1 for b in at.button if str(b.key).startswith("rv_queue_open_"))
        print(
            f"queue page shows {shown} of {records} reports; downloads: {[b.label for b in at.download_button]}"
        )
        ok = _report(f"queue page run at {records} records, server CPU", steady, QUEUE_RUN_TARGET_S)

        def after_a_save() -> None:
            with Store(db_url) as store:
                doc_key = store.list_documents()[0].sha256
                current = store.current_record(doc_key)
                assert current is not None
                store.save_review(
                    doc_key, current.record, base_version=current.version, reviewer="基准", status="approved"
                )
            start = time.process_time()
            at.run()
            after.append(time.process_time() - start)

        after: list[float] = []
        for _ in range(repeat):
            after_a_save()
        print(
            f"queue page first run after a save (records read again), server CPU: "
            f"median {statistics.median(after) * 1000:.0f} ms, worst {max(after) * 1000:.0f} ms"
        )
        old = _cpu_timed(lambda: _old_queue_run_work(db_url), 1)
        print(f"for comparison, the work every queue page run did before (CPU): {old[0]:.2f} s")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--apptest", action="store_true", help="also time the Streamlit script (AppTest)")
    parser.add_argument("--queue", action="store_true", help="also time the queue page's run (AppTest)")
    parser.add_argument("--records", type=int, default=1000, help="records stored for --queue")
    args = parser.parse_args()

    text, record = build_report()
    counts = {name.value: len(record.items(name)) for name in ListName}
    print(f"report: {len(text):,} characters, {sum(counts.values())} items {counts}")
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        with Store(db_url) as store:
            stored = store.save_extraction(
                SourceDocument(doc_id=record.doc_id, path="/bench/bench-review.txt", text=text),
                record,
                run_id=None,
            )
            doc_key = stored.sha256
            open_report_page(store, doc_key)  # warm-up: imports, connection pool, table creation
            ok = _report(
                "open report page",
                _timed(lambda: open_report_page(store, doc_key), args.repeat),
                OPEN_TARGET_S,
            )
            ok &= _report("save with one change", _time_saves(store, doc_key, args.repeat), SAVE_TARGET_S)
            ok &= _report("draft autosave", _time_drafts(store, doc_key, args.repeat), DRAFT_TARGET_S)
            ok &= _report(
                "save merged with a colleague's",
                _time_merged_saves(store, doc_key, args.repeat),
                MERGED_SAVE_TARGET_S,
            )
        if args.apptest:
            times = _time_apptest(db_url, args.repeat)
            print(
                f"AppTest report page run: median {statistics.median(times):.2f} s, worst {max(times):.2f} s"
            )
    if args.queue:
        ok &= _time_queue_page(args.repeat, args.records)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
