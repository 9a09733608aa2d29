"""The segmenter's steps, each on a small hand-written input that shows what it is for.

The whole-report behaviour is held by test_segment.py and test_variants.py; these pin down
the single decisions the walk over a report's paragraphs is made of.
"""

from __future__ import annotations

import pytest

from extractor.load.chrome import is_chrome_line, is_web_chrome_line
from extractor.segment.enumeration import ParagraphSlice, find_tokens, leaf_pieces
from extractor.segment.model import SectionKind
from extractor.segment.paragraphs import Paragraph, split_paragraphs
from extractor.segment.points import (
    CAUSE_IN_POINT,
    DraftSection,
    close_section,
    continues_point,
    drop_closing_remarks,
    piece_text,
    without_introduction,
)
from extractor.segment.sections import (
    Outline,
    heading_section_kind,
    is_signature,
    open_at_plans_heading_inside,
    open_at_plans_intro,
    open_at_problems_passage,
    open_at_run_in_label,
    open_causes,
    place_paragraph,
    read_head,
    report_body,
    reported_work_before_headings,
    split_off_shortfall,
    without_contents,
    without_profiles,
)

ACH, PROB, PLAN, CAUSE = SectionKind.ACHIEVEMENTS, SectionKind.PROBLEMS, SectionKind.PLANS, SectionKind.CAUSES
LONG_WORK = "全年共办理行政复议案件一百二十件，依法纠正违法或不当行政行为八件，行政复议纠错率保持在合理区间，群众满意度明显提升。"


def para(text: str, at: int = 0) -> Paragraph:
    """A paragraph whose text starts at offset `at` of the original text, unchanged."""
    return Paragraph(text, tuple(range(at, at + len(text))))


def whole(text: str) -> ParagraphSlice:
    return ParagraphSlice(para(text), 0, len(text))


def outline_with(kind: SectionKind | None, heading: str = "", *texts: str) -> Outline:
    outline = Outline()
    if kind is not None:
        outline.open(kind, heading, None)
        outline.sections[-1].slices += [whole(t) for t in texts]
    return outline


def placed(outline: Outline) -> list[tuple[SectionKind, str, list[str]]]:
    return [(s.kind, s.heading, [c.text for c in s.slices]) for s in outline.sections]


# --- the report body --------------------------------------------------------------------


def test_without_contents_drops_the_table_of_contents_only() -> None:
    paragraphs = [
        para(t) for t in ["XX县2024年法治政府建设工作报告", "目 录", "一、主要成效", "二、存在问题"]
    ]
    paragraphs.append(para("一、主要成效"))
    paragraphs.append(para(LONG_WORK))
    assert [p.text for p in without_contents(paragraphs)] == ["XX县2024年法治政府建设工作报告", LONG_WORK]
    no_contents = [para("一、主要成效"), para(LONG_WORK)]
    assert without_contents(no_contents) == no_contents


def test_is_signature_knows_dates_and_issuers_not_sentences() -> None:
    assert is_signature("2025年1月20日")
    assert is_signature("和平县司法局")
    assert not is_signature("全年办理案件120件。")


def test_report_body_sets_aside_end_matter_and_signature() -> None:
    texts = ["和平县司法局2024年法治政府建设工作报告", "一、主要成效", LONG_WORK, LONG_WORK]
    texts += [
        "和平县司法局",
        "2025年1月20日",
        "抄送：县委办，县政府办。",
        "和平县司法局办公室2025年1月20日印发",
    ]
    body, head_lines, tail_lines = report_body([para(t) for t in texts])
    assert [p.text for p in body] == texts[:4]
    assert head_lines == texts[:8]
    assert tail_lines == texts[-4:]  # the signature stays available for the metadata


