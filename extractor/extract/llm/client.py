"""The model client: openai + instructor with retries, usage accounting and answer clean-up.

One `LLMClient` per settings, shared by every thread of a run (`shared_client`): the openai
client and its connection pool are thread-safe, per-call state lives in per-call instructor
hooks, and a semaphore bounds the calls in flight to `settings.concurrency`.

Two retry layers, each owned by a library:
- instructor re-asks (`max_retries`) when the answer fails validation or is not parseable,
  sending the validation error back to the model;
- tenacity retries the whole call on 429 (honouring Retry-After / retry-after-ms, capped at
  `retry_after_cap`), 5xx, 408/409, timeouts and connection errors (`http_retries`), with
  exponential jittered backoff otherwise. The openai client's own retries are off.
401/403/404 are whole-run problems (bad key, no access, no such model): `ModelError`.
"""

from __future__ import annotations

import email.utils
import functools
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from extractor.core.errors import ConfigError, ModelError
from extractor.extract.llm.cassette import CALL_HEADER, Cassettes, CassetteTransport, call_header
from extractor.extract.llm.costs import TokenUsage
from extractor.extract.llm.settings import LLMSettings

_THINK = re.compile(r"^\s*<think>.*?</think>\s*", re.DOTALL)
_TRANSIENT_STATUS = {408, 409, 429}
_FATAL_STATUS = {401: "authentication failed", 403: "permission denied", 404: "model or endpoint not found"}


def strip_think(text: str | None) -> str | None:
    """`text` without a leading <think>…</think> block (reasoning models put one before JSON)."""
    return _THINK.sub("", text, count=1) if text else text


def _strip_think_hook(response: Any) -> None:
    # Runs on every raw answer before instructor parses it, in every mode: TOOLS ignores
    # content, JSON / MD_JSON parse it, and a re-ask echoes the cleaned content.
    for choice in getattr(response, "choices", None) or []:
        message = getattr(choice, "message", None)
        if message is not None and isinstance(message.content, str):
            message.content = strip_think(message.content)


