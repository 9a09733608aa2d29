"""Run many reports through the LLM backend concurrently (threads over reports).

The pipeline's batch command can call `extract_many_with_llm` directly, or run
`extract_with_llm` on its own threads: either way the shared client bounds the model calls
in flight to `settings.concurrency`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from extractor.core.document import SourceDocument
from extractor.core.errors import ConfigError, ExtractorError, ModelError
from extractor.core.schema import Record
from extractor.extract.llm.backend import LLMExtraction, extract_with_llm
from extractor.extract.llm.cache import CallLog, LLMCache
from extractor.extract.llm.client import shared_client
from extractor.extract.llm.costs import TokenUsage, sum_costs
from extractor.extract.llm.settings import LLMSettings
from extractor.segment.model import SegmentedReport


@dataclass(frozen=True, slots=True)
class LLMJob:
    """One report to extract: the document, its segmentation and the rules backend's record."""

    doc: SourceDocument
    segmented: SegmentedReport
    rules_record: Record


@dataclass(slots=True)
class JobOutcome:
    doc_id: str
    extraction: LLMExtraction | None = None
    error: str | None = None  # one line (an ExtractorError's str), when the report failed


@dataclass(slots=True)
class LLMRunResult:
    """Outcomes in job order, with run-wide usage and estimated cost (None if unknown)."""

    run_id: str
    outcomes: list[JobOutcome] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float | None = 0.0
    elapsed_s: float = 0.0

    @property
    def calls(self) -> int:
        return sum(len(o.extraction.calls) for o in self.outcomes if o.extraction)


def extract_many_with_llm(
    jobs: Iterable[LLMJob],
    *,
    settings: LLMSettings,
    cache: LLMCache | None = None,
    call_log: CallLog | None = None,
    concurrency: int | None = None,
    run_id: str | None = None,
    on_done: Callable[[JobOutcome], None] | None = None,
) -> LLMRunResult:
    """Extract every job on `concurrency` threads (default `settings.concurrency`).

    A report-level ExtractorError is recorded in its outcome and the run goes on; a
    whole-run problem (ModelError: bad key, unknown model; ConfigError: no key) stops the
    run: pending reports are cancelled and the error is raised. `on_done` is called from
    worker threads as each report finishes.
    """
    job_list = list(jobs)
    result = LLMRunResult(run_id=run_id or uuid.uuid4().hex[:12])
    outcomes: list[JobOutcome | None] = [None] * len(job_list)
    started = time.monotonic()

    def work(index: int, job: LLMJob) -> None:
        outcome = JobOutcome(doc_id=job.doc.doc_id)
        try:
            outcome.extraction = extract_with_llm(
                job.doc,
                job.segmented,
                rules_record=job.rules_record,
                settings=settings,
                cache=cache,
                call_log=call_log,
                client=client,
                run_id=result.run_id,
            )
        except (ModelError, ConfigError):
            raise
        except ExtractorError as e:
            outcome.error = str(e)
        outcomes[index] = outcome
        if on_done is not None:
            on_done(outcome)

    # Shared so every report's calls queue on one semaphore; None until a call needs it
    # (a fully cached run needs no key).
    client = shared_client(settings) if settings.api_key is not None else None
    with ThreadPoolExecutor(max_workers=max(1, concurrency or settings.concurrency)) as pool:
        futures = [pool.submit(work, i, job) for i, job in enumerate(job_list)]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                for other in pending:
                    other.cancel()
                raise future.exception()  # type: ignore[misc]

    result.outcomes = [o for o in outcomes if o is not None]
    extractions = [o.extraction for o in result.outcomes if o.extraction]
    result.usage = TokenUsage.total(e.usage for e in extractions)
    result.cost_usd = sum_costs(e.cost_usd for e in extractions)
    result.elapsed_s = time.monotonic() - started
    return result