@pytest.mark.parametrize(
    ("line", "ends_body"),
    [
        ("抄送：县委办，县政府办。", True),
        ("主送:市司法局", True),
        ("附件：1.工作台账", True),
        ("附 件", True),
        ("（此件公开发布）", True),
        ("特此报告。", True),
        ("联系人：张三", True),
        ("（联系人：张三，联系电话：1234567）", True),
        ("县司法局办公室2025年1月20日印发", True),
        ("我局联系电话：1234567", True),
        # The forms that open a line say nothing in the middle of one.
        ("全年共抄送：各乡镇文件12份，特此报告了进展情况，落实联系人制度。", False),
        ("印发文件二十件，推进依法行政。", False),
    ],
)
def test_report_body_ends_at_each_form_of_end_matter(line: str, ends_body: bool) -> None:
    texts = ["一、主要成效", LONG_WORK, LONG_WORK, line, LONG_WORK]
    body, _, _ = report_body([para(t) for t in texts])
    assert [p.text for p in body] == (texts[:3] if ends_body else texts)


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("整改不到位。究其原因，一是认识不足。", [6]),
        ("原因：人员不足", [0]),
        ("2.原因：人员不足", [2]),
        ("查找原因：人员不足", []),  # 原因： after a word is no label
        ("。这是主观原因造成的", [1]),
        ("这是主观原因造成的", []),  # 这是… counts only after a sentence ends
        ("，这是主观原因造成的", []),
        ("经费不足；其主要是由于投入少。", [5]),
        ("其主要是由于投入少", []),
        ("人员不足。之所以如此，在于编制少。", [5]),
        ("出现这些问题的主要原因在于", [0]),
        ("深入分析其原因，主要是", [2]),
        ("从根本上看，", [0]),
    ],
)
def test_cause_wordings_and_where_they_start(text: str, starts: list[int]) -> None:
    assert [m.start() for m in CAUSE_IN_POINT.finditer(text)] == starts


# --- how a paragraph opens --------------------------------------------------------------


def test_read_head_separates_marker_heading_and_body() -> None:
    head = read_head("（二）加强执法监督。全年开展执法检查12次。")
    assert (head.marker_kind, head.heading, head.standalone) == ("pcn", "加强执法监督", False)
    assert head.body_start == len("（二）")
    head = read_head("三、存在的问题")
    assert (head.marker_kind, head.heading, head.standalone) == ("cn", "存在的问题", True)
    assert read_head(LONG_WORK).marker_kind is None


@pytest.mark.parametrize(
    ("text", "open_kind", "expected"),
    [
        ("三、存在的问题", ACH, PROB),
        ("四、下一步工作计划", PROB, PLAN),
        ("存在问题和不足", ACH, PROB),  # an unnumbered heading line
        ("一、机构基本情况", None, ACH),  # any top-level heading before the problems is work
        ("三、其他事项", PROB, None),  # ... but not once the problems are open
        ("（二）执法力量不足", PROB, None),  # a sub-heading of the problems opens nothing
        ("（一）存在的主要问题", ACH, PROB),  # （一） as the report's top level
        ("（三）上年度问题整改情况", PROB, ACH),  # rectification reports work done
        ("产生问题的原因", PROB, CAUSE),
        ("产生问题的原因", None, PROB),  # causes with no problems before them state the problems
        ("（二）加强执法监督。全年开展执法检查12次。", ACH, None),  # a point, not a heading
    ],
)
def test_heading_section_kind(text: str, open_kind: SectionKind | None, expected: SectionKind | None) -> None:
    assert heading_section_kind(text, read_head(text), open_kind) is expected


def test_place_paragraph_keeps_the_title_out_and_opens_at_headings() -> None:
    outline = Outline()
    for text in ["XX县2024年法治政府建设工作报告", "一、主要成效", LONG_WORK, "二、存在问题：执法人员不足。"]:
        place_paragraph(outline, para(text))
    assert [c.text for c in outline.preamble] == ["XX县2024年法治政府建设工作报告"]
    assert placed(outline) == [(ACH, "主要成效", [LONG_WORK]), (PROB, "存在问题", ["执法人员不足。"])]


def test_place_paragraph_numbered_work_without_a_heading_is_achievements() -> None:
    outline = Outline()
    place_paragraph(outline, para("1.完善制度建设。" + LONG_WORK))
    assert placed(outline) == [(ACH, "", ["1.完善制度建设。" + LONG_WORK])]


# --- sections that open inside a paragraph -----------------------------------------------


def test_plans_heading_run_into_the_end_of_a_paragraph() -> None:
    text = "上半年工作圆满完成。下半年工作计划：一是加强学习；二是规范执法。"
    outline = outline_with(ACH, "主要成效")
    assert open_at_plans_heading_inside(outline, para(text), read_head(text))
    assert placed(outline)[-1] == (PLAN, "下半年工作计划", ["一是加强学习；二是规范执法。"])
    already = outline_with(PLAN, "下一步打算")
    assert not open_at_plans_heading_inside(already, para(text), read_head(text))


