"""`extract_with_llm`: one report through the model, section by section, grounded and flagged.

Guarantees:
- one model call per chunk (a section, or a part of a long one; paragraph chunks when the
  segmenter found no sections) plus one small meta call; the variable text comes last;
- every item's evidence is located in the document (passage text or an aligned quote);
  what could not be validated is kept and flagged, what could not be asked at all falls back
  to the rules backend's items for that chunk, flagged SECTION_FALLBACK with the reason;
- answers come from the cache when present (no request); usage and estimated cost are
  reported per call and per report, re-asks and retries included;
- raises ModelError only for whole-run problems (bad key, no access, unknown model) and
  ConfigError when a call is needed but no API key is set; never puts the key anywhere.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from pydantic import BaseModel, ValidationError

from extractor.check.align import SourceIndex
from extractor.core.document import SourceDocument
from extractor.core.schema import ListName, Meta, Provenance, Record
from extractor.extract.llm.cache import CallLog, LLMCache, cache_key
from extractor.extract.llm.chunks import Chunk, free_chunks, section_chunks
from extractor.extract.llm.client import CallResult, LLMClient, shared_client
from extractor.extract.llm.convert import ItemsByList, best_salvage, items_from_answer, rules_fallback
from extractor.extract.llm.costs import CallRecord, TokenUsage, estimate_cost, sum_costs
from extractor.extract.llm.disagree import flag_disagreements
from extractor.extract.llm.grounding import CONTEXT_KEY
from extractor.extract.llm.prompts import PromptSet, prompt_set_for
from extractor.extract.llm.response_models import FreeExtraction, MetaOut, SectionExtraction
from extractor.extract.llm.settings import LLMSettings
from extractor.extract.meta import plan_year_of
from extractor.segment.model import SectionKind, SegmentedReport

#: Lines from each end of the report shown to the meta call, and their length limits: the
#: opening lines name the issuer and year early; a closing line's date sits at its end.
META_LINES = 3
META_HEAD_CHARS = 100
META_TAIL_CHARS = 60


class LLMExtraction(BaseModel):
    """A report's record plus what producing it cost."""

    record: Record
    calls: list[CallRecord]
    usage: TokenUsage
    cost_usd: float | None
    prompt_hash: str


def meta_excerpt(doc: SourceDocument, segmented: SegmentedReport) -> tuple[str, str, str]:
    """(title, first lines, last lines): what the meta call sees.

    Uses the segmenter's head/tail paragraphs (page chrome removed) when it gives them, else
    the text's own non-empty lines. Long lines are cut: the start of a first line, the end of
    a last line (signature dates sit at the end).
    """
    lines = [line.strip() for line in doc.text.splitlines() if line.strip()]
    title = segmented.title.strip() or (lines[0] if lines else "")
    head = [h.strip() for h in segmented.head_lines if h.strip()] or lines[: META_LINES + 1]
    tail = [t.strip() for t in segmented.tail_lines if t.strip()] or lines[-META_LINES:]
    head = [h for h in head if h != title][:META_LINES]
    tail = [t for t in tail if t not in head][-META_LINES:]
    return (
        title[:META_HEAD_CHARS],
        "\n".join(line[:META_HEAD_CHARS] for line in head),
        "\n".join(line[-META_TAIL_CHARS:] for line in tail),
    )


