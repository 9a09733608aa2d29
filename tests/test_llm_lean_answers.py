"""The leaner answer format: metrics cited by candidate id, outline leaves compact or omitted.

The model no longer copies metrics out: the program lists the quantities each passage states
(m1, m2, …) and the model cites the ids of those that are metrics. Each id must exist and lie
in the item citing it; the metric then carries the candidate's located evidence.
"""

from __future__ import annotations

from pathlib import Path

from llm_server import ScriptedServer, sample_report

from extractor.check.align import SourceIndex
from extractor.core.schema import Area, ListName, Span
from extractor.extract.llm import LLMSettings, extract_with_llm
from extractor.extract.llm.candidates import metric_candidates, render_candidates
from extractor.extract.llm.chunks import Chunk, render_with_markers
from extractor.extract.llm.grounding import answer_item
from extractor.extract.llm.outline import (
    OutlineContext,
    OutlineOut,
    apply_outline,
    paragraph_spans,
    proposal_from_segments,
)
from extractor.extract.llm.response_models import ItemOut
from extractor.load import load_document
from extractor.segment import segment_report
from extractor.segment.model import Point

REPO = Path(__file__).resolve().parent.parent
TEXT = "一、工作成效\n一是加强行政复议。全年受理行政复议案件25件，办结22件，纠错率8%。\n二是深化普法。开展普法活动约120场次。\n"


def _chunk() -> Chunk:
    points = [
        Point(span=Span(start=TEXT.index("一是"), end=TEXT.index("\n二是"))),
        Point(span=Span(start=TEXT.index("二是"), end=len(TEXT) - 1)),
    ]
    bounds = Span(start=TEXT.index("一是"), end=len(TEXT))
    rendered, passages = render_with_markers(TEXT, bounds, points)
    return Chunk(
        list_name=ListName.ACHIEVEMENTS,
        heading="一、工作成效",
        bounds=bounds,
        passages=passages,
        rendered=rendered,
        part=1,
        parts=1,
        candidates=metric_candidates(passages),
    )


def test_candidates_list_each_passages_quantities_with_the_programs_reading() -> None:
    chunk = _chunk()
    assert [(c.id, c.passage, c.value, c.unit) for c in chunk.candidates] == [
        ("m1", 1, 25, "件"),
        ("m2", 1, 22, "件"),
        ("m3", 1, 8, "%"),
        ("m4", 2, 120, "场次"),
    ]
    shown = render_candidates(chunk.candidates)
    assert shown.splitlines() == ["[P1] m1 25件；m2 22件；m3 8%", "[P2] m4 120场次"]
    for c in chunk.candidates:  # offsets index the document
        assert TEXT[c.number.start : c.number.end] == c.written
        assert c.written in TEXT[c.evidence.start : c.evidence.end]


def test_a_cited_candidate_becomes_a_metric_with_its_located_evidence() -> None:
    chunk = _chunk()
    ctx = chunk.grounding(SourceIndex(TEXT))
    item, problems = answer_item(
        ItemOut(passages=[1], area=Area.RECONSIDERATION, text="受理复议案件", metrics=["m1", "M2"]), ctx
    )
    assert problems == []
    assert [(m.value, m.unit) for m in item.metrics] == [(25, "件"), (22, "件")]
    for metric in item.metrics:
        assert metric.evidence in item.evidence and str(metric.value) in metric.evidence


def test_an_unknown_or_misplaced_candidate_is_sent_back() -> None:
    ctx = _chunk().grounding(SourceIndex(TEXT))
    _item, problems = answer_item(ItemOut(passages=[1], area=Area.OTHER, text="x", metrics=["m9"]), ctx)
    assert any("m9 不存在" in p for p in problems)
    _item, problems = answer_item(ItemOut(passages=[1], area=Area.OTHER, text="x", metrics=["m4"]), ctx)
    assert any("m4 不在该条目" in p for p in problems)


