"""Cache, call log, costs, the batch runner, and the API key kept out of everything."""

from __future__ import annotations

import logging
from pathlib import Path
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
from pg import fresh_schema_url, pg_server  # noqa: F401  (pg_server: fixture, requested by name)

from extractor.core.errors import ModelError
from extractor.extract.llm import (
    CallLog,
    LLMCache,
    LLMSettings,
    extract_with_llm,
    open_llm_engine,
)
from extractor.extract.llm.cache import cache_key
from extractor.extract.llm.costs import ModelPrice
from extractor.pipeline.batch import extract_batch
from extractor.pipeline.run import LLMResources

KEY = "sk-test-cache-0123456789abcdef"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'extractor.db'}"


def settings_for(server: ScriptedServer, **overrides: Any) -> LLMSettings:
    return scripted_settings(server, **{"api_key": KEY, **overrides})


def without_time(record_json: str) -> str:
    import json

    data = json.loads(record_json)
    data["provenance"]["extracted_at"] = None
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def test_second_run_is_served_from_the_cache(server: ScriptedServer, db_url: str) -> None:
    engine = open_llm_engine(db_url)
    cache = LLMCache(engine)
    doc, segmented, rules = sample_report()
    first = extract_with_llm(doc, segmented, rules_record=rules, settings=settings_for(server), cache=cache)
    sent = len(server.requests)
    assert sent == 5  # meta, outline, three sections
    # A fresh cache object on the same database, as a new process would have.
    second = extract_with_llm(
        doc,
        segmented,
        rules_record=rules,
        settings=settings_for(server),
        cache=LLMCache(open_llm_engine(db_url)),
    )
    assert len(server.requests) == sent  # zero requests
    assert [c.status for c in second.calls] == ["cached"] * 5
    assert second.usage.input_tokens == 0 and second.cost_usd == 0.0
    assert without_time(second.record.to_json()) == without_time(first.record.to_json())


def test_cached_run_needs_no_api_key(server: ScriptedServer, db_url: str) -> None:
    cache = LLMCache(open_llm_engine(db_url))
    doc, segmented, rules = sample_report()
    extract_with_llm(doc, segmented, rules_record=rules, settings=settings_for(server), cache=cache)
    keyless = settings_for(server, api_key=None)
    out = extract_with_llm(doc, segmented, rules_record=rules, settings=keyless, cache=cache)
    assert {c.status for c in out.calls} == {"cached"}


def test_no_cache_bypasses_the_cache(server: ScriptedServer, db_url: str) -> None:
    cache = LLMCache(open_llm_engine(db_url))
    doc, segmented, rules = sample_report()
    extract_with_llm(doc, segmented, rules_record=rules, settings=settings_for(server), cache=cache)
    out = extract_with_llm(
        doc, segmented, rules_record=rules, settings=settings_for(server, cache=False), cache=cache
    )
    assert len(server.requests) == 10
    assert {c.status for c in out.calls} == {"ok"}


@pytest.mark.postgres
def test_answers_and_call_log_on_postgresql_one_cache_row_per_answer(
    server: ScriptedServer, request: pytest.FixtureRequest
) -> None:
    # Workers share the database: a second run that asks again (cache not read) writes the
    # same keys, which are kept once, and every call of both runs is still logged.
    with fresh_schema_url(request.getfixturevalue("pg_server")) as url:
        engine = open_llm_engine(url)
        try:
            cache, log = LLMCache(engine), CallLog(engine)
            doc, segmented, rules = sample_report()
            for _ in range(2):
                extract_with_llm(
                    doc,
                    segmented,
                    rules_record=rules,
                    settings=settings_for(server, cache=False),
                    cache=cache,
                    call_log=log,
                )
            assert len(server.requests) == 10
            assert [r["status"] for r in log.rows()] == ["ok"] * 10
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SELECT count(*) FROM llm_cache").scalar() == 5
            # A process that does read the cache gets all five answers from it.
            third = extract_with_llm(
                doc, segmented, rules_record=rules, settings=settings_for(server), cache=LLMCache(engine)
            )
            assert len(server.requests) == 10
            assert [c.status for c in third.calls] == ["cached"] * 5
        finally:
            engine.dispose()


def test_failed_section_is_not_cached(server: ScriptedServer, db_url: str) -> None:
    cache = LLMCache(open_llm_engine(db_url))
    doc, segmented, rules = sample_report()

    def responder(request: dict[str, Any]) -> Reply:
        if section_kind_of(request) == "plans" and len(server.requests) <= 5:
            return Reply(status=503)
        return sample_responder(request)

    server.default = responder
    settings = settings_for(server, http_retries=0)
    first = extract_with_llm(doc, segmented, rules_record=rules, settings=settings, cache=cache)
    assert next(c for c in first.calls if c.section.startswith("plans")).status == "fallback"
    second = extract_with_llm(doc, segmented, rules_record=rules, settings=settings, cache=cache)
    statuses = {c.section.split(" ")[0]: c.status for c in second.calls}
    assert statuses == {
        "meta": "cached",
        "outline": "cached",
        "achievements": "cached",
        "problems": "cached",
        "plans": "ok",
    }


