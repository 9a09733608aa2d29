"""Segmentation of each seed: the sections and leaf points a human labeller found."""

from __future__ import annotations

import json

import pytest
from conftest import DOCS, GOLD, SEED_IDS

from extractor.core.document import SourceDocument
from extractor.core.normalise import matching_key
from extractor.segment.model import SectionKind
from extractor.segment.sections import classify_heading, segment_report


def _segment(doc_id: str, text: str | None = None):
    text = text if text is not None else (DOCS / f"{doc_id}.txt").read_text(encoding="utf-8")
    return text, segment_report(SourceDocument(doc_id=doc_id, path=f"{doc_id}.txt", text=text))


@pytest.mark.parametrize("doc_id", SEED_IDS)
def test_leaf_points_match_the_labelled_items(doc_id: str) -> None:
    text, segmented = _segment(doc_id)
    gold = json.loads((GOLD / f"{doc_id}.json").read_text(encoding="utf-8"))
    for kind in (SectionKind.ACHIEVEMENTS, SectionKind.PROBLEMS, SectionKind.PLANS):
        points = segmented.points_of(kind)
        expected = gold[kind.value]
        assert len(points) == len(expected), f"{doc_id} {kind.value}"
        # Each labelled passage lies inside the point found at the same position.
        for point, item in zip(points, expected, strict=True):
            found = matching_key(text[point.span.start : point.span.end])
            assert matching_key(item["evidence"])[:20] in found


def test_problem_causes_are_split_from_their_problem() -> None:
    text, segmented = _segment("lushan-2023")
    problems = segmented.points_of(SectionKind.PROBLEMS)
    with_cause = [p for p in problems if p.cause_span is not None]
    assert len(with_cause) == 4
    for point in with_cause:
        assert "原因分析" not in text[point.span.start : point.span.end]
        assert text[point.cause_span.start : point.cause_span.end].startswith("原因分析")


def test_enumeration_inside_a_cause_stays_with_its_problem() -> None:
    text, segmented = _segment("heping-2024")
    problems = segmented.points_of(SectionKind.PROBLEMS)
    second = problems[1]
    assert "行政复议工作压力增大" in text[second.span.start : second.span.end]
    assert "一是公民法治意识" in text[second.cause_span.start : second.cause_span.end]


def test_half_year_plans_heading_run_into_a_paragraph() -> None:
    _, segmented = _segment("mayang-2022h1")
    plans = segmented.sections_of(SectionKind.PLANS)
    assert plans and "下半年" in plans[0].heading
    assert len(segmented.points_of(SectionKind.PLANS)) == 9


def test_first_responsible_person_section_gives_an_achievement_and_a_problem() -> None:
    text, segmented = _segment("lushan-2023")
    problems = [text[p.span.start : p.span.end] for p in segmented.points_of(SectionKind.PROBLEMS)]
    assert problems[-1].startswith("不足之处")
    achievements = [text[p.span.start : p.span.end] for p in segmented.points_of(SectionKind.ACHIEVEMENTS)]
    assert any(a.startswith("局党组高度重视法治工作") for a in achievements)


def test_closing_remarks_and_signatures_are_not_items() -> None:
    text, segmented = _segment("lushan-2023")
    plans = [text[p.span.start : p.span.end] for p in segmented.points_of(SectionKind.PLANS)]
    assert not any("查漏补缺" in p for p in plans)
    text, segmented = _segment("heping-2024")
    assert not any(
        "2025年2月5日" in text[p.span.start : p.span.end] for s in segmented.sections for p in s.points
    )


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("二、存在问题和不足", SectionKind.PROBLEMS),
        ("存在的不足和原因", SectionKind.PROBLEMS),
        ("短板弱项", SectionKind.PROBLEMS),
        ("困难和问题", SectionKind.PROBLEMS),
        ("存在问题和不足", SectionKind.PROBLEMS),
        ("下一步工作计划", SectionKind.PLANS),
        ("下阶段工作计划", SectionKind.PLANS),
        ("工作打算", SectionKind.PLANS),
        ("2025年工作安排", SectionKind.PLANS),
        ("下一步工作思路", SectionKind.PLANS),
        ("2025年工作重点", SectionKind.PLANS),
        ("2024年度法治政府建设的主要举措和成效", SectionKind.ACHIEVEMENTS),
        ("产生问题的原因", SectionKind.CAUSES),
        ("补齐短板弱项", None),
        ("坚持问题导向", None),
    ],
)
def test_heading_wordings(heading: str, kind: SectionKind | None) -> None:
    title = heading.split("、", 1)[-1]
    assert classify_heading(title) == kind


