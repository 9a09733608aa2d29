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

from extractor.document import SourceDocument
from extractor.errors import ConfigError, ExtractorError, NotAReportError
from extractor.ground import ground_record
from extractor.load import iter_report_files, load_document
from extractor.rules import extract_with_rules
from extractor.schema import Record
from extractor.segment import segment_report
from extractor.segment_model import SectionKind, SegmentedReport
from extractor.validate import validate_record

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


def extract_document(doc: SourceDocument, *, backend: str = "rules", llm: Any = None) -> Record:
    """One document's grounded, validated record. `llm` is the LLM backend's settings object.

    Raises NotAReportError when the text is not a report of this genre, ConfigError for an
    unknown backend, ModelError when the model fails beyond its fallbacks.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    segmented = segment_report(doc)
    check_genre(doc, segmented)
    record = extract_with_rules(doc, segmented)
    if backend == "llm":
        from extractor.llm import extract_with_llm

        record = extract_with_llm(doc, segmented, rules_record=record, settings=llm).record
    record = ground_record(record, doc.text)
    validate_record(record)
    if record.provenance is not None:
        record.provenance.extracted_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return record


@dataclass
class FileOutcome:
    path: Path
    record: Record | None = None
    error: str | None = None
    skipped: bool = False
    output: Path | None = None


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


def _work(path: Path, backend: str, llm: Any) -> tuple[SourceDocument | None, Record | None, str | None]:
    try:
        doc = load_document(path)
        return doc, extract_document(doc, backend=backend, llm=llm), None
    except ExtractorError as error:
        return None, None, str(error)


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
    model = getattr(llm, "model", None) if backend == "llm" else None
    prompt_hash = getattr(llm, "prompt_hash", None) if backend == "llm" else None
    if store is not None:
        result.run_id = store.start_run(backend=backend, model=model, prompt_hash=prompt_hash)

    def finish(outcome: FileOutcome, doc: SourceDocument | None) -> None:
        if outcome.record is not None and doc is not None:
            if out_dir is not None:
                outcome.output = write_record_json(outcome.record, out_dir)
            if store is not None:
                store.save_extraction(doc, outcome.record, run_id=result.run_id)
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
            if store.has_extraction(doc.sha256, backend=backend, model=model, prompt_hash=prompt_hash):
                finish(FileOutcome(path, skipped=True), None)
                continue
        todo.append(path)

    if concurrency <= 1:
        for path in todo:
            doc, record, error = _work(path, backend, llm)
            finish(FileOutcome(path, record=record, error=error), doc)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = {pool.submit(_work, path, backend, llm): path for path in todo}
            for future in as_completed(futures):
                doc, record, error = future.result()
                finish(FileOutcome(futures[future], record=record, error=error), doc)

    if store is not None and result.run_id is not None:
        store.finish_run(
            result.run_id,
            status="ok" if result.extracted or not result.failed else "failed",
            stats={
                "files": len(files),
                "extracted": len(result.extracted),
                "failed": len(result.failed),
                "skipped": len(result.skipped),
            },
        )
    return result
