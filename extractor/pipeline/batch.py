"""The batch runner: many reports through `run_extraction`, for both backends.

Records are stored a batch of documents per transaction (at most `COMMIT_EVERY` documents
or `COMMIT_SECONDS`, whichever comes first: a crash loses at most that batch, which
`--resume` redoes) and each is written as JSON once committed. A report that fails
(unreadable, not a report, refused by the database, or any unexpected exception while
handling it) is recorded in its outcome with a one-line error naming the file and the batch
goes on; a whole-run problem (ModelError: bad key, unknown model; ConfigError: no key,
unknown backend) stops it: pending reports are cancelled, finished ones are saved, and the
error is raised. A run that ends any other way than normally is marked failed or
interrupted, never left "running". Nothing already stored is ever touched by a failure.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.core.document import SourceDocument
from extractor.core.errors import ConfigError, ExtractorError, ModelError
from extractor.core.schema import Record
from extractor.load import find_report_files, load_document
from extractor.pipeline.output import distinct_doc_ids, write_record_json
from extractor.pipeline.run import Extraction, LLMResources, run_extraction

if TYPE_CHECKING:
    from extractor.extract.llm import CallRecord, LLMSettings
    from extractor.store import Store

log = logging.getLogger(__name__)

#: A report to extract: a file, or a document already loaded.
Source = Path | SourceDocument
#: A path that could not be used (missing, broken link...) and why.
PathProblem = tuple[Path, str]
#: Documents stored per transaction, at most (one commit and one disk sync per batch). The
#: llm backend commits every document: each one took minutes and money.
COMMIT_EVERY = 64
#: Seconds a finished record waits, at most, for its batch to be committed.
COMMIT_SECONDS = 2.0

__all__ = [
    "BatchResult",
    "FileOutcome",
    "RecordSummary",
    "extract_batch",
    "extract_paths",
    "write_record_json",
]


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """What a batch reports about one extracted record (the summary table), small enough to
    keep for every report of a large batch when the records themselves are not kept."""

    doc_id: str
    issuer: str | None
    report_year: int | None
    achievements: int
    problems: int
    plans: int
    metrics: int
    flagged: int

    @classmethod
    def of(cls, record: Record) -> RecordSummary:
        return cls(
            doc_id=record.doc_id,
            issuer=record.meta.issuer,
            report_year=record.meta.report_year,
            achievements=len(record.achievements),
            problems=len(record.problems),
            plans=len(record.plans),
            metrics=sum(len(a.metrics) for a in record.achievements),
            flagged=sum(
                1
                for items in (record.achievements, record.problems, record.plans)
                for i in items
                if i.flagged
            ),
        )


@dataclass
class FileOutcome:
    path: Path
    #: The record, until the batch is over unless the batch was asked not to keep records.
    record: Record | None = None
    #: Set once the record is stored and written: the outcome counts as extracted.
    summary: RecordSummary | None = None
    error: str | None = None
    skipped: bool = False
    output: Path | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    calls: list[CallRecord] = field(default_factory=list)
    prompt_hash: str | None = None
    #: The traceback of the failure (for --verbose), when there is one.
    traceback: str | None = None


@dataclass
class BatchResult:
    """Outcomes in input order, with run-wide usage and estimated cost (None if unknown)."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    run_id: int | None = None
    elapsed_s: float = 0.0

    @property
    def extracted(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.summary is not None]

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def skipped(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.skipped]

    @property
    def input_tokens(self) -> int:
        return sum(o.input_tokens for o in self.outcomes)

    @property
    def output_tokens(self) -> int:
        return sum(o.output_tokens for o in self.outcomes)

    @property
    def calls(self) -> int:
        return sum(len(o.calls) for o in self.outcomes)

    @property
    def cost_usd(self) -> float | None:
        costs = [o.cost_usd for o in self.extracted]
        return None if not costs or any(c is None for c in costs) else sum(c for c in costs if c is not None)


def extract_paths(
    paths: Iterable[str | Path],
    *,
    backend: str = "rules",
    store: Store | None = None,
    out_dir: Path | None = None,
    concurrency: int = 1,
    resume: bool = False,
    llm: LLMSettings | LLMResources | None = None,
    on_done: Callable[[FileOutcome], None] | None = None,
) -> BatchResult:
    """Extract every report file under `paths` (see `extract_batch`); a path that cannot be
    used (missing, a broken or looping link) is a failed outcome, and the rest runs."""
    found = find_report_files(paths)
    return extract_batch(
        found.files,
        problems=found.problems,
        backend=backend,
        store=store,
        out_dir=out_dir,
        concurrency=concurrency,
        resume=resume,
        llm=llm,
        on_done=on_done,
    )