class _ReportRun:
    """State of one report's extraction (calls may run on several threads)."""

    def __init__(
        self,
        doc: SourceDocument,
        *,
        settings: LLMSettings,
        prompts: PromptSet,
        cache: LLMCache | None,
        call_log: CallLog | None,
        client: LLMClient | None,
        run_id: str | None,
        index: SourceIndex,
    ) -> None:
        self.doc, self.settings, self.prompts, self.index = doc, settings, prompts, index
        self.cache, self.call_log, self.run_id = cache, call_log, run_id
        self._client = client
        self._client_lock = threading.Lock()

    def client(self) -> LLMClient:
        # Built on the first cache miss only: a fully cached run needs no key and no network.
        with self._client_lock:
            if self._client is None:
                self._client = shared_client(self.settings)
            return self._client

    def ask(
        self,
        *,
        kind: str,
        section: str,
        response_model: type[BaseModel],
        system: str,
        user: str,
        context: dict[str, Any],
    ) -> tuple[BaseModel | None, CallResult | None, CallRecord]:
        """Answer from the cache or the model; the CallRecord's status is ok / cached / pending."""
        settings = self.settings
        started, clock = dt.datetime.now(dt.UTC), time.monotonic()
        key = cache_key(
            model=settings.model,
            mode=settings.mode.value,
            prompt_hash=self.prompts.prompt_hash,
            response_model=response_model.__name__,
            input_text=system + "\0" + user,
        )
        call = CallRecord(kind=kind, section=section, status="ok", started_at=started, input_chars=len(user))
        if self.cache is not None and settings.cache and (hit := self.cache.get(key)) is not None:
            try:
                answer = response_model.model_validate_json(hit.answer_json, context=context)
            except ValidationError:
                answer = None  # e.g. the validators grew stricter since: ask again
            if answer is not None:
                call.status, call.cost_usd = "cached", 0.0
                call.duration_ms = int((time.monotonic() - clock) * 1000)
                return answer, None, call
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        result = self.client().call(response_model=response_model, messages=messages, context=context)
        call.attempts, call.error = result.attempts, result.error
        call.input_tokens, call.output_tokens = result.usage.input_tokens, result.usage.output_tokens
        call.cost_usd = estimate_cost(result.usage, settings.price())
        call.duration_ms = int((time.monotonic() - clock) * 1000)
        if result.answer is not None and self.cache is not None:
            self.cache.put(
                key,
                answer_json=result.answer.model_dump_json(),
                model=settings.model,
                mode=settings.mode.value,
                prompt_hash=self.prompts.prompt_hash,
                response_model=response_model.__name__,
                input_tokens=result.usage.input_tokens,
                output_tokens=result.usage.output_tokens,
            )
        return result.answer, result, call

    def log(self, call: CallRecord) -> None:
        if self.call_log is not None:
            self.call_log.add(
                call,
                doc_id=self.doc.doc_id,
                model=self.settings.model,
                mode=self.settings.mode.value,
                prompt_hash=self.prompts.prompt_hash,
                run_id=self.run_id,
            )

    def extract_chunk(self, chunk: Chunk, rules_record: Record) -> tuple[ItemsByList, CallRecord]:
        ctx = chunk.grounding(self.index)
        model = FreeExtraction if chunk.list_name is None else SectionExtraction
        answer, result, call = self.ask(
            kind="items",
            section=chunk.label,
            response_model=model,
            system=self.prompts.items_system,
            user=self.prompts.section_user(chunk),
            context={CONTEXT_KEY: ctx},
        )
        if answer is not None:
            items = items_from_answer(answer, chunk, ctx)  # type: ignore[arg-type]
        else:
            assert result is not None  # a cache hit always has an answer
            salvaged = best_salvage(result.raw_answers, model, ctx, self.settings.mode)
            if salvaged is not None and getattr(salvaged, "items", None):
                note = f"kept after {result.attempts} attempt(s) without a valid answer"
                items = items_from_answer(salvaged, chunk, ctx, failed_note=note)  # type: ignore[arg-type]
                call.status = "salvaged"
            else:
                items = rules_fallback(rules_record, chunk, result.error or "no usable answer")
                call.status = "fallback"
                self.log(call)
                return items, call
        for list_name, list_items in items.items():
            if list_items:
                flag_disagreements(list_items, list_name, chunk, rules_record, self.doc.text)
        self.log(call)
        return items, call

    def extract_meta(self, segmented: SegmentedReport, rules_meta: Meta) -> tuple[Meta, CallRecord]:
        title, first, last = meta_excerpt(self.doc, segmented)
        answer, _result, call = self.ask(
            kind="meta",
            section="meta",
            response_model=MetaOut,
            system=self.prompts.meta_system,
            user=self.prompts.meta_user(title=title, first_lines=first, last_lines=last),
            context={"meta_text": "\n".join((title, first, last))},
        )
        if not isinstance(answer, MetaOut):
            call.status = "fallback"
            self.log(call)
            return rules_meta.model_copy(), call
        meta = Meta(
            issuer=answer.issuer or rules_meta.issuer,
            region=answer.region or rules_meta.region,
            report_year=answer.report_year or rules_meta.report_year,
            period=answer.period or rules_meta.period,
            publish_date=answer.publish_date or self.doc.publish_date_hint or rules_meta.publish_date,
        )
        self.log(call)
        return meta, call


