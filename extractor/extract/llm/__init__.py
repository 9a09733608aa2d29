"""LLM extraction backend: instructor + openai, section-wise, grounded, cached, costed.

Entry points:
- `resolve_llm_settings(...) -> LLMSettings` (explicit > config file > environment);
- `extract_with_llm(doc, segmented, *, rules_record, settings, cache, call_log) -> LLMExtraction`;
- `extract_many_with_llm(jobs, *, settings, ...) -> LLMRunResult` (threads over reports);
- `open_llm_engine(url)`, `LLMCache(engine)`, `CallLog(engine)` for the cache and call log.
"""

from __future__ import annotations

from extractor.extract.llm.backend import LLMExtraction, extract_with_llm, prompt_hash_for
from extractor.extract.llm.cache import CallLog, LLMCache, open_llm_engine
from extractor.extract.llm.client import LLMClient, shared_client
from extractor.extract.llm.costs import CallRecord, ModelPrice, TokenUsage, estimate_cost
from extractor.extract.llm.runner import JobOutcome, LLMJob, LLMRunResult, extract_many_with_llm
from extractor.extract.llm.settings import LLMMode, LLMSettings, resolve_llm_settings

__all__ = [
    "CallLog",
    "CallRecord",
    "JobOutcome",
    "LLMCache",
    "LLMClient",
    "LLMExtraction",
    "LLMJob",
    "LLMMode",
    "LLMRunResult",
    "LLMSettings",
    "ModelPrice",
    "TokenUsage",
    "estimate_cost",
    "extract_many_with_llm",
    "extract_with_llm",
    "open_llm_engine",
    "prompt_hash_for",
    "resolve_llm_settings",
    "shared_client",
]
