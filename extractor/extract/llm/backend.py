"""`extract_with_llm`: one report through the model: its structure, then its sections.

Guarantees:
- two rounds of calls: a meta call and an outline call (the model decides the sections and
  their leaf points, the segmenter's structure being its proposal and the fallback); then one
  call per chunk of the structure so decided (a section, or a part of a long one; paragraph
  chunks where there is no section at all). The variable text comes last in every prompt;
- every item's evidence is located in the document (passage text or an aligned quote);
  what could not be validated is kept and flagged; a section whose call fails, or whose
  answer is empty or nearly so, falls back to the rules backend's items there, flagged
  SECTION_FALLBACK; rules items the answer leaves out are kept in `record.left_out`, flagged;
  meta fields the text does not state are replaced by the rules backend's, flagged;
- answers come from the cache when present (no request; only valid answers are cached);
  usage and estimated cost are reported per call and per report, re-asks included;
- raises ModelError only for whole-run problems (bad key, no access, unknown model) and
  ConfigError when a call is needed but no API key is set; never puts the key anywhere.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

from pydantic import BaseModel

from extractor.check.align import SourceIndex
from extractor.core.document import SourceDocument
from extractor.core.schema import Item, ListName, Meta, Provenance, Record
from extractor.extract.llm.cache import CallLog, LLMCache
from extractor.extract.llm.calls import ReportCalls, output_budget
from extractor.extract.llm.chunks import Chunk, free_chunks, section_chunks
from extractor.extract.llm.client import LLMClient
from extractor.extract.llm.convert import (
    ItemsByList,
    best_salvage,
    items_from_answer,
    left_out_items,
    mark_outline_changes,
    rules_fallback,
)
from extractor.extract.llm.costs import CallRecord, TokenUsage, sum_costs
from extractor.extract.llm.disagree import (
    flag_area_model,
    flag_disagreements,
    flag_intended_metrics,
    flag_repeated_metrics,
    flag_set_counts,
    flag_unused_cause_block,
)
from extractor.extract.llm.grounding import CONTEXT_KEY, answer_is_too_thin
from extractor.extract.llm.meta_answer import META_CONTEXT_KEY, merge_meta, meta_excerpt
from extractor.extract.llm.outline import (
    OUTLINE_CONTEXT_KEY,
    OutlineContext,
    OutlineOut,
    apply_outline,
    outline_changes,
    paragraph_spans,
    proposal_from_segments,
    render_paragraphs,
    render_proposal,
)
from extractor.extract.llm.prompts import prompt_set_for
from extractor.extract.llm.response_models import FreeExtraction, MetaOut, SectionExtraction
from extractor.extract.llm.settings import LLMSettings
from extractor.extract.meta import plan_year_of
from extractor.segment.model import SectionKind, SegmentedReport


class LLMExtraction(BaseModel):
    """A report's record plus what producing it cost."""

    record: Record
    calls: list[CallRecord]
    usage: TokenUsage
    cost_usd: float | None
    prompt_hash: str


def ask_meta(
    calls: ReportCalls, segmented: SegmentedReport, rules_meta: Meta
) -> tuple[Meta, list, CallRecord]:
    """The meta call: fields the text shown supports, the rest from the rules backend (flagged)."""
    title, first, last = meta_excerpt(calls.doc, segmented)
    shown = "\n".join((title, first, last))
    answer, result, call = calls.ask(
        kind="meta",
        section="meta",
        response_model=MetaOut,
        system=calls.prompts.meta_system,
        user=calls.prompts.meta_user(title=title, first_lines=first, last_lines=last),
        context={META_CONTEXT_KEY: shown, "publish_hint": calls.doc.publish_date_hint},
        max_tokens=output_budget(400),
    )
    if not isinstance(answer, MetaOut) and result is not None:
        # No valid answer: salvage what its last attempt said, field by field.
        salvaged = best_salvage(result.raw_answers, MetaOut, None, calls.settings.mode)
        answer = salvaged if isinstance(salvaged, MetaOut) else None
        call.status = "salvaged" if answer is not None else "fallback"
    stated = answer if isinstance(answer, MetaOut) else None
    meta, flags = merge_meta(stated, rules_meta, shown=shown, publish_hint=calls.doc.publish_date_hint)
    calls.log(call)
    return meta, flags, call


