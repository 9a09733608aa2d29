"""The queue and the downloads with many reports: pages, the cached summaries, the count
without loading records, and the download built on click (in another thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_fixtures import DOC_ID, fill_store

from extractor.review import open_session
from extractor.review.downloads import DeferredExport, export_bytes, reviewed_records
from extractor.review.queue import QueueRow, load_queue, page_of, reviewed_count, stored_summaries
from extractor.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(fill_store(tmp_path / "review.db")) as s:
        yield s


def _rows(count: int) -> list[QueueRow]:
    return [
        QueueRow(
            doc_key=f"{n:064d}",
            doc_id=f"report-{n:04d}",
            status=None,
            status_label="待审核",
            issuer=f"第{n}县司法局",
            report_year=2024,
            item_count=3,
            flagged_count=0,
            version=1,
            last_reviewer=None,
        )
        for n in range(count)
    ]


def test_a_page_holds_fifty_reports_in_the_queue_order() -> None:
    rows = _rows(120)
    first, last = page_of(rows, page=0), page_of(rows, page=2)
    assert first.rows == rows[:50] and (first.count, first.has_previous, first.has_next) == (3, False, True)
    assert last.rows == rows[100:] and (last.has_previous, last.has_next) == (True, False)
    assert last.caption() == "第 3 / 3 页 · 第 101–120 份，共 120 份"
    # Every report is on exactly one page.
    assert [r for n in range(3) for r in page_of(rows, page=n).rows] == rows


def test_a_page_out_of_range_shows_the_nearest_page() -> None:
    rows = _rows(60)
    assert page_of(rows, page=7).number == 1  # the filter shrank the list under the reviewer
    assert page_of(rows, page=-1).number == 0
    assert page_of(rows[:3], page=1).rows == rows[:3]
    assert page_of([], page=0).count == 1


def test_the_queue_reads_the_records_again_only_after_a_save(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    list_documents = store.list_documents
    monkeypatch.setattr(store, "list_documents", lambda: calls.append(1) or list_documents())
    [before] = load_queue(store)
    load_queue(store)
    assert len(calls) == 1  # nothing saved: no record parsed again
    session = open_session(store, DOC_ID)
    session.accept_remaining()
    session.save(store, reviewer="张三", status="approved")
    [after] = load_queue(store)
    assert (before.status_label, after.status_label, after.last_reviewer) == ("待审核", "已通过", "张三")


def test_the_download_count_is_the_number_of_records_downloaded(store: Store) -> None:
    summaries, _ = stored_summaries(store)
    assert reviewed_count(summaries) == reviewed_count(summaries, approved_only=False) == 0
    session = open_session(store, DOC_ID)
    session.save(store, reviewer="张三", status="in_review")
    summaries, _ = stored_summaries(store)
    assert reviewed_count(summaries) == len(reviewed_records(store)) == 0
    assert (
        reviewed_count(summaries, approved_only=False)
        == len(reviewed_records(store, approved_only=False))
        == 1
    )


def _in_a_thread(export: DeferredExport) -> bytes | BaseException:
    """Call the export as Streamlit does: in a thread of its own."""
    out: list[bytes | BaseException] = []

    def run() -> None:
        try:
            out.append(export())
        except Exception as e:
            out.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return out[0]


def test_a_deferred_download_holds_the_reviewed_records(store: Store) -> None:
    session = open_session(store, DOC_ID)
    session.accept_remaining()
    session.save(store, reviewer="张三", status="approved")
    export = DeferredExport(store.url.render_as_string(hide_password=False), fmt="csv", approved_only=True)
    data = _in_a_thread(export)
    assert data == export_bytes(reviewed_records(store), fmt="csv")
    assert "张三" in data.decode("utf-8-sig")
    assert export.wait_failure(start_within=0, finish_within=0) is None


def test_a_failed_download_leaves_a_chinese_message(store: Store, tmp_path: Path) -> None:
    url = store.url.render_as_string(hide_password=False)
    unsupported = DeferredExport(url, fmt="pdf", approved_only=True)
    assert isinstance(_in_a_thread(unsupported), Exception)
    assert unsupported.wait_failure(start_within=1, finish_within=1) == "不支持的导出格式：pdf"
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "review.db").mkdir()  # a folder where the database file should be
    unreadable = DeferredExport(
        f"sqlite:///{tmp_path / 'gone' / 'review.db'}", fmt="xlsx", approved_only=True
    )
    assert isinstance(_in_a_thread(unreadable), Exception)
    message = unreadable.wait_failure(start_within=1, finish_within=1)
    assert message is not None and message.startswith("导出 XLSX 失败")


def test_a_download_never_asked_for_reports_nothing(store: Store) -> None:
    export = DeferredExport(store.url.render_as_string(hide_password=False), fmt="csv", approved_only=True)
    assert export.wait_failure(start_within=0.01, finish_within=10) is None
