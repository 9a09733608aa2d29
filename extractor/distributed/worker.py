"""The procrastinate app, the extraction task, and the worker loop with its stalled-job reaper.

procrastinate keeps the queue in PostgreSQL: a job is one queued file of one run
(`extract_file(job_id)`), deferred with a queueing lock so it is never queued twice. A worker
takes jobs (`concurrency` at once, on threads), and sends a heartbeat every `lease / 3`
seconds. A worker killed outright (SIGKILL, machine lost) stops its heartbeat: after `lease`
seconds every other worker's reaper sees its jobs as stalled and hands them back to the queue,
counting the lost try, until `tries` are used up; then the job is failed with that reason.
A job that raises is retried by procrastinate's RetryStrategy up to the same `tries`.

What the job does happens exactly once whatever the retries: see extractor.distributed.jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.core.document import SourceDocument
from extractor.core.errors import ConfigError, ExtractorError, ModelError, StoreError
from extractor.distributed import batches, jobs
from extractor.load import load_document
from extractor.load.ocr import OcrBox
from extractor.load.ocr_run import pages_read_elsewhere
from extractor.pipeline.run import LLMResources, run_extraction
from extractor.store import Store

if TYPE_CHECKING:
    import procrastinate

logger = logging.getLogger(__name__)

#: The procrastinate queue and task names (stable: queued jobs name them).
QUEUE = "extractor"
TASK_NAME = "extractor.extract_file"
#: A page batch of a long scan (see extractor.distributed.batches); the join is TASK_NAME.
BATCH_TASK_NAME = "extractor.ocr_batch"
#: Tries per job (a worker lost mid-job counts as one) before it is failed with its error.
DEFAULT_TRIES = 3
#: Seconds without a heartbeat after which a worker's jobs go back to the queue.
DEFAULT_LEASE_S = 30.0


def conninfo_for(store: Store) -> str:
    """The libpq connection string of the store's PostgreSQL (procrastinate uses psycopg directly)."""
    if store.engine.dialect.name != "postgresql":
        raise ConfigError(
            "the job queue needs PostgreSQL: set EXTRACTOR_DB_URL (or --db) to a postgresql:// URL",
            source=str(store),
        )
    return store.url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(store: Store, *, tries: int = DEFAULT_TRIES) -> procrastinate.App:
    """A procrastinate app on the store's database, with the extraction task registered."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo_for(store)))
    for name, function in ((TASK_NAME, _extract_file_task), (BATCH_TASK_NAME, _ocr_batch_task)):
        app.task(
            name=name,
            queue=QUEUE,
            pass_context=True,
            # procrastinate counts retries after the first try.
            retry=procrastinate.RetryStrategy(max_attempts=max(tries - 1, 0), wait=2),
        )(function)
    return app


def ensure_queue_schema(store: Store) -> None:
    """Apply procrastinate's schema to the store's database if it is not there (idempotent,
    serialised across processes by an advisory lock)."""
    import psycopg
    from procrastinate.schema import SchemaManager

    with psycopg.connect(conninfo_for(store), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(hashtext('extractor.distributed.schema'))")
        try:
            row = connection.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
            if row is not None and not row[0]:
                connection.execute(SchemaManager.get_schema())
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext('extractor.distributed.schema'))")


# -- the task ------------------------------------------------------------------------------


@dataclass
class WorkerState:
    """What a worker process shares between its jobs: the store, model resources, limits."""

    store: Store
    tries: int = DEFAULT_TRIES
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    _llm: dict[str, LLMResources] = field(default_factory=dict)
    _llm_lock: threading.Lock = field(default_factory=threading.Lock)
    # The running worker's app and event loop: a page batch queues its job's join through them.
    app: procrastinate.App | None = None
    loop: asyncio.AbstractEventLoop | None = None

    def queue_join(self, job_id: int, model_settings: dict[str, Any] | None) -> None:
        """Queue job `job_id`'s extraction (the join of its page batches) from a job thread."""
        if self.app is None or self.loop is None:
            raise ConfigError("the worker is not running (run jobs with `extractor worker`)")
        future = asyncio.run_coroutine_threadsafe(
            _defer_extraction(self.app, job_id, model_settings), self.loop
        )
        future.result()

    def llm(self, model_settings: dict[str, Any]) -> LLMResources:
        """The model resources for a run's model settings (what the job carries: model, mode,
        endpoint…, never a key); the key and anything else from this machine's environment or
        config file. Built once per settings; the answer cache and call log are the database's."""
        wanted = json.dumps(model_settings, sort_keys=True, default=str)
        with self._llm_lock:
            if wanted not in self._llm:
                from extractor.extract.llm import CallLog, LLMCache, resolve_llm_settings

                settings = resolve_llm_settings(**model_settings)
                engine = self.store.engine
                self._llm[wanted] = LLMResources(
                    settings=settings, cache=LLMCache(engine), call_log=CallLog(engine)
                )
            return self._llm[wanted]