def test_unnumbered_lead_phrase_paragraphs_and_a_separate_cause_block() -> None:
    text = (
        "中共北湖乡委员会 北湖乡人民政府关于2024年法治政府建设情况的报告\n"
        "2024年，我乡坚持依法行政，现将有关情况报告如下：\n"
        "一、主要工作及成效\n"
        "强化统筹协调。乡党委履行法治建设第一责任人职责，召开专题会议4次。\n"
        "深化普法宣传。开展送法下乡二十场次，覆盖群众一万二千余人。创新“院坝”普法。组织法律明白人宣讲。\n"
        "化解矛盾纠纷。调解矛盾纠纷56件，调解成功率百分之九十五。\n"
        "二、存在的问题\n"
        "一是干部法治意识有待提高。二是法治宣传覆盖不够均衡。\n"
        "产生问题的原因：一是学习培训不够系统；二是宣传阵地较少。\n"
        "三、2025年工作打算\n"
        "（一）加强法治学习。组织干部学法4次。\n"
        "（二）深化矛盾纠纷排查化解。\n"
    )
    _, segmented = _segment("beihu-2024", text)
    achievements = segmented.points_of(SectionKind.ACHIEVEMENTS)
    assert len(achievements) == 3  # run-in lead phrases (创新“院坝”普法) do not split a paragraph
    assert len(segmented.points_of(SectionKind.PROBLEMS)) == 2
    assert len(segmented.points_of(SectionKind.CAUSES)) == 2
    plans = segmented.sections_of(SectionKind.PLANS)
    assert plans[0].year == 2025 and len(plans[0].points) == 2


def test_pdf_copied_text_keeps_points_and_drops_page_footers() -> None:
    original, plain = _segment("lanshan-2024")
    width = 34
    lines: list[str] = []
    for paragraph in original.split("\n"):
        paragraph = paragraph.strip()
        lines += [paragraph[i : i + width] for i in range(0, len(paragraph), width)] if paragraph else []
    wrapped = "\n".join(line if i % 30 != 29 else line + "\n— 2 —" for i, line in enumerate(lines))
    _, segmented = _segment("lanshan-2024", wrapped)
    for kind in (SectionKind.ACHIEVEMENTS, SectionKind.PROBLEMS, SectionKind.PLANS):
        assert len(segmented.points_of(kind)) == len(plain.points_of(kind)), kind


def _points(text: str, kind: SectionKind) -> list[str]:
    _, segmented = _segment("form", text)
    return [text[p.span.start : p.span.end] for p in segmented.points_of(kind)]


HEAD = "某县司法局2024年法治政府建设情况报告\n一、主要成效\n（一）强化依法行政。全年审查规范性文件12件。\n（二）深化普法。开展普法活动30场。\n"


def test_a_cause_paragraph_after_its_problem_is_that_problems_cause() -> None:
    text = (
        HEAD
        + "二、存在的不足\n（一）执法力量不足。乡镇执法人员偏少。\n原因：编制紧张，招录困难。\n（二）普法形式单一。\n原因：经费保障不足。\n三、下一步工作计划\n（一）充实执法力量。\n（二）创新普法形式。\n"
    )
    _, segmented = _segment("form", text)
    problems = segmented.points_of(SectionKind.PROBLEMS)
    assert [text[p.span.start : p.span.end] for p in problems] == [
        "（一）执法力量不足。乡镇执法人员偏少。",
        "（二）普法形式单一。",
    ]
    assert [text[p.cause_span.start : p.cause_span.end] for p in problems] == [
        "原因：编制紧张，招录困难。",
        "原因：经费保障不足。",
    ]


def test_run_in_section_labels_and_plans_intro() -> None:
    text = (
        HEAD
        + "问题与不足：1.统筹协调不够。2.基层力量薄弱。\n2025年，我局将重点抓好以下工作：一是加强统筹。二是充实力量。\n"
    )
    assert _points(text, SectionKind.PROBLEMS) == ["1.统筹协调不够。", "2.基层力量薄弱。"]
    assert _points(text, SectionKind.PLANS) == ["一是加强统筹。", "二是充实力量。"]


def test_circled_numbers_are_markers_and_attachments_end_the_body() -> None:
    text = (
        HEAD
        + "二、存在问题\n一是经费不足。\n三、下一步打算\n①加强学习。\n②完善制度。\n附件：1.统计表\n2.名单\n"
    )
    assert _points(text, SectionKind.PLANS) == ["①加强学习。", "②完善制度。"]


def test_an_unmarked_paragraph_after_a_point_is_its_own_item() -> None:
    text = HEAD.replace(
        "（二）深化普法。开展普法活动30场。\n",
        "（二）深化普法。开展普法活动30场。\n局党组书记切实履行第一责任人职责，召开专题会议4次。\n",
    )
    text += "二、存在问题\n一是经费不足。\n三、下一步打算\n一是加强学习。\n"
    assert (
        _points(text, SectionKind.ACHIEVEMENTS)[-1] == "局党组书记切实履行第一责任人职责，召开专题会议4次。"
    )