def api_error_of(error: BaseException) -> BaseException:
    """The openai error behind `error` (instructor wraps API errors in InstructorRetryException)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, openai.APIError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return error


def is_transient(error: BaseException) -> bool:
    """True for failures worth retrying the same request: 429, 5xx, 408/409, timeouts, network."""
    cause = api_error_of(error)
    if isinstance(cause, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(cause, openai.APIStatusError):
        return cause.status_code in _TRANSIENT_STATUS or cause.status_code >= 500
    return False


def retry_after_seconds(error: BaseException) -> float | None:
    """The server's requested delay (retry-after-ms, or Retry-After seconds or HTTP date)."""
    cause = api_error_of(error)
    response = getattr(cause, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(when.timestamp() - time.time(), 0.0)


class wait_retry_after(wait_base):
    """Wait what Retry-After asks (capped), else the fallback backoff."""

    def __init__(self, *, cap: float, fallback: wait_base) -> None:
        self.cap = cap
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        asked = retry_after_seconds(error) if error is not None else None
        return min(asked, self.cap) if asked is not None else self.fallback(retry_state)


@dataclass(slots=True)
class CallResult:
    """What one logical call produced. Exactly one of `answer` / `error` is set."""

    answer: BaseModel | None = None
    error: str | None = None  # one line, never the key
    usage: TokenUsage = field(default_factory=TokenUsage)
    attempts: int = 0  # HTTP requests sent (re-asks and transport retries included)
    raw_answers: list[Any] = field(default_factory=list)  # every completion received, in order


def fatal_model_error(error: BaseException, settings: LLMSettings) -> ModelError | None:
    """A one-line ModelError for whole-run failures (bad key, no access, unknown model)."""
    cause = api_error_of(error)
    if isinstance(cause, openai.APIStatusError) and cause.status_code in _FATAL_STATUS:
        where = settings.base_url or "the default OpenAI endpoint"
        hint = " (check OPENAI_API_KEY or api_key in the config file)" if cause.status_code == 401 else ""
        return ModelError(
            f"{_FATAL_STATUS[cause.status_code]} (HTTP {cause.status_code}) for model "
            f"{settings.model!r} at {where}{hint}"
        )
    return None


def describe_failure(error: BaseException) -> str:
    """One line saying why a call failed, without response bodies (they may echo anything)."""
    cause = api_error_of(error)
    if isinstance(cause, openai.APITimeoutError):
        return "request timed out"
    if isinstance(cause, openai.APIConnectionError):
        return "connection failed"
    if isinstance(cause, openai.APIStatusError):
        return f"HTTP {cause.status_code}"
    if isinstance(cause, IncompleteOutputException):
        return "answer truncated (finish_reason=length)"
    if isinstance(cause, InstructorRetryException):
        last = cause.failed_attempts[-1].exception if cause.failed_attempts else cause.__cause__
        if isinstance(last, AssertionError):  # instructor's way of reporting message.refusal
            return "the model refused to answer"
        kind = type(last).__name__ if last is not None else "error"
        return f"no valid answer after {cause.n_attempts} attempt(s) ({kind})"
    if isinstance(cause, openai.APIError):
        return f"API error ({type(cause).__name__})"
    return f"{type(cause).__name__}"


#: Loggers of the libraries in the call path that log exception text (which embeds response
#: bodies; a careless server may echo the Authorization header back).
_LIBRARY_LOGGERS = (
    "instructor",
    "instructor.v2",
    "instructor.v2.retry",
    "openai",
    "openai._base_client",
    "httpx2",
)


class SecretRedactor(logging.Filter):
    """Replaces registered secrets by *** in records of the libraries' loggers (defence in depth)."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if len(secret) >= 4:  # redacting a tiny string would mangle every message
            with self._lock:
                self._secrets = self._secrets | {secret}

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            record.msg, record.args = self.redact(message), None
        return True


REDACTOR = SecretRedactor()
for _name in _LIBRARY_LOGGERS:
    logging.getLogger(_name).addFilter(REDACTOR)


class LLMClient:
    """Structured calls against one endpoint/model (see module doc). Thread-safe."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        key = settings.require_api_key()
        REDACTOR.add(key.get_secret_value())
        self.cassettes = _cassettes_for(settings)
        self._openai = openai.OpenAI(
            base_url=settings.base_url,
            api_key=key.get_secret_value(),
            max_retries=0,  # tenacity owns transport retries (see module doc)
            timeout=settings.timeout,
            http_client=_http_client(settings, self.cassettes),
        )
        self._instructor = instructor.from_openai(self._openai, mode=settings.mode.instructor_mode)
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        # After a whole-run failure (bad key...) every later call fails at once, with no request.
        self._fatal: ModelError | None = None

    def call(
        self,
        *,
        response_model: type[BaseModel],
        messages: list[dict[str, str]],
        context: dict[str, Any],
        max_tokens: int | None = None,
        label: str = "",
    ) -> CallResult:
        """Ask for `response_model`; never raises except ModelError for whole-run problems.

        A failed call comes back with `error` set and every raw answer received, so the
        caller can salvage the best one. `max_tokens` bounds the answer (a fixed
        `settings.max_output_tokens` wins); `label` (`<doc_id>|<call>`) names the call in
        cassettes. The whole call, re-asks and retries included, stops after
        `settings.call_budget` seconds.
        """
        result = CallResult()

        def on_response(response: Any) -> None:
            result.raw_answers.append(response)
            result.usage.add_answer(getattr(response, "usage", None))

        hooks = Hooks()
        hooks.on("completion:response", _strip_think_hook)
        hooks.on("completion:response", on_response)
        hooks.on("completion:kwargs", lambda *args, **kwargs: _before_request(result, kwargs))
        extra: dict[str, Any] = {"model": self.settings.model}
        if self.settings.temperature is not None:
            extra["temperature"] = self.settings.temperature
        if (limit := self.settings.max_output_tokens or max_tokens) is not None:
            extra["max_tokens"] = limit
        if self.cassettes is not None:
            extra["extra_headers"] = {CALL_HEADER: call_header(label)}

        # instructor renders every message as a Jinja template with the validation context.
        # Document text is untrusted and may contain {{ }} / {% %} / {# #}: send each message
        # as a placeholder whose value is the text, so it arrives verbatim and is never parsed.
        templated = [_message(m["role"], "{{ " + _placeholder(i) + " }}") for i, m in enumerate(messages)]
        full_context = {
            **context,
            **{_placeholder(i): stable_under_dedent(m["content"]) for i, m in enumerate(messages)},
        }
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.http_retries + 1)
            | stop_after_delay(self.settings.call_budget),
            wait=wait_retry_after(
                cap=self.settings.retry_after_cap,
                fallback=wait_random_exponential(
                    multiplier=self.settings.backoff_initial, max=self.settings.backoff_max
                ),
            ),
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt, self._slots:
                    if self._fatal is not None:  # checked once holding a slot: no request after it
                        raise ModelError(self._fatal.message)
                    result.answer = self._instructor.chat.completions.create(
                        response_model=instructor_model(response_model),
                        messages=templated,
                        max_retries=self.settings.max_retries,
                        context=full_context,
                        strict=False,
                        hooks=hooks,
                        **extra,
                    )
        except ModelError:
            raise
        except Exception as e:
            fatal = fatal_model_error(e, self.settings)
            if fatal is not None:
                self._fatal = fatal
                raise fatal from None  # chained openai errors carry response bodies
            result.error = describe_failure(e)
        return result


