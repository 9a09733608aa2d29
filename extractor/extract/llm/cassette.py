"""Recorded model answers: replay them through the real client, record new ones, list misses.

A cassette directory holds one JSON file per report (`<doc_id>.json`): the requests the
pipeline sent for it and the answer each got. `CassetteTransport` sits under the openai
client as its HTTP transport, so openai, instructor (parsing, validation, re-asks) and the
project's validators all run exactly as against a provider:

- replay: a request whose key is recorded gets its answer back as a chat completion in the
  shape the request asked for (a tool call, JSON content, or a ```json fence); a request that
  is not recorded gets HTTP 400 (the call fails, the section falls back to rules, flagged) and
  is written as a task file (`_tasks/<doc_id>/<key>.json`: messages + the schema asked for),
  ready to be answered;
- record: a request not recorded goes to the real provider and its answer is written down.

The key is a hash of what decides the answer (messages, tools / response format): model name,
temperature and token limits are left out so a cassette replays under any settings.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx2

from extractor.core.errors import ConfigError

#: Request header naming the report and call (`<doc_id>|<label>`), added by the client in
#: cassette mode so answers and task files land in the right report's file.
CALL_HEADER = "x-extractor-call"
TASKS_DIR = "_tasks"
_KEY_FIELDS = ("messages", "tools", "tool_choice", "response_format")


def request_key(body: dict[str, Any]) -> str:
    """Stable key of a chat-completions request body (see module doc for what it covers)."""
    relevant = {name: body.get(name) for name in _KEY_FIELDS if body.get(name) is not None}
    canonical = json.dumps(relevant, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def requested_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema the request asks the answer to follow (tool parameters), if stated."""
    tools = body.get("tools") or []
    if tools:
        function = tools[0].get("function", {})
        return {"name": function.get("name"), "parameters": function.get("parameters")}
    response_format = body.get("response_format") or {}
    return response_format.get("json_schema") if isinstance(response_format, dict) else None


def completion_for(body: dict[str, Any], arguments: str, *, call_id: str) -> dict[str, Any]:
    """A chat completion carrying `arguments` (the answer's JSON) the way `body` asked for it.

    `call_id` names the tool call; a re-ask echoes it back, so it must be derived from the
    request (not a counter) for the re-ask's own key to be stable.
    """
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        ]
    else:
        wants_fence = "```json" in json.dumps(body.get("messages", []), ensure_ascii=False)
        message["content"] = f"```json\n{arguments}\n```" if wants_fence else arguments
    return {
        "id": f"chatcmpl-{call_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "replay"),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }


def answer_of(completion: dict[str, Any]) -> str | None:
    """The answer's JSON text in a provider's chat completion (tool arguments or content)."""
    choices = completion.get("choices") or []
    if not choices:
        return None
    message = choices[0].get("message") or {}
    calls = message.get("tool_calls") or []
    if calls:
        return str(calls[0].get("function", {}).get("arguments", ""))
    content = message.get("content")
    return content if isinstance(content, str) else None


@dataclass(slots=True)
class Interaction:
    """One recorded request and its answer."""

    key: str
    call: str
    messages: list[dict[str, Any]]
    schema: dict[str, Any] | None
    answer: str
    usage: dict[str, int] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "call": self.call,
            "messages": self.messages,
            "schema": self.schema,
            "answer": self.answer,
            "usage": self.usage,
        }