def extract_batch(
    sources: Sequence[Source],
    *,
    backend: str = "rules",
    store: Store | None = None,
    out_dir: Path | None = None,
    concurrency: int = 1,
    resume: bool = False,
    llm: LLMSettings | LLMResources | None = None,
    on_done: Callable[[FileOutcome], None] | None = None,
    problems: Sequence[PathProblem] = (),
    keep_records: bool = True,
) -> BatchResult:
    """Extract every report on `concurrency` threads; store (in batches, see the module
    docstring) and write each record; `on_done` is called (from the calling thread) for
    each outcome once it is final (stored and written, or failed).

    With `resume`, reports whose content already has an extraction by the same backend,
    model and prompt are skipped. `llm`: the settings (cache and call log then live in the
    store's database, or the default one) or ready-made resources. `problems`: paths found
    unusable before loading, reported as failed outcomes first. Files whose names would give
    the same doc_id get distinct ones (`extractor.pipeline.output.distinct_doc_ids`).
    Without `keep_records`, each outcome drops its record once stored, written and reported
    (`summary` stays): a large batch then holds one small summary per report in memory.
    """
    started = time.monotonic()
    doc_ids = distinct_doc_ids([source for source in sources if isinstance(source, Path)])
    batch = _Batch(
        backend=backend,
        store=store,
        out_dir=out_dir,
        on_done=on_done,
        doc_ids=doc_ids,
        keep_records=keep_records,
    )
    batch.start(llm)
    try:
        for path, reason in problems:
            batch.finish_one(FileOutcome(path, error=f"{path}: {reason}"), None)
        todo = [source for source in sources if not (resume and batch.skip_done(source))]
        batch.run(todo, concurrency)
        batch.commit()
    except BaseException as error:
        batch.abandon(len(sources) + len(problems), error)
        raise
    batch.finish(len(sources) + len(problems), status=None)
    batch.result.elapsed_s = time.monotonic() - started
    return batch.result