@functools.cache
def instructor_model(model: type[BaseModel]) -> type[BaseModel]:
    """`model` wrapped as instructor's response schema, once per model class.

    instructor wraps a plain pydantic model in a new class on every call (pydantic's
    create_model), so its schema cache never hits: each call paid for a class build and a
    JSON schema (measured: ~8% of a worker's model-call time), and the cache kept up to 256
    such classes. A class that already is a response schema is used as it is."""
    return instructor.openai_schema(model)


def _cassettes_for(settings: LLMSettings) -> Cassettes | None:
    if settings.replay_dir is not None and settings.record_dir is not None:
        raise ConfigError("give either a replay or a record directory, not both")
    folder = settings.replay_dir or settings.record_dir
    return Cassettes.open(folder) if folder is not None else None


def _http_client(settings: LLMSettings, cassettes: Cassettes | None) -> httpx2.Client | None:
    """The openai client's HTTP client: the default, or a cassette transport (see cassette.py)."""
    if cassettes is None:
        return None
    inner = httpx2.HTTPTransport() if settings.record_dir is not None else None
    return httpx2.Client(transport=CassetteTransport(cassettes, inner=inner), timeout=settings.timeout)


_BLANK_WITH_SPACES = re.compile(r"^[ \t]+$", re.MULTILINE)


def stable_under_dedent(text: str) -> str:
    """`text` as instructor will send it, so that it sends exactly this.

    instructor passes every rendered message through `textwrap.dedent`, which empties lines
    holding only spaces or tabs (and would strip a margin common to all lines: our messages
    always open at column 0, so there is none). Emptying those lines here makes dedent a no-op:
    the report text the model receives is exactly what the prompt rendered.
    """
    return _BLANK_WITH_SPACES.sub("", text)


def _placeholder(index: int) -> str:
    return f"extractor_message_{index}"


#: Called before every HTTP request to the model with the tokens it may use (prompt
#: characters, a CJK character being about a token, plus its answer limit): a model budget
#: shared by worker processes (extractor.distributed.ratelimit) makes the request wait here.
RequestGate = Callable[[int], None]
_request_gate: RequestGate | None = None


def set_request_gate(gate: RequestGate | None) -> None:
    """Install (None: remove) the process-wide gate every model request passes."""
    global _request_gate
    _request_gate = gate


def _before_request(result: CallResult, request: dict[str, Any]) -> None:
    result.attempts += 1
    gate = _request_gate
    if gate is not None:
        prompt = sum(len(str(m.get("content") or "")) for m in request.get("messages") or [])
        gate(prompt + int(request.get("max_tokens") or 0))


def _message(role: str, content: str) -> ChatCompletionMessageParam:
    """A chat message typed as openai expects (its role decides the message type)."""
    if role == "system":
        return {"role": "system", "content": content}
    if role == "assistant":
        return {"role": "assistant", "content": content}
    return {"role": "user", "content": content}


_CLIENTS: dict[tuple[Any, ...], LLMClient] = {}
_CLIENTS_LOCK = threading.Lock()


def cassette_misses() -> list[tuple[str, str, Path]]:
    """(doc_id, call, task file) of every request the shared clients' cassettes could not answer."""
    with _CLIENTS_LOCK:
        clients = list(_CLIENTS.values())
    return [miss for client in clients if client.cassettes is not None for miss in client.cassettes.misses]


def shared_client(settings: LLMSettings) -> LLMClient:
    """One client per (endpoint, key, mode, limits): threads of a run share its pool and slots."""
    key_digest = hashlib.sha256(settings.require_api_key().get_secret_value().encode()).hexdigest()
    key = (
        settings.base_url,
        key_digest,
        settings.model,
        settings.mode,
        settings.timeout,
        settings.concurrency,
        settings.max_retries,
        settings.http_retries,
        settings.retry_after_cap,
        settings.backoff_initial,
        settings.backoff_max,
        settings.temperature,
        settings.max_output_tokens,
        settings.call_budget,
        settings.replay_dir,
        settings.record_dir,
    )
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = LLMClient(settings)
        return _CLIENTS[key]
