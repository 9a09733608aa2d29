"""Page batches: a long scan's OCR spread over workers, then one join that runs the pipeline.

OCR is the cost of a scan (seconds of CPU a page), and one job per file would leave a long
scan on one worker while the others idle. So `enqueue` splits a PDF with more scanned pages
than `batch_pages` into batches of consecutive scanned pages, one procrastinate job each
(`plan_batches`, `register_batches`). Any worker takes a batch and OCRs its pages exactly as
the loader would (`extractor.load.pdf.read_scanned_pages`); `save_batch` stores the lines and
says whether that was the job's last batch. The join is then the job's ordinary extraction
task: it loads the whole file with the batches' lines in place of OCR
(`extractor.load.ocr_run.pages_read_elsewhere`), so the text is the one `extractor extract`
gets, and saves the record through `jobs.finish_job` (once, under the job's lock).

Safe against a worker lost mid-batch: the batch's job is retried (procrastinate's heartbeat
reaper) and reads its pages again; a batch saved twice keeps the first lines. The join is
queued by whichever batch finds every batch read, including a retried batch whose worker
died after saving but before queueing it; a join queued or run twice writes once
(`finish_job` finds the job done).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from extractor.core.errors import ExtractorError
from extractor.distributed.jobs import write_transaction
from extractor.load.ocr import OcrBox
from extractor.store import Store
from extractor.store.rows import QueuedFileRow, QueueJobRow, QueuePageBatchRow
from extractor.store.tables import utc_now

#: Scanned pages per batch job by default: a page is seconds of OCR, and a job's own cost
#: (claiming it, opening the PDF, saving the lines) is a few hundredths of a second.
DEFAULT_BATCH_PAGES = 2


def plan_batches(content: bytes, name: str, *, batch_pages: int) -> list[list[int]]:
    """Batches of scanned page numbers for a PDF with more than `batch_pages` scanned pages;
    [] for anything else (one ordinary job reads it, and reports a broken file itself)."""
    if Path(name).suffix.lower() != ".pdf" or batch_pages < 1:
        return []
    from extractor.load.pdf import scanned_page_numbers

    try:
        scanned = scanned_page_numbers(content, source=name)
    except ExtractorError:
        return []
    if len(scanned) <= batch_pages:
        return []
    return [scanned[i : i + batch_pages] for i in range(0, len(scanned), batch_pages)]


def register_batches(store: Store, job_id: int, batches: list[list[int]]) -> None:
    """The job's batches, not yet read (a batch already registered is left as it is)."""

    def work(session: Session) -> None:
        for pages in batches:
            if session.get(QueuePageBatchRow, (job_id, pages[0])) is None:
                session.add(QueuePageBatchRow(job_id=job_id, first_page=pages[0], pages=pages))

    write_transaction(store, "cannot queue page batches", work)


def start_batch(store: Store, job_id: int, *, worker: str) -> tuple[str, bytes] | None:
    """The file's name and bytes for a batch of job `job_id`, with the job marked running on
    `worker`; None when the job is already done or failed (nothing left to read for it)."""

    def work(session: Session) -> tuple[str, bytes] | None:
        row = session.get(QueueJobRow, job_id, with_for_update=True)
        if row is None or row.status in ("done", "failed"):
            return None
        row.status, row.worker, row.updated_at = "running", worker, utc_now()
        return row.name, _content(session, row.file_sha256)

    return write_transaction(store, "cannot start page batch", work)


def _content(session: Session, sha256: str) -> bytes:
    file = session.get(QueuedFileRow, sha256)
    assert file is not None  # foreign key
    return file.content


def save_batch(
    store: Store, job_id: int, first_page: int, lines: dict[int, list[OcrBox]], *, worker: str
) -> bool:
    """Keep a batch's lines (a batch read before keeps its first lines); True when every
    batch of the job is now read and the job is not done yet: time to queue the join."""

    def work(session: Session) -> bool:
        # The job row's lock orders the batches finishing at once: exactly one sees the set
        # complete first (a retry of an already saved batch sees it again, and queues the
        # join again in case its first try died before doing so).
        job = session.get(QueueJobRow, job_id, with_for_update=True)
        batch = session.get(QueuePageBatchRow, (job_id, first_page))
        if job is None or batch is None:
            return False
        if batch.lines is None:
            batch.lines = [[_box_json(box) for box in lines.get(page, [])] for page in batch.pages]
            batch.worker, batch.updated_at = worker, utc_now()
            session.flush()
        unread = session.scalar(
            select(func.count())
            .select_from(QueuePageBatchRow)
            .where(QueuePageBatchRow.job_id == job_id, QueuePageBatchRow.lines.is_(None))
        )
        return not unread and job.status not in ("done", "failed")

    return write_transaction(store, "cannot save page batch", work)


def read_pages(store: Store, job_id: int) -> dict[int, list[OcrBox]] | None:
    """Every page the job's batches have read (page number: lines), or None for a job that
    was not split into batches."""
    with Session(store.engine) as session:
        batches = list(session.scalars(select(QueuePageBatchRow).where(QueuePageBatchRow.job_id == job_id)))
    if not batches:
        return None
    pages: dict[int, list[OcrBox]] = {}
    for batch in batches:
        if batch.lines is None:
            continue  # not read (cannot happen once the join is queued): the join OCRs it
        for page, page_lines in zip(batch.pages, batch.lines, strict=True):
            pages[page] = [_box_of(item) for item in page_lines]
    return pages


def _box_json(box: OcrBox) -> list[Any]:
    return [box.left, box.top, box.right, box.bottom, box.text]


def _box_of(item: list[Any]) -> OcrBox:
    left, top, right, bottom, text = item
    return OcrBox(float(left), float(top), float(right), float(bottom), str(text))
