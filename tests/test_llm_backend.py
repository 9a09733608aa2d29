"""LLM backend end to end against the scripted HTTP server (real openai + instructor)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from llm_server import (
    ACHIEVEMENT_POINTS,
    PLAN_POINTS,
    SAMPLE_ITEMS,
    Reply,
    ScriptedServer,
    echo_responder,
    first_user_text,
    passages_in,
    sample_report,
    sample_responder,
    scripted_settings,
    section_kind_of,
    span_of,
)

from extractor.core.normalise import is_verbatim
from extractor.core.schema import AlignmentStatus, Area, FlagCode, Record
from extractor.extract.llm import LLMSettings, extract_with_llm
from extractor.extract.llm.settings import LLMMode
from extractor.segment.model import SegmentedReport

KEY = "sk-test-0123456789abcdef"


def settings_for(server: ScriptedServer, **overrides: Any) -> LLMSettings:
    return scripted_settings(server, **{"api_key": KEY, **overrides})


def run_sample(server: ScriptedServer, **overrides: Any):
    doc, segmented, rules = sample_report()
    out = extract_with_llm(doc, segmented, rules_record=rules, settings=settings_for(server, **overrides))
    return doc, rules, out


def requests_of(server: ScriptedServer, kind: str) -> list[dict[str, Any]]:
    return [body for body in server.bodies if section_kind_of(body) == kind]


def test_valid_answer_gives_record_with_exact_evidence(server: ScriptedServer) -> None:
    doc, _rules, out = run_sample(server)
    record = out.record
    assert [a.evidence for a in record.achievements] == ACHIEVEMENT_POINTS
    for item in record.achievements + record.problems + record.plans:
        assert item.alignment is AlignmentStatus.EXACT
        assert item.span is not None and doc.text[item.span.start : item.span.end] == item.evidence
    first = record.achievements[0]
    assert first.area is Area.RECONSIDERATION
    assert [(m.value, m.unit) for m in first.metrics] == [(37, "件"), (31, "件")]
    for metric in first.metrics:
        assert metric.span is not None and doc.text[metric.span.start : metric.span.end] == metric.evidence
    assert record.problems[0].cause == "编制有限，人员流动较大"
    assert [p.evidence for p in record.plans] == PLAN_POINTS
    meta = record.meta
    assert (meta.issuer, meta.region, meta.report_year, meta.plan_year) == (
        "某某县司法局",
        "某某县",
        2024,
        2025,
    )
    assert str(meta.publish_date) == "2025-01-15"
    assert record.provenance is not None
    assert record.provenance.backend == "llm" and record.provenance.model == "gpt-4o-mini"
    assert record.provenance.prompt_hash == out.prompt_hash and len(out.prompt_hash) == 64
    assert [c.status for c in out.calls] == ["ok"] * 5
    # One meta call, one outline call and one call per section (the causes block rides
    # with the problems).
    assert len(server.requests) == 5
    assert out.usage.input_tokens == 5 * 120 and out.usage.output_tokens == 5 * 30
    assert out.cost_usd == pytest.approx((600 * 0.15 + 150 * 0.60) / 1e6)


def test_passages_are_marked_and_causes_travel_with_problems(server: ScriptedServer) -> None:
    run_sample(server)
    (achievements,) = requests_of(server, "achievements")
    assert list(passages_in(achievements).values()) == ACHIEVEMENT_POINTS
    (problems,) = requests_of(server, "problems")
    assert "究其原因，主要是编制有限" in first_user_text(problems)
    assert "究其原因" not in first_user_text(achievements)


def test_invalid_answer_is_reasked_with_the_error(server: ScriptedServer) -> None:
    wrong = copy.deepcopy(SAMPLE_ITEMS["achievements"])
    wrong[0]["metrics"][0]["value"] = 38  # not what its evidence says

    def responder(request: dict[str, Any]) -> Reply:
        if section_kind_of(request) == "achievements" and len(requests_of(server, "achievements")) == 1:
            return Reply(payload={"items": wrong}, usage=(200, 50))
        return sample_responder(request)

    server.default = responder
    _doc, _rules, out = run_sample(server)
    first, second = requests_of(server, "achievements")
    assert "38" not in json.dumps(first["messages"][-1], ensure_ascii=False)
    reask = json.dumps(second["messages"], ensure_ascii=False)
    assert "metric value 38 is not stated in its evidence" in reask
    assert "数值 38 不在其证据" in reask
    assert [(m.value, m.unit) for m in out.record.achievements[0].metrics] == [(37, "件"), (31, "件")]
    call = next(c for c in out.calls if c.section.startswith("achievements"))
    assert (call.status, call.attempts) == ("ok", 2)
    # Both answers are paid for: the retry's tokens count.
    assert (call.input_tokens, call.output_tokens) == (200 + 120, 50 + 30)


def test_ungrounded_quote_is_reasked_then_kept_flagged(server: ScriptedServer) -> None:
    invented = "四是建成全省首个智慧法治平台，服务群众10万人次。"
    items = [*SAMPLE_ITEMS["achievements"], {"quote": invented, "area": "其他", "text": "智慧法治平台"}]

    def responder(request: dict[str, Any]) -> Reply:
        if section_kind_of(request) == "achievements":
            return Reply(payload={"items": items})
        return sample_responder(request)

    server.default = responder
    _doc, _rules, out = run_sample(server, max_retries=1)
    tries = requests_of(server, "achievements")
    assert len(tries) == 2
    assert "quote not found verbatim" in json.dumps(tries[1]["messages"], ensure_ascii=False)
    achievements = out.record.achievements
    assert len(achievements) == 4  # nothing dropped
    kept = achievements[3]
    assert kept.evidence == invented and kept.span is None and kept.alignment is AlignmentStatus.NONE
    codes = {f.code for f in kept.flags}
    assert {FlagCode.UNALIGNED, FlagCode.VALIDATION_FAILED} <= codes
    assert all(not any(f.code is FlagCode.VALIDATION_FAILED for f in a.flags) for a in achievements[:3])
    call = next(c for c in out.calls if c.section.startswith("achievements"))
    assert call.status == "salvaged"


@pytest.mark.parametrize("mode", list(LLMMode))
def test_every_mode_gives_the_same_record(server: ScriptedServer, mode: LLMMode) -> None:
    _doc, _rules, out = run_sample(server, mode=mode)
    (request,) = requests_of(server, "achievements")
    if mode is LLMMode.TOOLS:
        assert request["tools"][0]["function"]["name"] == "SectionExtraction"
    else:
        assert "tools" not in request
        assert ("response_format" in request) is (mode is LLMMode.JSON)
    assert [a.evidence for a in out.record.achievements] == ACHIEVEMENT_POINTS
    assert len(out.record.achievements[0].metrics) == 2
    assert [c.status for c in out.calls] == ["ok"] * 5


@pytest.mark.parametrize("mode", [LLMMode.JSON, LLMMode.MD_JSON])
def test_think_block_before_the_json_is_ignored(server: ScriptedServer, mode: LLMMode) -> None:
    def responder(request: dict[str, Any]) -> Reply:
        answer = sample_responder(request).payload
        body = json.dumps(answer, ensure_ascii=False)
        if mode is LLMMode.MD_JSON:
            body = f"```json\n{body}\n```"
        # The reasoning even contains a JSON object that must not be taken for the answer.
        return Reply(content=f'<think>先看段落。草稿：{{"items": []}}\n再核对数字。</think>\n{body}')

    server.default = responder
    _doc, _rules, out = run_sample(server, mode=mode)
    assert len(server.requests) == 5  # no re-ask was needed
    assert [a.evidence for a in out.record.achievements] == ACHIEVEMENT_POINTS


def test_fixed_prefix_is_identical_and_section_text_comes_last(server: ScriptedServer) -> None:
    doc, _rules, _out = run_sample(server)
    item_requests = [b for b in server.bodies if section_kind_of(b) not in ("meta", "outline")]
    assert len(item_requests) == 3
    prefixes = {json.dumps([b["messages"][:-1], b["tools"]], ensure_ascii=False) for b in item_requests}
    assert len(prefixes) == 1
    for body in item_requests:
        assert body["messages"][0]["role"] == "system" and body["messages"][-1]["role"] == "user"
    variable = sum(len(m["content"]) for b in item_requests for m in b["messages"][1:])
    assert variable <= 1.3 * len(doc.text) + 4 * 120  # per-call labels are small and fixed


def test_disagreements_with_rules_are_flagged(server: ScriptedServer) -> None:
    doc, segmented, rules = sample_report()
    rules.achievements[2].area = Area.LEGAL_SERVICES  # model says 矛盾纠纷化解
    merged = {"passages": [1, 2], "area": "普法与法治宣传", "text": "深化普法，推进法律服务"}

    def responder(request: dict[str, Any]) -> Reply:
        if section_kind_of(request) == "plans":
            return Reply(payload={"items": [merged]})
        return sample_responder(request)

    server.default = responder
    out = extract_with_llm(doc, segmented, rules_record=rules, settings=settings_for(server))
    third = out.record.achievements[2]
    area_flags = [f for f in third.flags if f.code is FlagCode.AREA_DISAGREES]
    assert len(area_flags) == 1
    assert "矛盾纠纷化解" in area_flags[0].detail and "公共法律服务" in area_flags[0].detail
    # Metrics: the model states none for item 3 here but two for item 1, as the rules do.
    assert not any(f.code is FlagCode.METRICS_DISAGREE for f in out.record.achievements[0].flags)
    assert not any(f.code is FlagCode.BOUNDARY_DISAGREES for f in out.record.achievements[0].flags)
    (plan,) = out.record.plans
    assert (
        plan.evidence
        == doc.text[span_of(doc.text, PLAN_POINTS[0]).start : span_of(doc.text, PLAN_POINTS[1]).end]
    )
    assert any(f.code is FlagCode.BOUNDARY_DISAGREES and "merged" in f.detail for f in plan.flags)


def test_metric_sets_that_differ_are_flagged(server: ScriptedServer) -> None:
    doc, segmented, rules = sample_report()
    rules.achievements[0].metrics = rules.achievements[0].metrics[:1]
    out = extract_with_llm(doc, segmented, rules_record=rules, settings=settings_for(server))
    flags = [f for f in out.record.achievements[0].flags if f.code is FlagCode.METRICS_DISAGREE]
    assert len(flags) == 1 and "31件" in flags[0].detail


def test_no_sections_means_free_extraction_with_quotes(server: ScriptedServer) -> None:
    doc, _segmented, _rules = sample_report()
    bare = SegmentedReport(doc_id=doc.doc_id)
    server.default = echo_responder
    out = extract_with_llm(
        doc,
        bare,
        rules_record=Record(doc_id=doc.doc_id),
        settings=settings_for(server, max_section_chars=500),
    )
    free = [b for b in server.bodies if b["tools"][0]["function"]["name"] == "FreeExtraction"]
    assert len(free) >= 1
    assert out.record.achievements
    for item in out.record.achievements:
        assert item.alignment is AlignmentStatus.EXACT and is_verbatim(item.evidence, doc.text)


def long_report() -> tuple[Any, SegmentedReport, list[str]]:
    """A report whose achievements section (~2,400 chars) has 4 sub-headings of 6 points."""
    from extractor.core.document import SourceDocument
    from extractor.core.schema import Span
    from extractor.segment.model import Point, Section, SectionKind

    lines, points, contexts = ["某某区2024年法治政府建设情况报告", "一、工作成效"], [], []
    for h in range(4):
        heading = f"（{'一二三四'[h]}）第{h + 1}方面工作"
        lines.append(heading)
        for n in range(6):
            point = (
                f"{n + 1}.推进第{h + 1}方面第{n + 1}项工作，"
                + "持续完善工作机制，不断提升服务质量，" * 4
                + f"完成{10 * h + n}件。"
            )
            lines.append(point)
            points.append(point)
            contexts.append(heading)
    text = "\n".join(lines) + "\n"
    body_start = text.index("（一）")
    point_models = [
        Point(span=span_of(text, p), context=["一、工作成效", c])
        for p, c in zip(points, contexts, strict=True)
    ]
    section = Section(
        kind=SectionKind.ACHIEVEMENTS,
        heading="一、工作成效",
        span=Span(start=body_start, end=len(text) - 1),
        points=point_models,
    )
    doc = SourceDocument(doc_id="long-2024", path="long.txt", text=text)
    return doc, SegmentedReport(doc_id=doc.doc_id, sections=[section]), points


def test_long_section_is_split_between_points(server: ScriptedServer) -> None:
    doc, segmented, points = long_report()
    assert len(doc.text) > 2000
    server.default = echo_responder
    out = extract_with_llm(
        doc,
        segmented,
        rules_record=Record(doc_id=doc.doc_id),
        settings=settings_for(server, max_section_chars=700),
    )
    sections = requests_of(server, "achievements")
    assert len(sections) >= 4
    shown = [body for request in sections for body in passages_in(request).values()]
    assert shown == points  # every point once, whole, in order
    assert [a.evidence for a in out.record.achievements] == points
    assert all("第" in first_user_text(r).split("\n", 1)[0] for r in sections[1:])  # "第 i/n 段"


SEED_IDS = ["lanshan-2024", "heping-2024", "lushan-2023", "mayang-2022h1", "hubin-2024"]


@pytest.mark.parametrize("doc_id", SEED_IDS)
def test_seed_documents_through_the_real_segmenter(doc_id: str) -> None:
    from pathlib import Path

    from extractor.extract.llm.prompts import prompt_set_for
    from extractor.extract.rules.backend import extract_with_rules
    from extractor.load import load_document
    from extractor.segment.sections import segment_report

    doc = load_document(Path(__file__).resolve().parent.parent / "eval" / "docs" / f"{doc_id}.txt")
    segmented = segment_report(doc)
    rules = extract_with_rules(doc, segmented)
    with ScriptedServer(default=echo_responder) as running:
        out = extract_with_llm(
            doc, segmented, rules_record=rules, settings=settings_for(running, concurrency=4)
        )
        bodies = running.bodies
    assert {c.status for c in out.calls} == {"ok"}
    points = [p for s in segmented.sections if s.list_name is not None for p in s.points]
    items = out.record.achievements + out.record.problems + out.record.plans
    assert len(items) == len(points)  # the echo model keeps the segmenter's points
    for item in items:
        assert item.span is not None and doc.text[item.span.start : item.span.end] == item.evidence
    system_messages = {
        b["messages"][0]["content"] for b in bodies if section_kind_of(b) not in ("meta", "outline")
    }
    assert len(system_messages) == 1
    assert f"gold:{doc_id}.json" != prompt_set_for(doc.doc_id, doc.text).few_shot_source
    # Each section once, plus the outline call's compact paragraph list (openings, lengths).
    assert sum(c.input_chars for c in out.calls) <= 1.9 * len(doc.text)


def test_later_reports_build_no_new_response_schemas(server: ScriptedServer) -> None:
    # A worker asks thousands of calls of the same few response models: each model's schema
    # is built once, not once per call (instructor's schema cache, keyed by class, kept every
    # per-call class it was handed and never hit).
    from instructor.v2.providers.openai.schema import generate_openai_schema

    run_sample(server)
    built = generate_openai_schema.cache_info().currsize
    run_sample(server)
    run_sample(server)
    assert len(server.requests) == 15
    assert generate_openai_schema.cache_info().currsize == built