def test_a_metric_written_out_is_still_located_in_the_item() -> None:
    ctx = _chunk().grounding(SourceIndex(TEXT))
    answer = ItemOut.model_validate(
        {
            "passages": [2],
            "area": "普法与法治宣传",
            "text": "普法",
            "metrics": [{"name": "普法活动", "value": 120, "unit": "场次"}],
        }
    )
    item, problems = answer_item(answer, ctx)
    assert problems == [] and item.metrics[0].evidence in item.evidence


def test_an_outline_section_without_leaves_keeps_the_proposals_points() -> None:
    doc = load_document(REPO / "eval" / "holdout" / "kuanhe-2024.txt")
    segmented = segment_report(doc)
    ctx = OutlineContext(doc.text, paragraph_spans(doc.text))
    proposal = proposal_from_segments(segmented, ctx).model_dump(mode="json")
    for section in proposal["sections"]:
        section.pop("leaves")
    after = apply_outline(OutlineOut.model_validate(proposal), ctx, segmented)
    assert [[p.span for p in s.points] for s in after.sections] == [
        [p.span for p in s.points] for s in segmented.sections
    ]


def test_compact_leaves_read_as_paragraph_and_opening() -> None:
    answer = OutlineOut.model_validate(
        {"sections": [{"kind": "plans", "first": 3, "last": 5, "leaves": [3, "4:二是加强", "[5]"]}]}
    )
    leaves = answer.sections[0].leaves or []
    assert [(leaf.paragraph, leaf.opening) for leaf in leaves] == [(3, None), (4, "二是加强"), (5, None)]


def test_the_real_client_stores_cited_metrics(tmp_path: Path) -> None:
    """Through openai + instructor: a model citing every candidate of its passage by id."""
    doc, segmented, rules = sample_report()

    def cite_all(request):
        from llm_server import Reply, echo_answer, first_user_text

        answer = echo_answer(request)
        user = first_user_text(request)
        if "【指标候选" in user:
            lines = user.split("【指标候选", 1)[1].splitlines()[1:]
            by_passage = {
                int(line.split("]")[0][2:]): [e.split(" ")[0] for e in line.split("] ", 1)[1].split("；")]
                for line in lines
                if line.startswith("[P")
            }
            for item in answer["items"]:
                item["metrics"] = by_passage.get(item["passages"][0], [])
        return Reply(payload=answer)

    with ScriptedServer(default=cite_all) as running:
        settings = LLMSettings(model="scripted", base_url=running.base_url, api_key="x", max_retries=1)
        out = extract_with_llm(doc, segmented, rules_record=rules, settings=settings)
    metrics = [m for a in out.record.achievements for m in a.metrics]
    assert metrics, "the sample report's achievements state quantities"
    for achievement in out.record.achievements:
        for metric in achievement.metrics:
            assert metric.evidence in achievement.evidence
            assert metric.evidence in doc.text


def test_a_cause_block_goes_with_the_problems_it_follows() -> None:
    """A separate block of causes is shown with the problems section before it, not with a
    later one (a 第一责任人 section's 不足 sentence), where a model gave its causes away."""
    from extractor.extract.llm.chunks import section_chunks
    from extractor.segment.model import Section, SectionKind, SegmentedReport

    text = "存在问题\n一是宣传不够。\n原因\n人手不足。\n第一责任人不足\n督促不够。\n"

    def span(part: str) -> Span:
        start = text.index(part)
        return Span(start=start, end=start + len(part))

    def section(kind: SectionKind, body: str) -> Section:
        return Section(kind=kind, heading="", span=span(body), points=[Point(span=span(body))])

    segmented = SegmentedReport(
        doc_id="x",
        title="",
        sections=[
            section(SectionKind.PROBLEMS, "一是宣传不够。"),
            section(SectionKind.CAUSES, "人手不足。"),
            section(SectionKind.PROBLEMS, "督促不够。"),
        ],
    )
    first, second = section_chunks(text, segmented, max_chars=1000)
    assert first.causes_text == "人手不足。" and second.causes_text == ""
