"""Composes the stages: load → segment → extract (rules | llm) → ground → validate → store.

`extract_document` runs one loaded document through extraction; `extract_paths` runs a
batch of files, storing each record as it finishes. A failed file is reported and skipped:
it never touches what is already stored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.check.align import ground_record
from extractor.check.validate import validate_record
from extractor.core.document import SourceDocument
from extractor.core.errors import ConfigError, ExtractorError, ModelError, NotAReportError
from extractor.core.schema import Record
from extractor.extract.rules.backend import extract_with_rules
from extractor.load import iter_report_files, load_document
from extractor.segment.model import SectionKind, SegmentedReport
from extractor.segment.sections import segment_report

if TYPE_CHECKING:
    from extractor.store import Store

BACKENDS = ("rules", "llm")
_GENRE_TERMS = re.compile(r"法治|依法|司法|执法|普法|法律|复议|调解|矫正|律师|公证|行政")


def check_genre(doc: SourceDocument, segmented: SegmentedReport) -> None:
    """Raise NotAReportError unless the text reads as a 法治政府建设 report."""
    kinds = {s.kind for s in segmented.sections}
    points = sum(len(s.points) for s in segmented.sections)
    terms = len(_GENRE_TERMS.findall(doc.text))
    if not kinds or points == 0:
        raise NotAReportError(
            "not a report of this kind: no achievements, problems or plans sections found", source=doc.path
        )
    if terms < 5 or (kinds == {SectionKind.ACHIEVEMENTS} and terms < 15):
        raise NotAReportError(
            "not a 法治政府建设 report: sections found, but almost none of the genre's vocabulary",
            source=doc.path,
        )


@dataclass(frozen=True)
class LLMResources:
    """What the LLM backend needs besides the document: settings, cache and call log."""

    settings: Any  # extractor.extract.llm.LLMSettings (imported lazily: the rules path needs no openai)
    cache: Any = None
    call_log: Any = None
    run_id: int | None = None


@dataclass
class Extraction:
    record: Record
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None


def extract_document(doc: SourceDocument, *, backend: str = "rules", llm: Any = None) -> Record:
    """One document's grounded, validated record. `llm`: LLM settings or `LLMResources`.

    Raises NotAReportError when the text is not a report of this genre, ConfigError for an
    unknown backend, ModelError when the model fails beyond its fallbacks.
    """
    return run_extraction(doc, backend=backend, llm=llm).record


def run_extraction(doc: SourceDocument, *, backend: str = "rules", llm: Any = None) -> Extraction:
    """`extract_document` plus what the model calls cost (zero for rules)."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    segmented = segment_report(doc)
    check_genre(doc, segmented)
    record = extract_with_rules(doc, segmented)
    extraction = Extraction(record)
    if backend == "llm":
        from extractor.extract.llm import extract_with_llm

        resources = llm if isinstance(llm, LLMResources) else LLMResources(settings=llm)
        if resources.settings is None:
            raise ConfigError("the llm backend needs settings (model, base URL, key)")
        out = extract_with_llm(
            doc,
            segmented,
            rules_record=record,
            settings=resources.settings,
            cache=resources.cache,
            call_log=resources.call_log,
            run_id=None if resources.run_id is None else str(resources.run_id),
        )
        extraction = Extraction(out.record, out.usage.input_tokens, out.usage.output_tokens, out.cost_usd)
    record = ground_record(extraction.record, doc.text)
    validate_record(record)
    if record.provenance is not None:
        record.provenance.extracted_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    extraction.record = record
    return extraction


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


@dataclass
class BatchResult:
    outcomes: list[FileOutcome] = field(default_factory=list)
    run_id: int | None = None

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
    def cost_usd(self) -> float | None:
        costs = [o.cost_usd for o in self.extracted]
        return None if not costs or any(c is None for c in costs) else sum(c for c in costs if c is not None)