_STATE: WorkerState | None = None


def set_worker_state(state: WorkerState | None) -> None:
    global _STATE
    _STATE = state


def _extract_file_task(context: Any, job_id: int, model_settings: dict[str, Any] | None = None) -> str:
    state = _STATE
    if state is None:
        raise ConfigError("the worker state is not set up (run jobs with `extractor worker`)")
    final = context.job.attempts + 1 >= state.tries
    return run_job(state, job_id, final=final, model_settings=model_settings)


def _ocr_batch_task(
    context: Any, job_id: int, pages: list[int], model_settings: dict[str, Any] | None = None
) -> str:
    state = _STATE
    if state is None:
        raise ConfigError("the worker state is not set up (run jobs with `extractor worker`)")
    final = context.job.attempts + 1 >= state.tries
    return run_batch(state, job_id, pages, final=final, model_settings=model_settings)


def run_batch(
    state: WorkerState,
    job_id: int,
    pages: list[int],
    *,
    final: bool,
    model_settings: dict[str, Any] | None = None,
) -> str:
    """OCR one page batch of job `job_id` and keep its lines; the batch that completes the set
    queues the join. Failures are recorded as `_attempt` records them."""
    from extractor.load.pdf import read_scanned_pages

    started = batches.start_batch(state.store, job_id, worker=state.name)
    if started is None:
        return "already done"
    name, content = started

    def read_batch() -> str:
        lines = read_scanned_pages(content, pages, source=name)
        complete = batches.save_batch(state.store, job_id, pages[0], lines, worker=state.name)
        if complete:
            state.queue_join(job_id, model_settings)
        return f"pages {pages[0]}-{pages[-1]} read" + ("; join queued" if complete else "")

    return _attempt(state, job_id, read_batch, final=final)


def run_job(
    state: WorkerState, job_id: int, *, final: bool, model_settings: dict[str, Any] | None = None
) -> str:
    """Run one queued job; returns what happened (failures as `_attempt` records them)."""
    claimed = jobs.start_attempt(state.store, job_id, worker=state.name)
    if claimed.already_done:
        return "already done"

    def extract() -> str:
        doc = _load(claimed, batches.read_pages(state.store, job_id) if claimed.split else None)
        llm = state.llm(model_settings or {"model": claimed.model}) if claimed.backend == "llm" else None
        if llm is not None:
            llm = LLMResources(
                settings=llm.settings, cache=llm.cache, call_log=llm.call_log, run_id=str(claimed.run_id)
            )
        extraction = run_extraction(doc, backend=claimed.backend, llm=llm)
        version = jobs.finish_job(state.store, job_id, doc, extraction.record)
        return "already done" if version is None else f"version {version}"

    return _attempt(state, job_id, extract, final=final)


def _attempt(state: WorkerState, job_id: int, work: Callable[[], str], *, final: bool) -> str:
    """Run one attempt of job `job_id` and record how it failed, for extraction jobs and page
    batches alike. A document that cannot be extracted (not a report, unreadable) fails at
    once with its reason; the model's or the database's errors, and any other, are kept and
    raised, so procrastinate tries again (`final`: this was the last try, the job is failed)."""
    try:
        return work()
    except (ModelError, ConfigError, StoreError) as error:
        jobs.fail_attempt(state.store, job_id, str(error), final=final)
        raise
    except ExtractorError as error:
        jobs.fail_attempt(state.store, job_id, str(error), final=True)
        return f"failed: {error}"
    except Exception as error:
        jobs.fail_attempt(state.store, job_id, f"{type(error).__name__}: {error}"[:500], final=final)
        raise


