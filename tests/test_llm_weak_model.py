"""A weak or careless model (empty tool calls, empty lists, invented meta, invented causes)
must never cost the rules' items or store anything invented unflagged.

Seen with a real small local model: `{ }` for every section call stored reports with 0 items
as "ok", cached, and --resume then skipped them.
"""

from __future__ import annotations

from typing import Any

import pytest
from llm_server import (
    PROBLEM_POINTS,
    SAMPLE_ITEMS,
    Reply,
    ScriptedServer,
    outline_proposal,
    sample_report,
    sample_responder,
    scripted_settings,
    section_kind_of,
)

from extractor.core.schema import FlagCode, ListName
from extractor.extract.llm import LLMCache, extract_with_llm, open_llm_engine

KEY = "sk-weak-model-test"
INVENTED_META = {
    "issuer": "火星市司法局",
    "region": "火星市",
    "report_year": 1999,
    "period": "half_year",
    "publish_date": "2030-01-01",
}
INVENTED_CAUSE = "主要是由于外星势力干扰，火星尘暴频发"


def run(server: ScriptedServer, **overrides: Any):
    doc, segmented, rules = sample_report()
    settings = scripted_settings(server, api_key=KEY, **overrides)
    return rules, extract_with_llm(doc, segmented, rules_record=rules, settings=settings)


def weak(payload_for_items: dict[str, Any]):
    def responder(request: dict[str, Any]) -> Reply:
        kind = section_kind_of(request)
        if kind == "outline":
            return Reply(payload=outline_proposal(request))
        if kind == "meta":
            return Reply(payload=dict(INVENTED_META))
        return Reply(payload=payload_for_items)

    return responder


@pytest.mark.parametrize("answer", [{}, {"items": []}], ids=["empty-tool-call", "empty-list"])
def test_empty_answers_fall_back_to_the_rules_items_flagged(answer: dict[str, Any]) -> None:
    with ScriptedServer(default=weak(answer)) as server:
        rules, out = run(server)
    record = out.record
    for name in ListName:
        assert len(record.items(name)) == len(rules.items(name)) > 0
        for item in record.items(name):
            assert any(f.code is FlagCode.SECTION_FALLBACK for f in item.flags)
            assert item.evidence in {r.evidence for r in rules.items(name)}
    assert {c.status for c in out.calls if c.kind == "items"} == {"fallback"}


def test_invented_meta_is_replaced_by_the_rules_values_and_flagged() -> None:
    with ScriptedServer(default=weak({"items": []})) as server:
        rules, out = run(server)
    meta = out.record.meta
    assert (meta.issuer, meta.region, meta.report_year) == (
        rules.meta.issuer,
        rules.meta.region,
        rules.meta.report_year,
    )
    assert meta.period == rules.meta.period and meta.publish_date == rules.meta.publish_date
    flagged = {f.detail.split(":")[0] for f in out.record.flags if f.code is FlagCode.META_UNSUPPORTED}
    assert flagged == {"issuer", "region", "report_year", "period", "publish_date"}


def test_an_invented_cause_is_asked_again_then_kept_only_flagged() -> None:
    def responder(request: dict[str, Any]) -> Reply:
        if section_kind_of(request) == "problems":
            items = [dict(item, cause=INVENTED_CAUSE) for item in SAMPLE_ITEMS["problems"]]
            return Reply(payload={"items": items})
        return sample_responder(request)

    with ScriptedServer(default=responder) as server:
        _rules, out = run(server, max_retries=1)
        re_asks = [b for b in server.bodies if section_kind_of(b) == "problems"]
    assert len(re_asks) == 2  # the first answer was sent back with the reason
    assert "找不到依据" in str(re_asks[-1]["messages"])
    problems = out.record.problems
    assert len(problems) == len(PROBLEM_POINTS)
    invented = [p for p in problems if p.cause == INVENTED_CAUSE]
    assert invented  # the model insisted: kept, but never unflagged
    assert all(any(f.code is FlagCode.CAUSE_UNSUPPORTED for f in p.flags) for p in invented)


def test_an_empty_answer_is_never_cached(tmp_path) -> None:
    cache = LLMCache(open_llm_engine(f"sqlite:///{tmp_path / 'cache.db'}"))
    doc, segmented, rules = sample_report()
    with ScriptedServer(default=weak({"items": []})) as server:
        settings = scripted_settings(server, api_key=KEY)
        extract_with_llm(doc, segmented, rules_record=rules, settings=settings, cache=cache)
    with ScriptedServer(default=sample_responder) as server:
        settings = scripted_settings(server, api_key=KEY)
        out = extract_with_llm(doc, segmented, rules_record=rules, settings=settings, cache=cache)
    statuses = {c.section.split(" ")[0]: c.status for c in out.calls}
    assert statuses["achievements"] == "ok" and statuses["problems"] == "ok" and statuses["plans"] == "ok"
    assert all(not item.flags for item in out.record.achievements)


def test_defaults_bound_the_answer_and_the_whole_call() -> None:
    """Against a slow local server the defaults must finish: every request carries a
    max_tokens scaled to what it shows, and a call stops at its time budget."""
    with ScriptedServer(default=sample_responder) as server:
        run(server)
        bodies = server.bodies
    assert all(isinstance(b.get("max_tokens"), int) and 0 < b["max_tokens"] <= 8192 for b in bodies)

    def slow(request: dict[str, Any]) -> Reply:
        return Reply(payload=sample_responder(request).payload, delay=0.6)

    with ScriptedServer(default=slow) as server:
        _rules, out = run(server, timeout=0.3, call_budget=1.0, http_retries=5, backoff_initial=0.0)
    assert all(c.status == "fallback" for c in out.calls if c.kind == "items")
    assert max(c.duration_ms for c in out.calls) < 5000
