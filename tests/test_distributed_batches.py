"""Long scans on the job queue: page batches OCRed by any worker, then one join.

The join must give the text `extractor extract` gives for the same file (the batches' lines
used, no page read twice), and a worker killed mid-batch must cost nothing but a retry.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
from fixtures_load import find_cjk_font, render_text_pages, seed_paragraphs, write_image_pdf
from pg import fresh_schema_url, pg_server  # noqa: F401  (pg_server: fixture, requested by name)
from queue_helpers import SEEDS, cli, job_rows, log_tails, start_worker, stop, wait_until, worker_env
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from extractor.distributed.batches import plan_batches
from extractor.distributed.jobs import versions_per_document_and_run
from extractor.load import load_document
from extractor.load.ocr import OcrBox
from extractor.load.ocr_run import pages_read_elsewhere
from extractor.load.pdf import read_scanned_pages
from extractor.store import Store
from extractor.store.rows import QueuePageBatchRow

FONT = find_cjk_font()
needs_font = pytest.mark.skipif(FONT is None, reason="no CJK font (apt-get install fonts-noto-cjk)")


def _short_scan(path: Path, pages: int) -> Path:
    """A scanned report of `pages` short pages (a few paragraphs each: OCR stays quick)."""
    assert FONT is not None
    paragraphs = seed_paragraphs(SEEDS[0].read_text(encoding="utf-8"))
    per_page = max(len(paragraphs[:18]) // pages, 1)
    images = [
        render_text_pages("\n".join(paragraphs[n * per_page : (n + 1) * per_page]), FONT, max_pages=1)[0]
        for n in range(pages)
    ]
    return write_image_pdf(path, images)


@needs_font
def test_a_scan_loaded_from_its_batches_reads_as_the_whole_file_does(tmp_path: Path) -> None:
    scan = _short_scan(tmp_path / "scan.pdf", 3)
    content = scan.read_bytes()
    split = plan_batches(content, scan.name, batch_pages=2)
    assert split == [[1, 2], [3]]
    assert plan_batches(content, scan.name, batch_pages=3) == []  # short enough for one job

    read: dict[int, list[OcrBox]] = {}
    for pages in split:
        read.update(read_scanned_pages(content, pages, source=scan.name))
    with pages_read_elsewhere(read):
        joined = load_document(scan)
    whole = load_document(scan)
    assert joined.text == whole.text and joined.ocr and whole.ocr
    assert "法治政府" in joined.text

    # The join takes the batches' lines as they are: it does not read the page again.
    marked = dict(read)
    marked[2] = [OcrBox(100, 100, 600, 140, "第二页由另一台机器识别")]
    with pages_read_elsewhere(marked):
        assert "第二页由另一台机器识别" in load_document(scan).text
    assert "第二页由另一台机器识别" not in load_document(scan).text  # the block's pages are gone


def _procrastinate_jobs(store: Store) -> list[tuple[str, str, int]]:
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT task_name, status, attempts FROM procrastinate_jobs"))
        return [(str(name), str(status), int(attempts)) for name, status, attempts in rows]


@needs_font
@pytest.mark.postgres
def test_a_worker_killed_mid_batch_costs_a_retry_and_the_scan_is_joined_once(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "reports").mkdir()
    scan = _short_scan(tmp_path / "reports" / "scan.pdf", 3)
    with fresh_schema_url(request.getfixturevalue("pg_server")) as url:
        env = worker_env(url)
        done = cli("enqueue", "--ocr-batch-pages", "1", str(tmp_path / "reports"), env=env)
        assert done.returncode == 0, done.stderr
        found = re.search(r"run (\d+):", done.stdout)
        assert found, done.stdout
        run_id = int(found.group(1))
        store = Store(url)
        (job,) = job_rows(store, run_id)
        lease = ("--lease", "3", "--tries", "5")
        logs = tmp_path / "logs"
        logs.mkdir()
        victim = start_worker(*lease, env=env, log=logs / "victim.log")
        procs = [victim]
        try:

            def victim_reading() -> bool:  # a batch taken, and its pages being read
                return job_rows(store, run_id)[0].status == "running" and any(
                    name == "extractor.ocr_batch" and status == "doing"
                    for name, status, _ in _procrastinate_jobs(store)
                )

            assert wait_until(victim_reading, timeout=180, interval=0.01), log_tails(logs)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            # Until another worker takes over, status names the lost worker and the batches read
            # (spaces left out: the console wraps a long line where it likes).
            status = "".join(cli("status", env=env).stdout.split())
            assert re.search(rf"scan\.pdfon[^\s]*:{victim.pid},[0-2]of3pagebatchesread", status), status
            procs += [start_worker(*lease, env=env, log=logs / f"worker{n}.log") for n in range(2)]
            assert wait_until(
                lambda: job_rows(store, run_id)[0].status == "done", timeout=300, interval=0.2
            ), log_tails(logs)
        finally:
            stop(procs)

        (row,) = job_rows(store, run_id)
        assert row.status == "done" and "worker lost mid-job" in (row.error or "")
        with Session(store.engine) as session:
            batches = list(
                session.scalars(select(QueuePageBatchRow).where(QueuePageBatchRow.job_id == job.id))
            )
        assert sorted(b.first_page for b in batches) == [1, 2, 3] and all(b.lines for b in batches)
        tasks = _procrastinate_jobs(store)
        batch_jobs = [t for t in tasks if t[0] == "extractor.ocr_batch"]
        assert len(batch_jobs) == 3 and {status for _, status, _ in batch_jobs} == {"succeeded"}
        assert any(attempts >= 1 for _, _, attempts in batch_jobs)  # the killed batch, tried again
        assert [status for name, status, _ in tasks if name == "extractor.extract_file"] == ["succeeded"]
        # Exactly once: one document, one version, with the text the whole file loads to.
        assert dict(versions_per_document_and_run(store, run_id)) == {row.document_id: 1}
        info, stored = store.get_document("scan"), store.source_document("scan")
        assert info is not None and info.id == row.document_id and info.ocr
        assert stored is not None and stored.text == load_document(scan).text
        store.close()