@dataclass
class Cassettes:
    """The cassette directory: recorded interactions by key, misses seen this run."""

    directory: Path
    interactions: dict[str, Interaction] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # key -> doc_id
    misses: list[tuple[str, str, Path]] = field(default_factory=list)  # (doc_id, call, task file)
    served: set[str] = field(default_factory=set)  # keys answered this run
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, directory: Path | str) -> Cassettes:
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise ConfigError("cassette path is not a directory", source=str(directory))
        cassettes = cls(directory)
        cassettes._read()
        return cassettes

    def _read(self) -> None:
        for path in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                for raw in data.get("interactions", []):
                    interaction = Interaction(**raw)
                    self.interactions[interaction.key] = interaction
                    self.owners[interaction.key] = path.stem
            except (OSError, ValueError, TypeError) as e:
                raise ConfigError(f"unreadable cassette: {type(e).__name__}: {e}", source=str(path)) from e

    def get(self, key: str) -> Interaction | None:
        """The recorded answer for `key`; on a miss the files are read again first (answers
        may have been imported since this process opened them)."""
        with self._lock:
            found = self.interactions.get(key)
            if found is None:
                self._read()
                found = self.interactions.get(key)
            if found is not None:
                self.served.add(key)
            return found

    def prune(self) -> int:
        """Rewrite the cassette files keeping only the interactions served this run (answers
        to requests the pipeline no longer sends go); returns how many were dropped."""
        with self._lock:
            stale = [key for key in self.interactions if key not in self.served]
            docs = {self.owners[key] for key in self.interactions}
            for key in stale:
                del self.interactions[key]
            for doc_id in docs:
                mine = [i.as_json() for k, i in self.interactions.items() if self.owners.get(k) == doc_id]
                path = self.directory / f"{doc_id}.json"
                if mine:
                    path.write_text(
                        json.dumps({"doc_id": doc_id, "interactions": mine}, ensure_ascii=False, indent=1),
                        encoding="utf-8",
                    )
                else:
                    path.unlink(missing_ok=True)
            return len(stale)

    def add(self, doc_id: str, interaction: Interaction) -> None:
        """Record `interaction` in `<doc_id>.json` (rewritten whole, atomically)."""
        with self._lock:
            self.interactions[interaction.key] = interaction
            self.owners[interaction.key] = doc_id
            mine = [i.as_json() for k, i in self.interactions.items() if self.owners.get(k) == doc_id]
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{doc_id}.json"
            tmp = path.with_suffix(f".json.{threading.get_ident()}.tmp")
            tmp.write_text(
                json.dumps({"doc_id": doc_id, "interactions": mine}, ensure_ascii=False, indent=1),
                encoding="utf-8",
            )
            tmp.replace(path)

    def write_task(self, doc_id: str, call: str, body: dict[str, Any]) -> Path:
        """A task file for a request with no recorded answer: what a model would be asked."""
        key = request_key(body)
        folder = self.directory / TASKS_DIR / doc_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.json"
        task = {
            "key": key,
            "doc_id": doc_id,
            "call": call,
            "messages": body.get("messages", []),
            "schema": requested_schema(body),
            "answer_format": "Reply with one JSON object that follows `schema.parameters`.",
        }
        path.write_text(json.dumps(task, ensure_ascii=False, indent=1), encoding="utf-8")
        with self._lock:
            self.misses.append((doc_id, call, path))
        return path


def call_header(label: str) -> str:
    """`label` as a header value (headers are ASCII: percent-encoded UTF-8)."""
    return quote(label, safe="|/ ")


def _call_of(request: httpx2.Request) -> tuple[str, str]:
    doc_id, _, label = unquote(request.headers.get(CALL_HEADER, "unknown|")).partition("|")
    return doc_id or "unknown", label


class CassetteTransport(httpx2.BaseTransport):
    """The openai client's transport in cassette mode (see module doc).

    `inner` is the real transport when recording; None replays only.
    """

    def __init__(self, cassettes: Cassettes, *, inner: httpx2.BaseTransport | None = None) -> None:
        self.cassettes = cassettes
        self.inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.read() or b"{}")
        key = request_key(body)
        doc_id, call = _call_of(request)
        recorded = self.cassettes.get(key)
        if recorded is not None:
            completion = completion_for(body, recorded.answer, call_id=f"call_{key[:12]}")
            if recorded.usage:
                completion["usage"] = recorded.usage
            return httpx2.Response(200, json=completion)
        if self.inner is None:
            task = self.cassettes.write_task(doc_id, call, body)
            message = f"no recorded answer for this request (task written: {task.name})"
            # 400: not retried and not a whole-run failure (401/403/404 are): the call fails,
            # its section falls back to the rules output, flagged, and the run goes on.
            return httpx2.Response(400, json={"error": {"message": message, "type": "not_recorded"}})
        response = self.inner.handle_request(request)
        response.read()
        if response.status_code == 200:
            completion = response.json()
            answer = answer_of(completion)
            if answer is not None:
                usage = completion.get("usage")
                self.cassettes.add(
                    doc_id,
                    Interaction(
                        key=key,
                        call=call,
                        messages=body.get("messages", []),
                        schema=requested_schema(body),
                        answer=answer,
                        usage={k: int(v) for k, v in usage.items() if isinstance(v, int)} if usage else None,
                    ),
                )
        return response


def import_answers(directory: Path | str) -> list[tuple[str, str]]:
    """Move answered task files into the cassettes: for each `_tasks/<doc_id>/<key>.json`
    with a `<key>.answer.json` beside it (the answer's JSON), record the interaction in
    `<doc_id>.json` and remove both files. Returns (doc_id, call) of each one imported.

    The answer must parse as JSON (nothing else is checked here: validation happens when
    the cassette is replayed through the real client)."""
    cassettes = Cassettes.open(directory)
    imported: list[tuple[str, str]] = []
    for answer_path in sorted((Path(directory) / TASKS_DIR).glob("*/*.answer.json")):
        task_path = answer_path.with_name(answer_path.name.replace(".answer.json", ".json"))
        task = json.loads(task_path.read_text(encoding="utf-8"))
        answer = answer_path.read_text(encoding="utf-8").strip()
        json.loads(answer)  # ValueError: not JSON, left in place for a new answer
        interaction = Interaction(
            key=task["key"],
            call=task["call"],
            messages=task["messages"],
            schema=task["schema"],
            answer=answer,
        )
        cassettes.add(task["doc_id"], interaction)
        task_path.unlink()
        answer_path.unlink()
        imported.append((task["doc_id"], task["call"]))
    return imported
