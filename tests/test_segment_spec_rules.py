"""The spec's settled judgment calls the segmenter follows (gold-format.md, "Judgment calls
(settled)"), each on a small hand-made report: circled numbers are no enumeration, problems
stated as bare heading lines before a shared block of causes, and a closing wrap-up."""

from __future__ import annotations

import pytest

from extractor.core.document import SourceDocument
from extractor.extract.rules.backend import extract_with_rules
from extractor.segment.enumeration import ParagraphSlice, find_tokens, leaf_pieces
from extractor.segment.model import SectionKind, SegmentedReport
from extractor.segment.paragraphs import Paragraph
from extractor.segment.points import is_wrap_up, piece_text
from extractor.segment.sections import Outline, open_causes, read_head, segment_report

ACH, PROB, PLAN, CAUSE = SectionKind.ACHIEVEMENTS, SectionKind.PROBLEMS, SectionKind.PLANS, SectionKind.CAUSES
HEAD = (
    "某乡2024年法治政府建设情况报告\n\n"
    "一、主要成效\n\n"
    "（一）强化依法行政。全年审查规范性文件12件，备案审查率达到100%。\n\n"
    "（二）深化法治宣传。开展普法活动30场，发放宣传资料5000余份。\n\n"
)
PROBLEMS = "二、存在问题\n\n一是经费保障不足，基层普法阵地建设滞后。\n\n"
WRAP_UP = (
    "新的一年，我乡将在县委县政府的坚强领导下，锐意进取、担当作为，为建设更高水平的法治乡村作出新的更大贡献。"
)


def segment(text: str) -> SegmentedReport:
    return segment_report(SourceDocument(doc_id="spec", path="spec.txt", text=text))


def points(text: str, kind: SectionKind) -> list[str]:
    found = segment(text)
    return [text[p.span.start : p.span.end] for p in found.points_of(kind)]


def whole(text: str) -> ParagraphSlice:
    return ParagraphSlice(Paragraph(text, tuple(range(len(text)))), 0, len(text))


# --- circled numbers are not enumeration -------------------------------------------------


def test_circled_sub_points_on_lines_of_their_own_stay_in_their_shi_point() -> None:
    text = (
        HEAD
        + PROBLEMS
        + "三、下一步打算\n\n"
        + "一是加强队伍建设，全面提升执法人员的履职能力。\n\n"
        + "①加强政治理论学习。\n\n②完善业务培训制度。\n\n③健全考核评价机制。\n\n"
        + "二是深化普法宣传，全年开展主题活动不少于20场。\n"
    )
    assert points(text, PLAN) == [
        "一是加强队伍建设，全面提升执法人员的履职能力。\n\n①加强政治理论学习。\n\n②完善业务培训制度。\n\n③健全考核评价机制。",
        "二是深化普法宣传，全年开展主题活动不少于20场。",
    ]


def test_a_numbered_point_keeps_its_circled_sub_points() -> None:
    slices = [
        whole("1.规范执法行为。全面推行行政执法三项制度。"),
        whole("①严格执法公示。"),
        whole("②规范执法记录。"),
        whole("2.加强执法监督。开展案卷评查两轮。"),
    ]
    tokens = find_tokens(slices)
    assert [t.marker for t in tokens] == ["1.", "2."]
    pieces = leaf_pieces(slices, tokens, context=[])
    assert [piece_text(p, slices) for p in pieces] == [
        "1.规范执法行为。全面推行行政执法三项制度。①严格执法公示。②规范执法记录。",
        "2.加强执法监督。开展案卷评查两轮。",
    ]


def test_circled_paragraphs_under_a_heading_with_no_markers_are_one_item_each() -> None:
    slices = [whole("（一）完善制度体系"), whole("①修订执法程序规定。"), whole("②健全法律顾问制度。")]
    tokens = find_tokens(slices)
    assert [t.marker for t in tokens] == ["（一）"]
    pieces = leaf_pieces(slices, tokens, context=["下一步打算"])
    assert [piece_text(p, slices) for p in pieces] == ["①修订执法程序规定。", "②健全法律顾问制度。"]
    assert all(p.marker is None for p in pieces)


# --- problems stated only as heading lines, then a shared block of causes ------------------

BARE_PROBLEMS = (
    "二、存在的问题\n\n"
    "（一）法治宣传教育机制不够完善\n\n"
    "（二）执法人员专业素质有待提高\n\n"
    "（三）基层法治工作力量较为薄弱\n\n"
    "产生上述问题的原因，主要是对法治建设重视程度不够，经费投入不足，专业人才引进困难。\n\n"
    "三、下一步工作计划\n\n"
    "（一）完善普法机制。建立普法责任清单。\n\n"
    "（二）加强队伍建设。开展执法培训两期。\n"
)


