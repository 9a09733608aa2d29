"""LLM extraction backend: instructor + openai, section-wise, grounded, cached, costed.

Batches of reports run through the pipeline's one batch runner
(`extractor.pipeline.batch.extract_batch`), which calls `extract_with_llm` per report.

Entry points:
- `resolve_llm_settings(...) -> LLMSettings` (explicit > config file > environment);
- `extract_with_llm(doc, segmented, *, rules_record, settings, cache, call_log) -> LLMExtraction`;
- `open_llm_engine(url)`, `LLMCache(engine)`, `CallLog(engine)` for the cache and call log.
"""

from __future__ import annotations

from extractor.extract.llm.backend import LLMExtraction, extract_with_llm, prompt_hash_for
from extractor.extract.llm.cache import CallLog, LLMCache, open_llm_engine
from extractor.extract.llm.client import LLMClient, shared_client
from extractor.extract.llm.costs import CallRecord, ModelPrice, TokenUsage, estimate_cost
from extractor.extract.llm.settings import LLMMode, LLMSettings, resolve_llm_settings

__all__ = [
    "CallLog",
    "CallRecord",
    "LLMCache",
    "LLMClient",
    "LLMExtraction",
    "LLMMode",
    "LLMSettings",
    "ModelPrice",
    "TokenUsage",
    "estimate_cost",
    "extract_with_llm",
    "open_llm_engine",
    "prompt_hash_for",
    "resolve_llm_settings",
    "shared_client",
]