def _load(claimed: jobs.ClaimedJob, read_pages: dict[int, list[OcrBox]] | None) -> SourceDocument:
    """The queued file loaded as the loader would load it where it was (OCR included, but for
    the pages its page batches read: `read_pages`)."""
    original = Path(claimed.name)
    with tempfile.TemporaryDirectory(prefix="extractor-job-") as folder:
        copy = Path(folder) / original.name
        copy.write_bytes(claimed.content)
        with pages_read_elsewhere(read_pages) if read_pages is not None else contextlib.nullcontext():
            doc = load_document(copy, doc_id=original.stem)
    return doc.model_copy(update={"path": str(original)})


# -- the worker loop -------------------------------------------------------------------------


def serve(
    state: WorkerState,
    *,
    concurrency: int = 1,
    lease_s: float = DEFAULT_LEASE_S,
    until_empty: bool = False,
) -> None:
    """Run jobs until stopped (SIGINT / SIGTERM: running jobs finish first), or, with
    `until_empty`, until the queue has nothing left to start."""
    ensure_queue_schema(state.store)
    _warm_up()
    app = make_app(state.store, tries=state.tries)
    state.app = app
    set_worker_state(state)
    asyncio.run(_serve(app, state, concurrency=concurrency, lease_s=lease_s, until_empty=until_empty))


#: A few lines in the genre's shape, extracted once by `_warm_up` (never stored).
_WARM_UP_REPORT = (
    "某县人民政府2024年法治政府建设年度报告\n"
    "一、主要举措和成效\n"
    "（一）推进依法行政。全年办理行政复议案件12件，同比增长20%。\n"
    "二、存在的不足和原因\n"
    "执法人员培训不够深入。\n"
    "三、下一步工作安排\n"
    "加强执法人员培训。\n"
)


def _warm_up() -> None:
    """Pay a worker's one-off start-up costs before it registers and takes jobs, not inside
    its first job: measured on the 300 ms scripted server, the first model job of a cold
    worker cost ten times the CPU of the next (the OpenAI client loads some 500 modules when
    the first client is built; the segmenter and script tables load on first use), and four
    cold workers starting at once on 2 cores held their first jobs ~12 s instead of ~1 s
    (the area model was read by each of the first job's call threads at once).
    Nothing is sent or stored: the client is built and dropped, the report is not saved."""
    with contextlib.suppress(ImportError):
        import instructor
        import openai

        # A client is enough to load the library's resources; its address is never called.
        instructor.from_openai(openai.OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1"))
    with contextlib.suppress(ExtractorError):
        run_extraction(SourceDocument(doc_id="warm-up", path="warm-up", text=_WARM_UP_REPORT))
    # The model answers' area check reads the packaged area model (~1 s of CPU; the rules path
    # reads it only when enabled), and the first job's model calls would each read it at once.
    from extractor.extract.rules.area_model import load_area_model

    load_area_model()
    # The section-kind classifier (read on a report's first unnamed heading, which the few
    # lines above do not have: measured ~0.17 s of the first model job's critical path).
    from extractor.segment.kind_model import load_kind_model

    load_kind_model()
    # A scan's first page would otherwise build the OCR engine inside a job (1.7 s of CPU,
    # ~165 MB, once per process): two workers taking their first scans at once each stalled on
    # it, which was a tenth of a short OCR batch's time.
    from extractor.load.ocr import ocr_engine

    ocr_engine()


async def _serve(
    app: procrastinate.App, state: WorkerState, *, concurrency: int, lease_s: float, until_empty: bool
) -> None:
    # Sync tasks run on the loop's default executor: give it a thread per job slot.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=concurrency + 1))
    state.loop = asyncio.get_running_loop()
    async with app.open_async():
        reaper = asyncio.create_task(_reap_stalled_jobs(app, state, lease_s=lease_s))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                name=state.name,
                wait=not until_empty,
                update_heartbeat_interval=max(lease_s / 3, 0.5),
                stalled_worker_timeout=lease_s,
                fetch_job_polling_interval=1.0,
            )
        finally:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper


