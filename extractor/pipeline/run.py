"""One document through the stages: segment → extract (rules | llm) → check.

`run_extraction` (and `extract_document`, its record only) is the one document run; the
batch runner (`extractor.pipeline.batch`) calls it for every file. The source is normalised
once per document: every stage reads the document's memoised views, and the check's
SourceIndex is built once and shared by the rules check and the LLM backend's validators.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from extractor.check.align import SourceIndex
from extractor.check.confidence import rate_record
from extractor.check.record import check_record
from extractor.core.document import SourceDocument
from extractor.core.errors import ConfigError, NotAReportError
from extractor.core.schema import Record
from extractor.extract.rules.backend import extract_with_rules
from extractor.segment.model import SectionKind, SegmentedReport
from extractor.segment.sections import segment_report

if TYPE_CHECKING:
    # Imported lazily at run time: the rules path never needs openai or instructor.
    from extractor.extract.llm import CallLog, CallRecord, LLMCache, LLMClient, LLMSettings

BACKENDS = ("rules", "llm")
_GENRE_TERMS = re.compile(r"法治|依法|司法|执法|普法|法律|复议|调解|矫正|律师|公证|行政")
#: This many of the genre's terms make a text with only an achievements section a report.
_GENRE_TERMS_ENOUGH = 15


def check_genre(doc: SourceDocument, segmented: SegmentedReport) -> None:
    """Raise NotAReportError unless the text reads as a 法治政府建设 report."""
    kinds = {s.kind for s in segmented.sections}
    points = sum(len(s.points) for s in segmented.sections)
    # Counted only as far as the tests below look: a report names the genre's terms hundreds
    # of times, and scanning the whole text for them cost more than the check's other work.
    terms = sum(1 for _ in islice(_GENRE_TERMS.finditer(doc.text), _GENRE_TERMS_ENOUGH))
    if not kinds or points == 0:
        raise NotAReportError(
            "not a report of this kind: no achievements, problems or plans sections found", source=doc.path
        )
    if terms < 5 or (kinds == {SectionKind.ACHIEVEMENTS} and terms < _GENRE_TERMS_ENOUGH):
        raise NotAReportError(
            "not a 法治政府建设 report: sections found, but almost none of the genre's vocabulary",
            source=doc.path,
        )


@dataclass(frozen=True)
class LLMResources:
    """What the LLM backend needs besides the document: settings, cache, call log, the
    client shared by a run's threads (None: built on the first cache miss) and the run id
    the call log records."""

    settings: LLMSettings
    cache: LLMCache | None = None
    call_log: CallLog | None = None
    client: LLMClient | None = None
    run_id: str | None = None


@dataclass
class Extraction:
    """A document's checked record plus what the model calls cost (nothing for rules)."""

    record: Record
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    calls: list[CallRecord] = field(default_factory=list)
    prompt_hash: str | None = None


def extract_document(
    doc: SourceDocument, *, backend: str = "rules", llm: LLMResources | None = None
) -> Record:
    """One document's checked record (see `run_extraction`)."""
    return run_extraction(doc, backend=backend, llm=llm).record


def run_extraction(
    doc: SourceDocument, *, backend: str = "rules", llm: LLMResources | None = None
) -> Extraction:
    """One document's record, every item and metric located and checked, plus its cost.

    Raises NotAReportError when the text is not a report of this genre, ConfigError for an
    unknown backend or the llm backend without settings, ModelError when the model fails
    beyond its fallbacks.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "llm" and llm is None:
        raise ConfigError("the llm backend needs settings (model, base URL, key)")
    segmented = segment_report(doc)
    check_genre(doc, segmented)
    index = SourceIndex(doc.text)
    # The rules record is checked here, so the items the LLM backend falls back on are too.
    extraction = Extraction(check_record(extract_with_rules(doc, segmented), index))
    if llm is not None and backend == "llm":
        extraction = _extract_with_llm(doc, segmented, extraction.record, llm, index)
    rate_record(extraction.record, backend)
    if extraction.record.provenance is not None:
        extraction.record.provenance.extracted_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return extraction


def _extract_with_llm(
    doc: SourceDocument,
    segmented: SegmentedReport,
    rules_record: Record,
    llm: LLMResources,
    index: SourceIndex,
) -> Extraction:
    from extractor.extract.llm import extract_with_llm

    out = extract_with_llm(
        doc,
        segmented,
        rules_record=rules_record,
        settings=llm.settings,
        cache=llm.cache,
        call_log=llm.call_log,
        client=llm.client,
        run_id=llm.run_id,
        index=index,
    )
    return Extraction(
        out.record,
        out.usage.input_tokens,
        out.usage.output_tokens,
        out.cost_usd,
        calls=out.calls,
        prompt_hash=out.prompt_hash,
    )