def test_cache_key_covers_model_mode_prompt_and_input() -> None:
    base = {
        "model": "m",
        "mode": "tools",
        "prompt_hash": "h",
        "response_model": "SectionExtraction",
        "input_text": "t",
    }
    keys = {cache_key(**base)}
    for field, other in [("model", "m2"), ("mode", "json"), ("prompt_hash", "h2"), ("input_text", "t2")]:
        keys.add(cache_key(**{**base, field: other}))
    assert len(keys) == 5


def test_call_log_and_costs_count_every_attempt(server: ScriptedServer, db_url: str) -> None:
    engine = open_llm_engine(db_url)
    log = CallLog(engine)
    bad_then_good = [
        Reply(payload={"items": [{"passages": [9], "area": "其他", "text": "x"}]}, usage=(1000, 100))
    ]

    def responder(request: dict[str, Any]) -> Reply:
        if section_kind_of(request) == "achievements" and bad_then_good:
            return bad_then_good.pop()
        return sample_responder(request)

    server.default = responder
    prices = {"priced-model": ModelPrice(input=1.0, output=2.0)}
    settings = settings_for(server, model="priced-model", prices=prices)
    doc, segmented, rules = sample_report()
    out = extract_with_llm(
        doc, segmented, rules_record=rules, settings=settings, call_log=log, run_id="run-1"
    )
    rows = log.rows(doc_id=doc.doc_id)
    assert len(rows) == 5
    by_section = {row["section"].split(" ")[0]: row for row in rows}
    achievements = by_section["achievements"]
    assert achievements["attempts"] == 2 and achievements["status"] == "ok"
    assert (achievements["input_tokens"], achievements["output_tokens"]) == (1000 + 120, 100 + 30)
    assert achievements["cost_usd"] == pytest.approx((1120 * 1.0 + 130 * 2.0) / 1e6)
    assert {row["run_id"] for row in rows} == {"run-1"}
    assert {row["model"] for row in rows} == {"priced-model"}
    assert {row["prompt_hash"] for row in rows} == {out.prompt_hash}
    assert out.usage.input_tokens == 1000 + 5 * 120
    assert out.cost_usd == pytest.approx(sum(row["cost_usd"] for row in rows))


def test_unknown_model_has_unknown_cost(server: ScriptedServer) -> None:
    doc, segmented, rules = sample_report()
    out = extract_with_llm(
        doc, segmented, rules_record=rules, settings=settings_for(server, model="no-such-price")
    )
    assert out.usage.input_tokens > 0 and out.cost_usd is None


def test_runner_extracts_reports_concurrently_and_sums_usage(server: ScriptedServer) -> None:
    docs = [sample_report(f"sample-{i}")[0] for i in range(5)]
    done: list[str] = []
    result = extract_batch(
        docs,
        backend="llm",
        llm=LLMResources(settings=settings_for(server, concurrency=4)),
        concurrency=4,
        on_done=lambda o: done.append(o.record.doc_id if o.record else ""),
    )
    assert [o.record.doc_id for o in result.outcomes if o.record] == [f"sample-{i}" for i in range(5)]
    assert sorted(done) == sorted(o.record.doc_id for o in result.outcomes if o.record)
    assert all(o.record and len(o.record.achievements) == 3 for o in result.outcomes)
    assert result.input_tokens == 5 * 5 * 120
    assert result.calls == 25 and len(server.requests) == 25


def test_runner_stops_on_a_whole_run_error(server: ScriptedServer) -> None:
    server.default = lambda request: Reply(status=401)
    docs = [sample_report(f"sample-{i}")[0] for i in range(6)]
    with pytest.raises(ModelError):
        extract_batch(
            docs, backend="llm", llm=LLMResources(settings=settings_for(server, concurrency=2)), concurrency=2
        )
    assert len(server.requests) <= 2  # the rest fail fast without a request


def test_api_key_is_nowhere(
    server: ScriptedServer, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = open_llm_engine(db_url)
    cache, log = LLMCache(engine), CallLog(engine)

    def responder(request: dict[str, Any]) -> Reply:
        if section_kind_of(request) == "plans":
            return Reply(status=500, echo_auth=True)  # a failing section: errors get logged
        return sample_responder(request)

    server.default = responder
    settings = settings_for(server, http_retries=1)
    doc, segmented, rules = sample_report()
    out = extract_with_llm(doc, segmented, rules_record=rules, settings=settings, cache=cache, call_log=log)
    assert any(c.status == "fallback" for c in out.calls)
    assert any(r.headers.get("authorization") == f"Bearer {KEY}" for r in server.requests)  # it was used
    engine.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("extractor.db*"))
    assert stored and KEY.encode() not in stored
    texts = [
        out.model_dump_json(),
        out.record.to_json(),
        repr(settings),
        str(settings),
        settings.model_dump_json(),
    ]
    texts += [str(row) for row in log.rows()]
    texts += [c.error or "" for c in out.calls]
    texts.append(caplog.text)
    assert caplog.text  # the libraries did log, including the echoed header
    for text in texts:
        assert KEY not in text