async def _reap_stalled_jobs(app: procrastinate.App, state: WorkerState, *, lease_s: float) -> None:
    """Every `lease / 2` s: hand the jobs of workers silent for `lease` s back to the queue
    (or fail them, their tries used up), keeping the reason on the job's row."""
    from procrastinate.jobs import Status

    while True:
        await asyncio.sleep(max(lease_s / 2, 0.5))
        try:
            stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=lease_s)
            for job in stalled:
                queued_job = job.task_kwargs.get("job_id")
                job_id = queued_job if isinstance(queued_job, int) else -1
                used = job.attempts + 1
                reason = (
                    f"worker lost mid-job (no heartbeat for {lease_s:g} s) on try {used} of {state.tries}"
                )
                final = used >= state.tries
                # The reason first: a worker may take the retried job at once, and its row
                # must then say running, not be set back to queued behind it.
                await asyncio.to_thread(jobs.fail_attempt, state.store, job_id, reason, final=final)
                if final and job.id is not None:
                    await app.job_manager.finish_job_by_id_async(
                        job.id, status=Status.FAILED, delete_job=False
                    )
                else:
                    await app.job_manager.retry_job(job)
                logger.warning("job %s (queued file job %s): %s", job.id, job_id, reason)
        except Exception:  # the next round tries again; a reaper must not stop the worker
            logger.exception("stalled-job check failed")


async def defer_jobs(
    store: Store,
    job_ids: list[int],
    *,
    model_settings: dict[str, Any] | None = None,
    page_batches: dict[int, list[list[int]]] | None = None,
) -> None:
    """Queue one procrastinate job per queued-file job, or, for a job in `page_batches`, one
    per page batch (a queueing lock each: never twice); each carries the run's model settings
    (see `WorkerState.llm`)."""
    ensure_queue_schema(store)
    app = make_app(store)
    async with app.open_async():
        batch_task = app.tasks[BATCH_TASK_NAME]
        whole = [job_id for job_id in job_ids if not (page_batches or {}).get(job_id)]
        await _defer_extractions(app, whole, model_settings)
        for job_id in job_ids:
            split = (page_batches or {}).get(job_id)
            if not split:
                continue
            for pages in split:
                with contextlib.suppress(_already_enqueued()):
                    lock = f"extractor-batch-{job_id}-{pages[0]}"
                    as_json: list[Any] = list(pages)  # procrastinate's JSON type is invariant
                    await batch_task.configure(queueing_lock=lock).defer_async(
                        job_id=job_id, pages=as_json, model_settings=model_settings
                    )


async def _defer_extractions(
    app: procrastinate.App, job_ids: list[int], model_settings: dict[str, Any] | None
) -> None:
    """Queue the extraction of every job in `job_ids` in one statement (one queueing lock
    each), so the first workers start on a large run at once rather than after one round trip
    per file. Should any of them be queued already, each is queued on its own instead."""
    if not job_ids:
        return
    task = app.tasks[TASK_NAME]
    new_jobs = [
        task.configure(queueing_lock=f"extractor-job-{job_id}").make_new_job(
            job_id=job_id, model_settings=model_settings
        )
        for job_id in job_ids
    ]
    try:
        await app.job_manager.batch_defer_jobs_async(new_jobs)
    except _already_enqueued():
        for job_id in job_ids:  # the batch was refused whole: nothing of it was queued
            await _defer_extraction(app, job_id, model_settings)


async def _defer_extraction(
    app: procrastinate.App, job_id: int, model_settings: dict[str, Any] | None
) -> None:
    with contextlib.suppress(_already_enqueued()):
        await (
            app.tasks[TASK_NAME]
            .configure(queueing_lock=f"extractor-job-{job_id}")
            .defer_async(job_id=job_id, model_settings=model_settings)
        )


def _already_enqueued() -> type[Exception]:
    from procrastinate.exceptions import AlreadyEnqueued

    return AlreadyEnqueued
