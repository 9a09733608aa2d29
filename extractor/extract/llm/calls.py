"""The model calls of one report: answered from the cache or the client, logged, costed."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from extractor.check.align import SourceIndex
from extractor.core.document import SourceDocument
from extractor.extract.llm.cache import CallLog, LLMCache, PendingAnswer, cache_key
from extractor.extract.llm.client import CallResult, LLMClient, shared_client
from extractor.extract.llm.costs import CallRecord, estimate_cost
from extractor.extract.llm.prompts import PromptSet
from extractor.extract.llm.settings import LLMSettings

#: Output tokens allowed per character shown, and the floor and ceiling: enough for a
#: verbose answer to a long section, small enough that a runaway local model stops soon.
OUTPUT_TOKENS_PER_INPUT_CHAR = 0.8
MIN_OUTPUT_TOKENS = 1024
MAX_OUTPUT_TOKENS = 8192


def output_budget(shown_chars: int) -> int:
    """max_tokens for a call that shows `shown_chars` characters of report."""
    return int(min(MAX_OUTPUT_TOKENS, max(MIN_OUTPUT_TOKENS, shown_chars * OUTPUT_TOKENS_PER_INPUT_CHAR)))


class ReportCalls:
    """The model calls of one report: cache, client, call log (calls may run on several threads)."""

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
        self._answers: dict[int, PendingAnswer] = {}  # by id(call): cache rows awaiting `log`
        self._answers_lock = threading.Lock()

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
        max_tokens: int | None = None,
    ) -> tuple[BaseModel | None, CallResult | None, CallRecord]:
        """Answer from the cache or the model; the CallRecord's status is ok / cached / pending.

        Only a valid answer is cached: a failed or empty one is asked again next time."""
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
        result = self.client().call(
            response_model=response_model,
            messages=messages,
            context=context,
            max_tokens=max_tokens,
            label=f"{self.doc.doc_id}|{kind} {section}"[:300],
        )
        call.attempts, call.error = result.attempts, result.error
        call.input_tokens, call.output_tokens = result.usage.input_tokens, result.usage.output_tokens
        call.cost_usd = estimate_cost(result.usage, settings.price())
        call.duration_ms = int((time.monotonic() - clock) * 1000)
        if result.answer is not None and self.cache is not None:
            pending = self.cache.answer(
                key,
                answer_json=result.answer.model_dump_json(),
                model=settings.model,
                mode=settings.mode.value,
                prompt_hash=self.prompts.prompt_hash,
                response_model=response_model.__name__,
                input_tokens=result.usage.input_tokens,
                output_tokens=result.usage.output_tokens,
            )
            if self._logs_answers():
                # Written with the call's log row: one transaction per call, not two. An
                # answer whose call is never logged (the report failed) is asked again next time.
                with self._answers_lock:
                    self._answers[id(call)] = pending
            else:
                self.cache.put_pending(pending)
        return result.answer, result, call

    def _logs_answers(self) -> bool:
        """Whether the call log can carry the cache's rows (both on one database)."""
        return (
            self.cache is not None and self.call_log is not None and self.call_log.engine is self.cache.engine
        )

    def log(self, call: CallRecord) -> None:
        """Log `call` (with its answer's cache row, when `ask` kept it for this)."""
        with self._answers_lock:
            answer = self._answers.pop(id(call), None)
        if self.call_log is not None:
            self.call_log.add(
                call,
                doc_id=self.doc.doc_id,
                model=self.settings.model,
                mode=self.settings.mode.value,
                prompt_hash=self.prompts.prompt_hash,
                run_id=self.run_id,
                answer=answer,
            )