@dataclass
class _Batch:
    backend: str
    store: Store | None
    out_dir: Path | None
    on_done: Callable[[FileOutcome], None] | None
    doc_ids: dict[Path, str] = field(default_factory=dict)
    keep_records: bool = True
    llm: LLMResources | None = None
    result: BatchResult = field(default_factory=BatchResult)
    #: Finished outcomes (with their documents) not yet committed, in finishing order.
    pending: list[tuple[FileOutcome, SourceDocument | None]] = field(default_factory=list)
    last_commit: float = field(default_factory=time.monotonic)

    def start(self, llm: LLMSettings | LLMResources | None) -> None:
        if self.backend == "llm" and llm is None:
            raise ConfigError("the llm backend needs settings (model, base URL, key)")
        settings = llm.settings if isinstance(llm, LLMResources) else llm
        model = settings.model if self.backend == "llm" and settings is not None else None
        if self.store is not None:
            self.result.run_id = self.store.start_run(backend=self.backend, model=model)
        if self.backend != "llm" or llm is None:
            return
        # One run id for the call log: the store's run when there is one.
        run_id = str(self.result.run_id) if self.result.run_id is not None else uuid.uuid4().hex[:12]
        if isinstance(llm, LLMResources):
            self.llm = llm if llm.run_id is not None else replace(llm, run_id=run_id)
            return
        from extractor.extract.llm import CallLog, LLMCache, open_llm_engine

        engine = self.store.engine if self.store is not None else open_llm_engine(None)
        # No client here: every report's calls share one (`shared_client`), built on the
        # first cache miss, so a fully cached run needs no key.
        self.llm = LLMResources(settings=llm, cache=LLMCache(engine), call_log=CallLog(engine), run_id=run_id)

    @property
    def model(self) -> str | None:
        return self.llm.settings.model if self.llm is not None else None

    def skip_done(self, source: Source) -> bool:
        """Whether `source` already has this extraction in the store (then it is reported
        skipped, its JSON written again if missing); a file that does not load is reported
        failed. False: extract it."""
        if self.store is None:
            return False
        path = _path_of(source)
        try:
            doc = self.load(source)
        except Exception as error:
            self.finish_one(_failure(path, error), None)
            return True
        prompt_hash = None
        if self.llm is not None:
            from extractor.extract.llm import prompt_hash_for

            prompt_hash = prompt_hash_for(doc, self.llm.settings)
        if not self.store.has_extraction(
            doc.sha256, backend=self.backend, model=self.model, prompt_hash=prompt_hash
        ):
            return False
        skipped = FileOutcome(path, skipped=True)
        stored = self.store.current_record(doc.sha256)
        out_dir = self.out_dir
        if (
            out_dir is not None
            and stored is not None
            and not (out_dir / f"{stored.record.doc_id}.json").exists()
        ):
            skipped.output = write_record_json(stored.record, out_dir)
        self.finish_one(skipped, None)
        return True

    def run(self, todo: list[Source], concurrency: int) -> None:
        if concurrency <= 1:
            for source in todo:
                self.finish_one(*self.work(source))
            return
        self.commit()  # outcomes so far are in place before this run's are reordered
        first = len(self.result.outcomes)
        finished: list[int] = []  # input positions, in the order the threads finished
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = {pool.submit(self.work, source): position for position, source in enumerate(todo)}
            try:
                for future in as_completed(futures):
                    self.finish_one(*future.result())
                    finished.append(futures[future])
            except BaseException:
                for other in futures:
                    other.cancel()
                raise
        self.commit()
        # Outcomes in input order, whatever order the threads finished in.
        tail = dict(zip(finished, self.result.outcomes[first:], strict=True))
        self.result.outcomes[first:] = [tail[position] for position in sorted(tail)]

    def load(self, source: Source) -> SourceDocument:
        if isinstance(source, SourceDocument):
            return source
        return load_document(source, doc_id=self.doc_ids.get(source))

    def work(self, source: Source) -> tuple[FileOutcome, SourceDocument | None]:
        path = _path_of(source)
        try:
            doc = self.load(source)
            done = run_extraction(doc, backend=self.backend, llm=self.llm)
        except (ModelError, ConfigError):
            raise  # a whole-run failure (bad key, unknown model): stop the batch
        # Containment: whatever goes wrong with one file (a loader's bug, a library's
        # surprise) fails that file only; the traceback is kept for --verbose.
        except Exception as error:
            return _failure(path, error), None
        return _outcome(path, done), doc

    def finish_one(self, outcome: FileOutcome, doc: SourceDocument | None) -> None:
        """Queue a finished outcome; commit the queue when it is large or old enough."""
        self.pending.append((outcome, doc))
        every = 1 if self.backend == "llm" else COMMIT_EVERY
        if len(self.pending) >= every or time.monotonic() - self.last_commit >= COMMIT_SECONDS:
            self.commit()

    def commit(self) -> None:
        """Store the queued records in one transaction, then write their JSON files and
        report every queued outcome."""
        pending, self.pending = self.pending, []
        self.last_commit = time.monotonic()
        to_store = [(outcome, doc) for outcome, doc in pending if outcome.record is not None and doc]
        # The store first: it is what --resume trusts; a JSON file lost to a kill in
        # between is written again from the store when the batch resumes.
        if self.store is not None and to_store:
            self._store(to_store)
        for outcome, _doc in pending:
            if outcome.record is not None and self.out_dir is not None:
                try:
                    outcome.output = write_record_json(outcome.record, self.out_dir)
                except OSError as error:
                    _fail(
                        outcome,
                        ExtractorError(f"cannot write its JSON record: {error}", source=str(outcome.path)),
                    )
            if outcome.record is not None:
                outcome.summary = RecordSummary.of(outcome.record)
            self.result.outcomes.append(outcome)
            if self.on_done:
                self.on_done(outcome)
            if not self.keep_records:
                outcome.record = None

    def _store(self, to_store: list[tuple[FileOutcome, SourceDocument]]) -> None:
        assert self.store is not None
        try:
            saved = self.store.save_extractions(
                [(doc, outcome.record) for outcome, doc in to_store if outcome.record is not None],
                run_id=self.result.run_id,
            )
        except ExtractorError as error:
            for outcome, _doc in to_store:
                _fail(outcome, ExtractorError(f"not stored: {error}", source=str(outcome.path)))
            return
        for (outcome, _doc), result in zip(to_store, saved, strict=True):
            if isinstance(result, ExtractorError):
                _fail(outcome, result)

    def finish(self, files: int, *, status: str | None) -> None:
        result, run_id = self.result, self.result.run_id
        if self.store is None or run_id is None:
            return
        if status is None:
            status = "failed" if not result.extracted and result.failed else "ok"
        self.store.finish_run(run_id, status=status, stats=_stats(files, result))

    def abandon(self, files: int, error: BaseException) -> None:
        """The batch stops on `error`: save what finished, mark the run failed (interrupted
        for Ctrl-C), without hiding `error` behind a second failure."""
        status = "failed" if isinstance(error, Exception) else "interrupted"
        try:
            self.commit()
            self.finish(files, status=status)
        except Exception:
            log.warning("could not record the end of run %s", self.result.run_id, exc_info=True)


def _failure(path: Path, error: Exception) -> FileOutcome:
    outcome = FileOutcome(path)
    _fail(outcome, error)
    return outcome


def _fail(outcome: FileOutcome, error: Exception) -> None:
    """Turn `outcome` into a failure: a one-line message naming the file, and the traceback."""
    if isinstance(error, ExtractorError):
        message = str(error) if error.source else f"{outcome.path}: {error}"
    else:
        detail = (str(error).splitlines() or [""])[0][:200]
        message = f"{outcome.path}: unexpected error ({type(error).__name__}: {detail})"
    outcome.record, outcome.summary, outcome.output, outcome.error = None, None, None, message
    outcome.traceback = "".join(traceback.format_exception(error))


def _path_of(source: Source) -> Path:
    return Path(source.path) if isinstance(source, SourceDocument) else source


def _outcome(path: Path, done: Extraction) -> FileOutcome:
    return FileOutcome(
        path,
        record=done.record,
        input_tokens=done.input_tokens,
        output_tokens=done.output_tokens,
        cost_usd=done.cost_usd,
        calls=done.calls,
        prompt_hash=done.prompt_hash,
    )


def _stats(files: int, result: BatchResult) -> dict[str, Any]:
    return {
        "files": files,
        "extracted": len(result.extracted),
        "failed": len(result.failed),
        "skipped": len(result.skipped),
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "cost_usd": result.cost_usd,
    }