def test_plans_intro_opens_the_plans_after_problems_only() -> None:
    text = "2025年，我局将针对上述不足，重点做好以下工作：加强队伍建设。"
    outline = outline_with(PROB, "存在问题", "执法人员不足。")
    assert open_at_plans_intro(outline, para(text), read_head(text))
    assert placed(outline)[-1] == (PLAN, "2025年，我局将针对上述不足，重点做好以下工作", ["加强队伍建设。"])
    assert not open_at_plans_intro(Outline(), para(text), read_head(text))


def test_run_in_label_opens_problems_only_when_points_follow() -> None:
    with_points = "问题与不足：1.执法不够规范；2.培训不足。"
    outline = outline_with(ACH, "主要成效", LONG_WORK)
    assert open_at_run_in_label(outline, para(with_points), read_head(with_points))
    assert placed(outline)[-1] == (PROB, "问题与不足", ["1.执法不够规范；2.培训不足。"])
    no_points = "问题与不足：执法不够规范，培训不足。"
    assert not open_at_run_in_label(outline_with(ACH), para(no_points), read_head(no_points))
    plans = "下一步打算：继续加强执法监督。"
    outline = outline_with(PROB, "存在问题", "执法人员不足。")
    assert open_at_run_in_label(outline, para(plans), read_head(plans))
    assert placed(outline)[-1] == (PLAN, "下一步打算", ["继续加强执法监督。"])


def test_problems_passage_opens_unheaded_problems_after_work() -> None:
    text = "但仍存在一些短板弱项，主要是：一是执法人员不足；二是培训不够。"
    outline = outline_with(ACH, "主要成效", LONG_WORK)
    assert open_at_problems_passage(outline, para(text), read_head(text))
    assert placed(outline)[-1] == (PROB, "", [text])
    assert not open_at_problems_passage(outline_with(PLAN, "下一步打算"), para(text), read_head(text))


def test_shortfall_inside_work_is_a_problem_and_the_work_goes_on() -> None:
    text = "存在不足：部分执法人员业务能力不强。"
    outline = outline_with(ACH, "履行推进法治建设第一责任人职责情况", LONG_WORK)
    assert split_off_shortfall(outline, para(text), read_head(text))
    assert placed(outline)[1:] == [
        (PROB, "履行推进法治建设第一责任人职责情况", [text]),
        (ACH, "履行推进法治建设第一责任人职责情况", []),
    ]
    assert not split_off_shortfall(
        outline_with(ACH, "主要成效", LONG_WORK), para(LONG_WORK), read_head(LONG_WORK)
    )


def test_causes_block_or_a_problems_own_cause() -> None:
    heading = "产生问题的原因"
    outline = outline_with(PROB, "存在问题", "执法人员不足。")
    assert open_causes(outline, para(heading), read_head(heading))
    assert placed(outline)[-1] == (CAUSE, heading, [])
    own = "原因：编制有限。"
    outline = outline_with(PROB, "存在问题", "执法人员不足。")
    assert open_causes(outline, para(own), read_head(own))
    assert placed(outline) == [(PROB, "存在问题", ["执法人员不足。", own])]
    assert not open_causes(outline_with(ACH, "主要成效", LONG_WORK), para(heading), read_head(heading))


# --- after the walk ----------------------------------------------------------------------


def test_reported_work_before_headings_in_an_unheaded_report() -> None:
    outline = Outline(
        preamble=[whole("XX县2024年法治政府建设情况"), whole("现将有关情况报告如下："), whole(LONG_WORK)]
    )
    outline.open(PROB, "存在问题", None)
    work = reported_work_before_headings(outline)
    assert work is not None
    assert (work.kind, [c.text for c in work.slices]) == (ACH, [LONG_WORK])
    outline.open(ACH, "主要成效", None)
    assert reported_work_before_headings(outline) is None


def test_without_profiles_drops_a_profile_once_work_is_named() -> None:
    profile = DraftSection(ACH, "基本情况", None)
    work = DraftSection(ACH, "主要成效", None)
    problems = DraftSection(PROB, "存在问题", None)
    assert without_profiles([profile, work, problems]) == [work, problems]
    assert without_profiles([profile, problems]) == [profile, problems]


# --- closing a section into points -------------------------------------------------------


