"""Failures of the model call: retries, timeouts, bad answers, fallbacks, whole-run errors."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from llm_server import (
    ACHIEVEMENT_POINTS,
    Reply,
    ScriptedServer,
    sample_report,
    sample_responder,
    scripted_settings,
    section_kind_of,
)

from extractor.core.errors import ModelError
from extractor.core.schema import FlagCode
from extractor.extract.llm import LLMSettings, extract_with_llm
from extractor.extract.llm.settings import LLMMode

KEY = "sk-test-failures-0123456789"


def settings_for(server: ScriptedServer, **overrides: Any) -> LLMSettings:
    return scripted_settings(server, **{"api_key": KEY, **overrides})


def run_sample(server: ScriptedServer, **overrides: Any):
    doc, segmented, rules = sample_report()
    return extract_with_llm(doc, segmented, rules_record=rules, settings=settings_for(server, **overrides))


def script_for(server: ScriptedServer, kind: str, replies: list[Reply]) -> None:
    """Answer the first len(replies) requests of `kind` from `replies`; the rest normally."""
    queue = list(replies)

    def responder(request: dict[str, Any]) -> Reply:
        if section_kind_of(request) == kind and queue:
            return queue.pop(0)
        return sample_responder(request)

    server.default = responder


def arrivals(server: ScriptedServer, kind: str) -> list[float]:
    return [r.at for r in server.requests if section_kind_of(r.body) == kind]


def call_of(out, prefix: str):
    return next(c for c in out.calls if c.section.startswith(prefix))


def test_429_waits_for_retry_after_then_succeeds(server: ScriptedServer) -> None:
    script_for(server, "achievements", [Reply(status=429, headers={"Retry-After": "1"})])
    out = run_sample(server)
    first, second = arrivals(server, "achievements")
    assert second - first >= 0.9  # honoured, although the backoff alone would be ~10 ms
    assert [a.evidence for a in out.record.achievements] == ACHIEVEMENT_POINTS
    call = call_of(out, "achievements")
    assert (call.status, call.attempts) == ("ok", 2)


def test_retry_after_is_capped(server: ScriptedServer) -> None:
    script_for(server, "achievements", [Reply(status=429, headers={"Retry-After": "30"})])
    out = run_sample(server, retry_after_cap=0.2)
    first, second = arrivals(server, "achievements")
    assert 0.15 <= second - first < 10
    assert call_of(out, "achievements").status == "ok"


def test_server_errors_until_fallback_to_rules_for_that_section(server: ScriptedServer) -> None:
    script_for(server, "achievements", [Reply(status=500)] * 10)
    doc, segmented, rules = sample_report()
    out = extract_with_llm(doc, segmented, rules_record=rules, settings=settings_for(server, http_retries=2))
    assert len(arrivals(server, "achievements")) == 3  # first try + 2 retries
    achievements = out.record.achievements
    assert [a.evidence for a in achievements] == [r.evidence for r in rules.achievements]
    for item in achievements:
        flags = [f for f in item.flags if f.code is FlagCode.SECTION_FALLBACK]
        assert len(flags) == 1 and "HTTP 500" in flags[0].detail
    call = call_of(out, "achievements")
    assert call.status == "fallback" and call.error == "HTTP 500"
    # The other sections still come from the model.
    assert (
        call_of(out, "problems").status == "ok" and out.record.problems[0].cause == "编制有限，人员流动较大"
    )
    assert not any(f.code is FlagCode.SECTION_FALLBACK for p in out.record.problems for f in p.flags)


def test_a_hanging_request_times_out_and_is_retried(server: ScriptedServer) -> None:
    script_for(server, "achievements", [Reply(delay=3)])
    out = run_sample(server, timeout=0.5)
    assert len(arrivals(server, "achievements")) == 2
    call = call_of(out, "achievements")
    assert (call.status, call.attempts) == ("ok", 2)


def test_a_server_that_never_answers_falls_back(server: ScriptedServer) -> None:
    script_for(server, "plans", [Reply(delay=3)] * 5)
    out = run_sample(server, timeout=0.3, http_retries=1)
    call = call_of(out, "plans")
    assert call.status == "fallback" and call.error == "request timed out"
    assert all(any(f.code is FlagCode.SECTION_FALLBACK for f in p.flags) for p in out.record.plans)
    assert len(out.record.plans) == 2


def test_malformed_http_body_is_retried(server: ScriptedServer) -> None:
    script_for(server, "achievements", [Reply(body="this is not json {")])
    out = run_sample(server)
    assert len(arrivals(server, "achievements")) == 2
    assert call_of(out, "achievements").status == "ok"
    assert len(out.record.achievements) == 3


@pytest.mark.parametrize(
    "bad",
    [
        Reply(tool_arguments='{"items": [{"passages": [1], "area": "其他"'),  # truncated JSON
        Reply(no_tool_call=True, content="好的，我来看看。"),  # no tool call at all
        Reply(payload={"items": [{"passages": [1], "area": "不存在的领域", "text": "x"}]}),  # not an Area
    ],
    ids=["truncated-json", "empty-answer", "unknown-area"],
)
def test_unusable_answer_is_reasked(server: ScriptedServer, bad: Reply) -> None:
    script_for(server, "achievements", [bad])
    out = run_sample(server)
    assert len(arrivals(server, "achievements")) == 2
    assert call_of(out, "achievements").status == "ok"
    assert [a.evidence for a in out.record.achievements] == ACHIEVEMENT_POINTS


def test_malformed_json_content_is_reasked_in_json_mode(server: ScriptedServer) -> None:
    script_for(server, "achievements", [Reply(content='{"items": [{"passages": [1], ')])
    out = run_sample(server, mode=LLMMode.JSON)
    assert len(arrivals(server, "achievements")) == 2
    assert call_of(out, "achievements").status == "ok"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (Reply(finish_reason="length"), "truncated"),
        (Reply(refusal="I can't help with that."), "refused"),
    ],
    ids=["length", "refusal"],
)
def test_truncated_or_refused_answer_falls_back(server: ScriptedServer, bad: Reply, reason: str) -> None:
    script_for(server, "achievements", [bad] * 5)
    out = run_sample(server)
    call = call_of(out, "achievements")
    assert call.status == "fallback" and reason in (call.error or "")
    assert all(any(f.code is FlagCode.SECTION_FALLBACK for f in a.flags) for a in out.record.achievements)


def test_bad_key_is_one_clear_error_without_the_key(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.default = lambda request: Reply(status=401, echo_auth=True)
    with pytest.raises(ModelError) as raised:
        run_sample(server)
    message = str(raised.value)
    assert "\n" not in message and "HTTP 401" in message and "authentication failed" in message
    assert KEY not in message and KEY not in repr(raised.value)
    assert caplog.text and KEY not in caplog.text
    assert len(server.requests) == 1  # no retries of a bad key