def prompt_hash_for(doc: SourceDocument, settings: LLMSettings) -> str:
    """The prompt hash `extract_with_llm` will record for `doc` (for resume checks): it
    depends on the few-shot choice, which differs only for the report whose gold file would
    otherwise be the example."""
    return prompt_set_for(doc.doc_id, doc.text, gold_dir=settings.gold_dir).prompt_hash


def extract_with_llm(
    doc: SourceDocument,
    segmented: SegmentedReport,
    *,
    rules_record: Record,
    settings: LLMSettings,
    cache: LLMCache | None = None,
    call_log: CallLog | None = None,
    client: LLMClient | None = None,
    run_id: str | None = None,
    index: SourceIndex | None = None,
) -> LLMExtraction:
    """Extract one report with the model (see module doc for what is guaranteed).

    Thread-safe: reports may run concurrently; calls of one report run on up to
    `settings.concurrency` threads, and the shared client bounds calls in flight run-wide.
    `rules_record` should be checked already (its items are the fallback); `index`: the
    document's SourceIndex when the caller has one.
    """
    prompts = prompt_set_for(doc.doc_id, doc.text, gold_dir=settings.gold_dir)
    has_sections = any(section.list_name is not None for section in segmented.sections)
    chunks = (
        section_chunks(doc.text, segmented, max_chars=settings.max_section_chars)
        if has_sections
        else free_chunks(doc.text, max_chars=settings.max_section_chars)
    )
    run = _ReportRun(
        doc,
        settings=settings,
        prompts=prompts,
        cache=cache,
        call_log=call_log,
        client=client,
        run_id=run_id,
        index=index if index is not None else SourceIndex(doc.text),
    )
    tasks: list[Callable[[], Any]] = [lambda: run.extract_meta(segmented, rules_record.meta)]
    tasks += [partial(run.extract_chunk, chunk, rules_record) for chunk in chunks]
    workers = max(1, min(settings.concurrency, len(tasks)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"llm-{doc.doc_id}") as pool:
        futures = [pool.submit(task) for task in tasks]
        try:
            results = [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    meta, meta_call = results[0]
    record = Record(doc_id=doc.doc_id, meta=meta)
    calls = [meta_call]
    for items, call in results[1:]:
        calls.append(call)
        for list_name in ListName:
            record.items(list_name).extend(items[list_name])
    has_plans = bool(segmented.sections_of(SectionKind.PLANS)) or bool(record.plans)
    meta.plan_year = plan_year_of(
        segmented, report_year=meta.report_year, period=meta.period, has_plans=has_plans
    ) or (rules_record.meta.plan_year if has_plans else None)
    record.provenance = Provenance(
        backend="llm",
        model=settings.model,
        prompt_hash=prompts.prompt_hash,
        source_path=doc.path,
        source_sha256=doc.sha256,
        source_format=doc.format,
        ocr=doc.ocr,
        extracted_at=dt.datetime.now(dt.UTC),
    )
    usage = TokenUsage.total(
        TokenUsage(input_tokens=c.input_tokens, output_tokens=c.output_tokens) for c in calls
    )
    return LLMExtraction(
        record=record,
        calls=calls,
        usage=usage,
        cost_usd=sum_costs(c.cost_usd for c in calls),
        prompt_hash=prompts.prompt_hash,
    )