def ask_outline(calls: ReportCalls, segmented: SegmentedReport) -> tuple[SegmentedReport, CallRecord]:
    """The outline call: the report's structure as the model decides it (the segmenter's on failure)."""
    ctx = OutlineContext(calls.doc.text, paragraph_spans(calls.doc.text))
    paragraphs = render_paragraphs(ctx)
    answer, _result, call = calls.ask(
        kind="outline",
        section="outline",
        response_model=OutlineOut,
        system=calls.prompts.outline_system,
        user=calls.prompts.outline_user(
            paragraphs=paragraphs, proposal=render_proposal(proposal_from_segments(segmented, ctx))
        ),
        context={OUTLINE_CONTEXT_KEY: ctx},
        max_tokens=output_budget(len(paragraphs) // 2),
    )
    if not isinstance(answer, OutlineOut) or not any(s.kind != "other" for s in answer.sections):
        call.status = "fallback"  # the segmenter's structure stands
        calls.log(call)
        return segmented, call
    calls.log(call)
    return apply_outline(answer, ctx, segmented), call


def ask_chunk(calls: ReportCalls, chunk: Chunk, rules_record: Record) -> tuple[ItemsByList, CallRecord]:
    """One chunk's items: the model's, its salvaged ones, or the rules backend's (flagged)."""
    ctx = chunk.grounding(calls.index)
    model: type[SectionExtraction] | type[FreeExtraction] = (
        FreeExtraction if chunk.list_name is None else SectionExtraction
    )
    answer, result, call = calls.ask(
        kind="items",
        section=chunk.label,
        response_model=model,
        system=calls.prompts.items_system,
        user=calls.prompts.section_user(chunk),
        context={CONTEXT_KEY: ctx},
        max_tokens=output_budget(len(chunk.rendered)),
    )
    if not isinstance(answer, SectionExtraction | FreeExtraction):
        assert result is not None  # a cache hit always has an answer
        salvaged = best_salvage(result.raw_answers, model, ctx, calls.settings.mode)
        if isinstance(salvaged, SectionExtraction | FreeExtraction) and not answer_is_too_thin(salvaged, ctx):
            note = f"kept after {result.attempts} attempt(s) without a valid answer"
            items = items_from_answer(salvaged, ctx, failed_note=note)
            call.status = "salvaged"
        else:
            call.status = "fallback"
            calls.log(call)
            return rules_fallback(rules_record, chunk, result.error or "no usable answer"), call
    else:
        items = items_from_answer(answer, ctx)
    for list_name, list_items in items.items():
        if list_items:
            flag_disagreements(list_items, list_name, chunk, rules_record, calls.doc.text)
            flag_area_model(list_items)
    if items[ListName.PROBLEMS]:
        flag_unused_cause_block(items[ListName.PROBLEMS], chunk)
    calls.log(call)
    return items, call


def _report_order(item: Item) -> int:
    return item.span.start if item.span is not None else 1 << 62


def _chunks(text: str, structure: SegmentedReport, settings: LLMSettings) -> list[Chunk]:
    if any(section.list_name is not None for section in structure.sections):
        return section_chunks(text, structure, max_chars=settings.max_section_chars)
    return free_chunks(text, max_chars=settings.max_section_chars)


def _run_all(pool: ThreadPoolExecutor, tasks: list[partial]) -> list:
    futures: list[Future] = [pool.submit(task) for task in tasks]
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        raise


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
    calls = ReportCalls(
        doc,
        settings=settings,
        prompts=prompts,
        cache=cache,
        call_log=call_log,
        client=client,
        run_id=run_id,
        index=index if index is not None else SourceIndex(doc.text),
    )
    workers = max(1, settings.concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"llm-{doc.doc_id}") as pool:
        first = _run_all(
            pool,
            [partial(ask_meta, calls, segmented, rules_record.meta), partial(ask_outline, calls, segmented)],
        )
        (meta, meta_flags, meta_call), (structure, outline_call) = first
        chunks = _chunks(doc.text, structure, settings)
        answered = _run_all(pool, [partial(ask_chunk, calls, chunk, rules_record) for chunk in chunks])

    record = Record(doc_id=doc.doc_id, meta=meta, flags=meta_flags)
    all_calls = [meta_call, outline_call]
    for items, call in answered:
        all_calls.append(call)
        for list_name in ListName:
            record.items(list_name).extend(items[list_name])
    mark_outline_changes(record, outline_changes(segmented, structure))
    flag_repeated_metrics(sorted(record.achievements, key=_report_order))
    flag_intended_metrics(record.achievements)
    flag_set_counts(record.achievements)
    record.left_out = left_out_items(record, rules_record)
    has_plans = bool(structure.sections_of(SectionKind.PLANS)) or bool(record.plans)
    meta.plan_year = plan_year_of(
        structure, report_year=meta.report_year, period=meta.period, has_plans=has_plans
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
        TokenUsage(input_tokens=c.input_tokens, output_tokens=c.output_tokens) for c in all_calls
    )
    return LLMExtraction(
        record=record,
        calls=all_calls,
        usage=usage,
        cost_usd=sum_costs(c.cost_usd for c in all_calls),
        prompt_hash=prompts.prompt_hash,
    )