def test_without_introduction_drops_the_paragraphs_before_the_first_marker() -> None:
    slices = [whole("现将存在的问题报告如下："), whole("一是执法人员不足。"), whole("二是培训不够。")]
    tokens = find_tokens(slices)
    kept = without_introduction(slices, tokens)
    assert [c.text for c in kept] == ["一是执法人员不足。", "二是培训不够。"]
    assert [t.slice_index for t in tokens] == [0, 1]
    unnumbered = [whole("现将存在的问题报告如下："), whole(LONG_WORK)]
    assert [c.text for c in without_introduction(unnumbered, [])] == [LONG_WORK]


def test_drop_closing_remarks_after_the_last_point() -> None:
    slices = [whole("执法人员不足。"), whole("培训不够。"), whole("我们将认真研究，切实加以整改。")]
    pieces = leaf_pieces(slices, [], context=["存在问题"])
    kept = drop_closing_remarks(pieces, slices)
    assert [piece_text(p, slices) for p in kept] == ["执法人员不足。", "培训不够。"]


def test_a_point_runs_on_into_a_paragraph_that_continues_it() -> None:
    slices = [whole("一是执法人员不足。"), whole("同时，基层执法力量薄弱。"), whole("二是培训不够。")]
    pieces = leaf_pieces(slices, find_tokens(slices), context=[], continues=continues_point)
    assert [piece_text(p, slices) for p in pieces] == [
        "一是执法人员不足。同时，基层执法力量薄弱。",
        "二是培训不够。",
    ]
    # Without `continues`, an unmarked paragraph after a point is an item of its own.
    pieces = leaf_pieces(slices, find_tokens(slices), context=[])
    assert [piece_text(p, slices) for p in pieces] == [
        "一是执法人员不足。",
        "同时，基层执法力量薄弱。",
        "二是培训不够。",
    ]


def test_close_section_splits_a_problems_cause_off() -> None:
    problem = "一是执法人员不足，基层执法力量薄弱。原因分析：编制有限，招录困难。"
    section = close_section(
        DraftSection(PROB, "存在问题", None, [ParagraphSlice(para(problem, at=100), 0, len(problem))])
    )
    assert section is not None
    (point,) = section.points
    cause_at = 100 + problem.index("原因分析")
    assert (point.span.start, point.span.end) == (100, cause_at)
    assert point.cause_span is not None
    assert (point.cause_span.start, point.cause_span.end) == (cause_at, 100 + len(problem))
    assert point.context == ["存在问题"]


def test_close_section_drops_annotations_and_is_none_without_points() -> None:
    # 「整改措施：…」 annotates a problem: it is neither an item nor evidence.
    annotated = [whole("执法人员不足。"), whole("整改措施：加强培训。")]
    section = close_section(DraftSection(PROB, "存在问题", None, annotated))
    assert section is not None
    assert [p.span.end - p.span.start for p in section.points] == [len("执法人员不足。")]
    assert close_section(DraftSection(PROB, "存在问题", None, [whole("整改措施：加强培训。")])) is None


# --- paragraphs and chrome lines ---------------------------------------------------------


def test_split_paragraphs_drops_chrome_and_keeps_offsets() -> None:
    text = "首页 > 政务公开 > 法治政府\n来源：本网\n全年办理案件120件。\n— 3 —\n二、存在问题"
    paragraphs = split_paragraphs(text)
    assert [p.text for p in paragraphs] == ["全年办理案件120件。", "二、存在问题"]
    assert text[paragraphs[1].start : paragraphs[1].end] == "二、存在问题"


@pytest.mark.parametrize(
    ("line", "report_chrome", "web_chrome"),
    [
        ("来源：本网", True, True),
        ("【打印】【关闭】", True, True),
        ("大 中 小", False, True),  # a link line only a web page has
        ("— 3 —", True, False),  # a PDF's page footer
        ("第3页 共9页", True, False),
        ("首页 > 政务公开 > 法治政府建设", True, False),
        ("关于2023年法治政府建设情况的通知 2024-01-15", True, False),  # another article's entry
        ("全年办理行政复议案件120件。", False, False),
    ],
)
def test_chrome_lines_at_both_strengths(line: str, report_chrome: bool, web_chrome: bool) -> None:
    assert is_chrome_line(line) is report_chrome
    assert is_web_chrome_line(line) is web_chrome
