"""Job outcomes in the extractor database: what was queued, who runs it, what it made, why it failed.

procrastinate owns the queue (which job runs next, on which worker, retries, heartbeats);
this module owns what a user asks about and what must happen exactly once:
- `register_files`: a run's files, stored once by the sha256 of their bytes, one row per
  (run, file) (the unique pair refuses a second);
- `start_attempt` / `finish_job` / `fail_attempt`: the row's life, where `finish_job` saves the
  record version and marks the row done in one transaction under the row's lock, so a job
  retried after its worker vanished finds it done and writes nothing a second time;
- `run_status`: counts by state, and each failure's reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import exists, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from extractor.core.document import SourceDocument
from extractor.core.errors import StoreError
from extractor.core.schema import Record
from extractor.store import Store, writes
from extractor.store.engine import WRITE_OPTION, store_error
from extractor.store.rows import QueuedFileRow, QueueJobRow, QueuePageBatchRow, RecordVersionRow, RunRow
from extractor.store.tables import utc_now

JOB_STATES = ("queued", "running", "done", "failed")
T = TypeVar("T")


@dataclass(frozen=True)
class QueuedFile:
    """A file of a run, as the queue knows it."""

    job_id: int
    file_sha256: str
    name: str
    status: str
    note: str | None = None


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker needs to run a job: the file's bytes and name, and the run's setup."""

    job_id: int
    run_id: int
    name: str
    content: bytes
    backend: str
    model: str | None
    setup_key: str
    already_done: bool
    split: bool = False  # read by page batches first (extractor.distributed.batches)


@dataclass
class RunStatus:
    """One run's jobs by state, with each failed file's reason."""

    run_id: int
    backend: str
    model: str | None
    started_at: dt.datetime
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (file name, error)
    running: list[tuple[str, str]] = field(default_factory=list)  # (file name, worker and batches read)


def file_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def register_files(store: Store, run_id: int, paths: list[Path], *, setup_key: str) -> list[QueuedFile]:
    """Store each file (once per content) and give it a job row in `run_id`.

    A file whose bytes were already extracted with the same setup (backend, model, settings)
    in an earlier run is recorded done at once, with a note naming that run: it needs no job.
    The same bytes twice in one list count once. A handful of statements whatever the number
    of files (workers wait for the run's jobs until this commits).
    """
    contents: dict[str, tuple[Path, bytes]] = {}
    for path in paths:
        content = path.read_bytes()
        contents.setdefault(file_sha256(content), (path, content))
    shas = list(contents)

    def work(session: Session) -> list[QueuedFile]:
        if not shas:
            return []
        stored = set(session.scalars(select(QueuedFileRow.sha256).where(QueuedFileRow.sha256.in_(shas))))
        session.add_all(
            QueuedFileRow(sha256=sha, name=path.name, size=len(content), content=content)
            for sha, (path, content) in contents.items()
            if sha not in stored
        )
        session.flush()  # the files before the jobs that reference them
        earlier: dict[str, QueueJobRow] = {}
        for done in session.scalars(
            select(QueueJobRow)
            .where(
                QueueJobRow.file_sha256.in_(shas),
                QueueJobRow.setup_key == setup_key,
                QueueJobRow.status == "done",
            )
            .order_by(QueueJobRow.id)
        ):
            earlier.setdefault(done.file_sha256, done)
        rows = [
            _job_row(run_id, sha, path, setup_key, earlier.get(sha)) for sha, (path, _) in contents.items()
        ]
        session.add_all(rows)
        session.flush()  # one INSERT per table (the dialect batches the rows), ids returned
        return [QueuedFile(row.id, row.file_sha256, row.name, row.status, row.note) for row in rows]

    return write_transaction(store, "cannot queue files", work)


def _job_row(run_id: int, sha: str, path: Path, setup_key: str, earlier: QueueJobRow | None) -> QueueJobRow:
    row = QueueJobRow(run_id=run_id, file_sha256=sha, name=str(path), setup_key=setup_key, status="queued")
    if earlier is not None:
        row.status, row.note = "done", f"already extracted in run {earlier.run_id}"
        row.document_id, row.version = earlier.document_id, earlier.version
    return row


def start_attempt(store: Store, job_id: int, *, worker: str) -> ClaimedJob:
    """Mark the job running on `worker` (one more attempt) and return what it needs.

    A job already done (a retry of a job whose worker finished but was lost before telling
    the queue) comes back with `already_done`, and its row is left as it is.
    """

    def work(session: Session) -> ClaimedJob:
        # The row (locked), its run's setup, the file's bytes and whether page batches read
        # it, in one statement: a worker's every job starts with this.
        split = exists().where(QueuePageBatchRow.job_id == QueueJobRow.id)
        found = session.execute(
            select(QueueJobRow, RunRow.backend, RunRow.model, QueuedFileRow.content, split)
            .join(RunRow, RunRow.id == QueueJobRow.run_id)
            .join(QueuedFileRow, QueuedFileRow.sha256 == QueueJobRow.file_sha256)
            .where(QueueJobRow.id == job_id)
            .with_for_update(of=QueueJobRow)
        ).first()
        if found is None:
            raise StoreError(f"no queued job with id {job_id}")
        row, backend, model, content, has_batches = found
        done = row.status == "done"
        if not done:
            row.status, row.worker, row.attempts, row.updated_at = (
                "running",
                worker,
                row.attempts + 1,
                utc_now(),
            )
        return ClaimedJob(
            job_id=row.id,
            run_id=row.run_id,
            name=row.name,
            content=content,
            backend=backend,
            model=model,
            setup_key=row.setup_key,
            already_done=done,
            split=bool(has_batches),
        )

    return write_transaction(store, "cannot start job", work)


