"""The batch runner: many reports through `run_extraction`, for both backends.

Each record is stored and written as it finishes. A report that fails (unreadable, not a
report) is recorded in its outcome and the batch goes on; a whole-run problem (ModelError:
bad key, unknown model; ConfigError: no key, unknown backend) stops it: pending reports are
cancelled and the error is raised. Nothing already stored is ever touched by a failure.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.core.document import SourceDocument
from extractor.core.errors import ConfigError, ExtractorError, ModelError
from extractor.core.schema import Record
from extractor.load import iter_report_files, load_document
from extractor.pipeline.run import Extraction, LLMResources, run_extraction

if TYPE_CHECKING:
    from extractor.extract.llm import CallRecord, LLMSettings
    from extractor.store import Store

#: A report to extract: a file, or a document already loaded.
Source = Path | SourceDocument


@dataclass
class FileOutcome:
    path: Path
    record: Record | None = None
    error: str | None = None
    skipped: bool = False
    output: Path | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    calls: list[CallRecord] = field(default_factory=list)
    prompt_hash: str | None = None


@dataclass
class BatchResult:
    """Outcomes in input order, with run-wide usage and estimated cost (None if unknown)."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    run_id: int | None = None
    elapsed_s: float = 0.0

    @property
    def extracted(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.record is not None]

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


def write_record_json(record: Record, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{record.doc_id}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(record.to_json() + "\n", encoding="utf-8")
    tmp.replace(target)  # atomic: a crash never leaves half a record behind
    return target


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
    """Extract every report file under `paths` (see `extract_batch`)."""
    return extract_batch(
        iter_report_files(paths),
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
) -> BatchResult:
    """Extract every report on `concurrency` threads; store and write each record as it
    finishes; `on_done` is called (from the calling thread) after each one.

    With `resume`, reports whose content already has an extraction by the same backend,
    model and prompt are skipped. `llm`: the settings (cache and call log then live in the
    store's database, or the default one) or ready-made resources.
    """
    started = time.monotonic()
    batch = _Batch(backend=backend, store=store, out_dir=out_dir, on_done=on_done)
    batch.start(llm)
    todo = [source for source in sources if not (resume and batch.skip_done(source))]
    try:
        batch.run(todo, concurrency)
    except (ModelError, ConfigError):
        batch.finish(len(sources), failed=True)
        raise
    batch.finish(len(sources), failed=False)
    batch.result.elapsed_s = time.monotonic() - started
    return batch.result


@dataclass
class _Batch:
    backend: str
    store: Store | None
    out_dir: Path | None
    on_done: Callable[[FileOutcome], None] | None
    llm: LLMResources | None = None
    result: BatchResult = field(default_factory=BatchResult)

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
            doc = source if isinstance(source, SourceDocument) else load_document(source)
        except ExtractorError as error:
            self.finish_one(FileOutcome(path, error=str(error)), None)
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
        # Outcomes in input order, whatever order the threads finished in.
        tail = dict(zip(finished, self.result.outcomes[first:], strict=True))
        self.result.outcomes[first:] = [tail[position] for position in sorted(tail)]

    def work(self, source: Source) -> tuple[FileOutcome, SourceDocument | None]:
        path = _path_of(source)
        try:
            doc = source if isinstance(source, SourceDocument) else load_document(source)
            done = run_extraction(doc, backend=self.backend, llm=self.llm)
        except (ModelError, ConfigError):
            raise  # a whole-run failure (bad key, unknown model): stop the batch
        except ExtractorError as error:
            return FileOutcome(path, error=str(error)), None
        return _outcome(path, done), doc

    def finish_one(self, outcome: FileOutcome, doc: SourceDocument | None) -> None:
        if outcome.record is not None and doc is not None:
            # The store first: it is what --resume trusts; a JSON file lost to a kill in
            # between is written again from the store when the batch resumes.
            if self.store is not None:
                self.store.save_extraction(doc, outcome.record, run_id=self.result.run_id)
            if self.out_dir is not None:
                outcome.output = write_record_json(outcome.record, self.out_dir)
        self.result.outcomes.append(outcome)
        if self.on_done:
            self.on_done(outcome)

    def finish(self, files: int, *, failed: bool) -> None:
        result, run_id = self.result, self.result.run_id
        if self.store is None or run_id is None:
            return
        status = "failed" if failed or (not result.extracted and result.failed) else "ok"
        self.store.finish_run(run_id, status=status, stats=_stats(files, result))


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
