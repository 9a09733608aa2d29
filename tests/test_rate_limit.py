"""The shared model budget: the request gate in the client, and the schedule kept in the database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from llm_server import (
    Reply,
    ScriptedServer,
    sample_report,
    sample_responder,
    scripted_settings,
    section_kind_of,
)
from pg import pg_server, sqlite_and_postgres_db_url  # noqa: F401  (fixtures: pg_server, db_url)

from extractor.core.errors import ConfigError
from extractor.distributed.ratelimit import Budget, SharedRateLimit
from extractor.extract.llm import extract_with_llm
from extractor.extract.llm.client import set_request_gate
from extractor.store import Store


@pytest.fixture
def gate_log() -> Iterator[list[int]]:
    seen: list[int] = []
    set_request_gate(seen.append)
    yield seen
    set_request_gate(None)


def test_every_request_to_the_model_passes_the_gate_with_its_size(
    server: ScriptedServer, gate_log: list[int]
) -> None:
    # One unusable answer: instructor asks again, and that second request is gated too.
    bad = [Reply(payload={"items": "not a list"})]

    def responder(request: dict[str, Any]) -> Reply:
        if section_kind_of(request) == "achievements" and bad:
            return bad.pop()
        return sample_responder(request)

    server.default = responder
    doc, segmented, rules = sample_report()
    extract_with_llm(
        doc, segmented, rules_record=rules, settings=scripted_settings(server, api_key="sk-gate-test")
    )
    assert len(gate_log) == len(server.requests) and not bad
    # Each request is counted with at least its prompt and its answer limit.
    sizes = sorted(
        sum(len(m["content"] or "") for m in r.body["messages"]) + int(r.body.get("max_tokens") or 0)
        for r in server.requests
    )
    assert all(seen >= size for seen, size in zip(sorted(gate_log), sizes, strict=True))


def test_threads_sharing_a_budget_never_go_faster_than_it(db_url: str) -> None:
    # On PostgreSQL a slot is one atomic UPDATE … WHERE due; on SQLite a locked transaction.
    with Store(db_url) as store:
        # Two limiters on one row: as two worker processes would share it.
        limiters = [SharedRateLimit(store.engine, Budget(requests_per_minute=600)) for _ in range(2)]
        sent: list[float] = []
        lock = threading.Lock()

        def send(limiter: SharedRateLimit) -> None:
            for _ in range(5):
                limiter.acquire()
                with lock:
                    sent.append(time.monotonic())

        threads = [threading.Thread(target=send, args=(limiters[n % 2],)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    sent.sort()
    assert len(sent) == 20
    # 600 a minute, ten a second: no second holds more (one more for a thread woken late
    # from its slot), and twenty take their 1.9 s however the threads interleave.
    most = max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent)
    assert most <= 11, sent
    assert sent[-1] - sent[0] >= 19 * 0.1 - 0.05


def test_a_token_budget_paces_by_size(db_url: str) -> None:
    with Store(db_url) as store:
        limiter = SharedRateLimit(store.engine, Budget(tokens_per_minute=60_000))  # 1,000 tokens a second
        started = time.monotonic()
        for _ in range(3):
            limiter.acquire(500)
        assert time.monotonic() - started >= 1.0 - 0.05  # the second and third wait 0.5 s each


def test_a_budget_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="requests per minute budget must be positive"):
        Budget(requests_per_minute=0)