def test_bare_heading_problems_are_items_and_the_shared_causes_are_none() -> None:
    text = HEAD + BARE_PROBLEMS
    assert points(text, PROB) == [
        "（一）法治宣传教育机制不够完善",
        "（二）执法人员专业素质有待提高",
        "（三）基层法治工作力量较为薄弱",
    ]
    found = segment(text)
    causes = [text[p.span.start : p.span.end] for p in found.points_of(CAUSE)]
    assert causes == ["产生上述问题的原因，主要是对法治建设重视程度不够，经费投入不足，专业人才引进困难。"]
    assert len(found.points_of(PLAN)) == 2
    # The record: three problems with their heading line as evidence, no cause given to one.
    doc = SourceDocument(doc_id="spec", path="spec.txt", text=text)
    record = extract_with_rules(doc, found)
    assert [p.cause for p in record.problems] == [None, None, None]


@pytest.mark.parametrize("cue", ["究其原因，", "原因主要是", "产生这些问题的主要原因是"])
def test_a_causes_paragraph_after_a_bare_heading_opens_the_causes_block(cue: str) -> None:
    outline = Outline()
    outline.open(PROB, "存在问题", None, whole("（一）法治宣传教育机制不够完善"))
    para = whole(cue + "对法治建设重视不够，经费投入不足。").para
    assert open_causes(outline, para, read_head(para.text))
    assert [s.kind for s in outline.sections] == [PROB, CAUSE]


def test_a_cause_after_a_problems_own_text_stays_with_that_problem() -> None:
    outline = Outline()
    outline.open(PROB, "存在问题", None, whole("（一）执法力量不足。乡镇执法人员偏少。"))
    para = whole("究其原因，编制紧张，招录困难。").para
    assert not open_causes(outline, para, read_head(para.text))
    assert [s.kind for s in outline.sections] == [PROB]


# --- a closing wrap-up is not an item ----------------------------------------------------


def test_a_wrap_up_closing_a_duty_section_that_comes_last_is_no_item() -> None:
    text = (
        HEAD
        + PROBLEMS
        + "三、下一步打算\n\n（一）完善普法机制。建立普法责任清单。\n\n（二）加强队伍建设。开展执法培训。\n\n"
        + "四、党政主要负责人履行推进法治建设第一责任人职责情况\n\n"
        + "乡党委书记切实履行第一责任人职责，召开专题会议4次，研究部署法治建设工作。\n\n"
        + WRAP_UP
        + "\n"
    )
    found = segment(text)
    assert found.sections[-1].kind is ACH
    last = found.sections[-1].points
    assert [text[p.span.start : p.span.end] for p in last] == [
        "乡党委书记切实履行第一责任人职责，召开专题会议4次，研究部署法治建设工作。"
    ]


def test_a_wrap_up_after_the_plans_is_no_item_but_a_plan_looking_ahead_is() -> None:
    plans = (
        "三、下一步打算\n\n（一）完善普法机制。建立普法责任清单。\n\n（二）加强队伍建设。开展执法培训。\n\n"
    )
    text = HEAD + PROBLEMS + plans + WRAP_UP + "\n"
    assert points(text, PLAN) == [
        "（一）完善普法机制。建立普法责任清单。",
        "（二）加强队伍建设。开展执法培训。",
    ]
    plan = "新的一年，我乡将进一步充实基层执法力量，开展执法培训3期。"
    assert points(HEAD + PROBLEMS + plans + plan + "\n", PLAN)[-1] == plan


def test_a_wrap_up_is_no_part_of_the_last_points_evidence() -> None:
    # A 「一是」 heading line heads every paragraph up to the next point: not the wrap-up.
    plans = "三、下一步打算\n\n一是加强队伍建设\n\n开展执法培训两期。\n\n二是深化普法宣传\n\n开展主题活动20场。\n\n"
    assert points(HEAD + PROBLEMS + plans + WRAP_UP + "\n", PLAN) == [
        "开展执法培训两期。",
        "开展主题活动20场。",
    ]


@pytest.mark.parametrize(
    ("text", "wrap_up"),
    [
        (WRAP_UP, True),
        ("下一步，全乡上下将凝心聚力、攻坚克难，为奋力谱写法治建设新篇章而不懈奋斗。", True),
        ("2025年，我县司法行政系统将继续担当作为，为全县高质量发展提供坚强法治保障。", True),
        ("新的一年，我乡将进一步充实基层执法力量，开展执法培训3期。", False),  # a plan
        ("全年为群众提供法律服务保障200余次，作出了积极贡献。", False),  # work done, no look ahead
    ],
)
def test_is_wrap_up_needs_a_look_ahead_and_a_slogan_ending(text: str, wrap_up: bool) -> None:
    assert is_wrap_up(text) is wrap_up