def _work(path: Path, backend: str, llm: Any) -> tuple[SourceDocument | None, FileOutcome]:
    try:
        doc = load_document(path)
        done = run_extraction(doc, backend=backend, llm=llm)
    except ModelError:
        raise  # a whole-run failure (bad key, unknown model): stop the batch
    except ExtractorError as error:
        return None, FileOutcome(path, error=str(error))
    return doc, FileOutcome(
        path,
        record=done.record,
        input_tokens=done.input_tokens,
        output_tokens=done.output_tokens,
        cost_usd=done.cost_usd,
    )


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
    llm: Any = None,
    on_done: Callable[[FileOutcome], None] | None = None,
) -> BatchResult:
    """Extract every report file under `paths`; store and write each record as it finishes.

    With `resume`, files whose content already has an extraction by the same backend, model
    and prompt are skipped. Failures are collected, never raised, so the batch goes on.
    """
    files = iter_report_files(paths)
    result = BatchResult()
    model = llm.model if backend == "llm" and llm is not None else None
    if store is not None:
        result.run_id = store.start_run(backend=backend, model=model)
    resources: LLMResources | None = None
    if backend == "llm":
        if llm is None:
            raise ConfigError("the llm backend needs settings (model, base URL, key)")
        from extractor.extract.llm import CallLog, LLMCache, open_llm_engine

        engine = store.engine if store is not None else open_llm_engine(None)
        resources = LLMResources(
            settings=llm, cache=LLMCache(engine), call_log=CallLog(engine), run_id=result.run_id
        )

    def prompt_hash_of(doc: SourceDocument) -> str | None:
        if resources is None:
            return None
        from extractor.extract.llm import prompt_hash_for

        return prompt_hash_for(doc, resources.settings)

    def finish(outcome: FileOutcome, doc: SourceDocument | None) -> None:
        if outcome.record is not None and doc is not None:
            # The store first: it is what --resume trusts; a JSON file lost to a kill in
            # between is written again from the store when the batch resumes.
            if store is not None:
                store.save_extraction(doc, outcome.record, run_id=result.run_id)
            if out_dir is not None:
                outcome.output = write_record_json(outcome.record, out_dir)
        result.outcomes.append(outcome)
        if on_done:
            on_done(outcome)

    todo: list[Path] = []
    for path in files:
        if resume and store is not None:
            try:
                doc = load_document(path)
            except ExtractorError as error:
                finish(FileOutcome(path, error=str(error)), None)
                continue
            if store.has_extraction(
                doc.sha256, backend=backend, model=model, prompt_hash=prompt_hash_of(doc)
            ):
                skipped = FileOutcome(path, skipped=True)
                stored = store.current_record(doc.sha256)
                if out_dir is not None and stored is not None:
                    target = out_dir / f"{stored.record.doc_id}.json"
                    if not target.exists():
                        skipped.output = write_record_json(stored.record, out_dir)
                finish(skipped, None)
                continue
        todo.append(path)

    work_llm = resources if resources is not None else llm
    try:
        if concurrency <= 1:
            for path in todo:
                finish(*_swap(_work(path, backend, work_llm)))
        else:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                futures = [pool.submit(_work, path, backend, work_llm) for path in todo]
                for future in as_completed(futures):
                    finish(*_swap(future.result()))
    except ModelError:
        if store is not None and result.run_id is not None:
            store.finish_run(result.run_id, status="failed", stats=_stats(files, result))
        raise

    if store is not None and result.run_id is not None:
        status = "ok" if result.extracted or not result.failed else "failed"
        store.finish_run(result.run_id, status=status, stats=_stats(files, result))
    return result


def _swap(pair: tuple[SourceDocument | None, FileOutcome]) -> tuple[FileOutcome, SourceDocument | None]:
    return pair[1], pair[0]


def _stats(files: list[Path], result: BatchResult) -> dict[str, Any]:
    return {
        "files": len(files),
        "extracted": len(result.extracted),
        "failed": len(result.failed),
        "skipped": len(result.skipped),
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "cost_usd": result.cost_usd,
    }