def finish_job(store: Store, job_id: int, doc: SourceDocument, record: Record) -> int | None:
    """Save `record` as `doc`'s extraction in the job's run and mark the job done, in one
    transaction under the job row's lock. Returns the version, or None when the job was
    already done (a retried job): then nothing is written. A document has one version per
    run: a second file of the same text is linked to it; and the same record as the
    document's latest extraction by this setup adds no version (Store.save_extraction)."""

    def work(session: Session) -> int | None:
        # The job's row (locked) with its run in one statement: the run is then known to the
        # session, and saving the version asks for it again without a query.
        found = session.execute(
            select(QueueJobRow, RunRow)
            .join(RunRow, RunRow.id == QueueJobRow.run_id)
            .where(QueueJobRow.id == job_id)
            .with_for_update(of=QueueJobRow)
        ).first()
        if found is None:
            raise StoreError(f"no queued job with id {job_id}")
        row = found[0]
        if row.status == "done":
            return None
        # Two files of one text (a .txt and its GBK copy) are one document: one version per run.
        document, version, already = writes.save_extraction_once_in_run(
            session, doc, record, run_id=row.run_id
        )  # locks the document's row
        if already:
            row.note = "same text as another file of this run"
        # The error stays: why an earlier try of this job was lost or failed.
        row.status, row.updated_at = "done", utc_now()
        row.document_id, row.version = document.id, version
        _close_run_if_finished(session, row.run_id)
        return version

    return write_transaction(store, "cannot finish job", work)


def fail_attempt(store: Store, job_id: int, error: str, *, final: bool) -> None:
    """Keep the attempt's error; `final`: no more tries, the job is failed, else queued again."""

    def work(session: Session) -> None:
        row = session.get(QueueJobRow, job_id, with_for_update=True)
        if row is None or row.status == "done":
            return
        row.status, row.error, row.updated_at = ("failed" if final else "queued"), error, utc_now()
        if final:
            _close_run_if_finished(session, row.run_id)

    write_transaction(store, "cannot record job failure", work)


def _close_run_if_finished(session: Session, run_id: int) -> None:
    """Mark the run finished (its counts as stats) once none of its jobs is left to run."""
    session.flush()
    # Locked before counting: of two workers finishing a run's last jobs at once, the second
    # waits here and then sees the first one's job done, so one of them closes the run. FOR
    # NO KEY UPDATE: the version just inserted holds a key-share lock on this row (its foreign
    # key), which a plain FOR UPDATE would wait on, deadlocking two finishing workers.
    run = session.get(RunRow, run_id, with_for_update={"key_share": True})
    # Counted by the server: a run of thousands of jobs sends four numbers, not every status.
    by_status = (
        select(QueueJobRow.status, func.count())
        .where(QueueJobRow.run_id == run_id)
        .group_by(QueueJobRow.status)
    )
    counts: Counter[str] = Counter(dict(session.execute(by_status).all()))
    if counts["queued"] or counts["running"]:
        return
    if run is not None:
        run.status = "failed" if counts["failed"] and not counts["done"] else "ok"
        run.stats = {"files": sum(counts.values()), "extracted": counts["done"], "failed": counts["failed"]}
        run.finished_at = utc_now()


def run_status(store: Store, run_ids: list[int] | None = None) -> list[RunStatus]:
    """Every queued run (or those in `run_ids`), newest first, with counts and failures."""
    with Session(store.engine) as session:
        runs_query = (
            select(RunRow)
            .where(RunRow.id.in_(select(QueueJobRow.run_id).distinct()))
            .order_by(RunRow.id.desc())
        )
        if run_ids:
            runs_query = runs_query.where(RunRow.id.in_(run_ids))
        out = []
        for run in session.scalars(runs_query):
            status = RunStatus(run.id, run.backend, run.model, run.started_at)
            for job in session.scalars(
                select(QueueJobRow).where(QueueJobRow.run_id == run.id).order_by(QueueJobRow.id)
            ):
                status.counts[job.status] += 1
                if job.status == "failed":
                    status.failures.append((job.name, job.error or "unknown error"))
                elif job.status == "running":
                    status.running.append((job.name, (job.worker or "?") + _batch_progress(session, job.id)))
            out.append(status)
        return out


def _batch_progress(session: Session, job_id: int) -> str:
    """', 1 of 3 page batches read' for a scan queued as page batches, else ''."""
    read = list(
        session.scalars(
            select(QueuePageBatchRow.lines.is_not(None)).where(QueuePageBatchRow.job_id == job_id)
        )
    )
    return f", {sum(read)} of {len(read)} page batches read" if read else ""


def versions_per_document_and_run(store: Store, run_id: int) -> Counter[int]:
    """How many extraction versions each document has in `run_id` (exactly-once checks)."""
    with Session(store.engine) as session:
        rows = session.scalars(
            select(RecordVersionRow.document_id).where(
                RecordVersionRow.run_id == run_id, RecordVersionRow.kind == "extraction"
            )
        )
        return Counter(rows)


def write_transaction(store: Store, action: str, work: Callable[[Session], T]) -> T:
    """Run `work` in one write transaction; database errors become one-line StoreErrors."""
    try:
        with Session(store.engine.execution_options(**{WRITE_OPTION: True})) as session, session.begin():
            return work(session)
    except SQLAlchemyError as e:
        raise store_error(action, e, store.url) from e
