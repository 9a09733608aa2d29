"""The one check of a record against its source: alignment, value stated, metric in its item."""

from __future__ import annotations

from extractor.check import SourceIndex, check_item, check_record
from extractor.check.record import FindingKind, record_problems
from extractor.core.schema import Achievement, AlignmentStatus, Area, FlagCode, Metric, Plan, Record, Span

SOURCE = (
    "某县2024年法治政府建设报告\n"
    "一、主要成效\n"
    "（一）行政复议。2024年，我县受理行政复议案件37件，\n其中已结案31件。\n"
    "（二）普法宣传。开展普法活动１２０场，发放资料4万余份。\n"
    "二、下一步计划\n"
    "继续深化普法宣传教育，推进法治乡村建设。\n"
)
FIRST = "（一）行政复议。2024年，我县受理行政复议案件37件，\n其中已结案31件。"
SECOND = "（二）普法宣传。开展普法活动１２０场，发放资料4万余份。"


def achievement(evidence: str, *metrics: Metric) -> Achievement:
    return Achievement(area=Area.OTHER, text="x", evidence=evidence, metrics=list(metrics))


def metric(name: str, value: float, evidence: str) -> Metric:
    return Metric(name=name, value=value, unit="件", evidence=evidence)


def test_exact_evidence_gets_its_span_in_the_original_text_despite_width_and_line_breaks() -> None:
    # Half-width digits and no line break: still exact (NFKC, whitespace ignored).
    item = achievement("开展普法活动120场，发放资料4万余份。")
    check = check_item(item, SourceIndex(SOURCE))
    assert item.alignment is AlignmentStatus.EXACT and check.findings == ()
    assert (
        item.span is not None
        and SOURCE[item.span.start : item.span.end] == "开展普法活动１２０场，发放资料4万余份。"
    )
    assert check.flags() == []


def test_fuzzy_evidence_is_located_and_flagged() -> None:
    item = achievement("（一）行政复议。2024年，我县受理行政复议案件37件，其中己结案31件。")  # 已 → 己
    check = check_item(item, SourceIndex(SOURCE))
    assert item.alignment is AlignmentStatus.FUZZY and item.span is not None
    assert "行政复议案件37件" in SOURCE[item.span.start : item.span.end]
    assert [(f.code, f.detail) for f in check.flags()] == [
        (FlagCode.FUZZY_ALIGNMENT, "evidence only fuzzily aligned")
    ]


def test_evidence_not_in_the_source_is_kept_unaligned_and_flagged() -> None:
    record = Record(
        doc_id="x", plans=[Plan(area=Area.OTHER, text="x", evidence="建成全省首个智慧法治平台。")]
    )
    check_record(record, SOURCE)
    (plan,) = record.plans
    assert plan.span is None and plan.alignment is AlignmentStatus.NONE
    assert [(f.code, f.detail) for f in plan.flags] == [
        (FlagCode.UNALIGNED, "evidence not found in the source")
    ]


def test_a_span_that_still_holds_is_kept() -> None:
    start = SOURCE.index(SECOND)
    item = achievement(SECOND)
    item.span = Span(start=start, end=start + len(SECOND))
    check_item(item, SourceIndex(SOURCE))
    assert item.span == Span(start=start, end=start + len(SECOND))


def test_metric_value_stated_or_not() -> None:
    stated = metric("受理行政复议案件", 37, "受理行政复议案件37件")
    invented = metric("已结案", 38, "已结案31件")
    item = achievement(FIRST, stated, invented)
    check = check_item(item, SourceIndex(SOURCE))
    assert check.of_metric(0) == set() and check.of_metric(1) == {FindingKind.VALUE_NOT_STATED}
    assert stated.alignment is AlignmentStatus.EXACT and stated.span is not None
    assert SOURCE[stated.span.start : stated.span.end] == "受理行政复议案件37件"
    assert [(f.code, f.detail) for f in check.flags()] == [
        (FlagCode.METRIC_NOT_IN_EVIDENCE, "指标“已结案”的数值 38 未出现在其证据中")
    ]


def test_metric_outside_its_item_is_flagged_once() -> None:
    # Located in the source, but in another item; its value is not stated either: the
    # misplaced evidence is the one flag.
    elsewhere = metric("普法活动", 99, "开展普法活动１２０场")
    item = achievement(FIRST, elsewhere)
    check = check_item(item, SourceIndex(SOURCE))
    assert elsewhere.alignment is AlignmentStatus.EXACT
    assert check.of_metric(0) == {FindingKind.METRIC_OUTSIDE_ITEM, FindingKind.VALUE_NOT_STATED}
    (flag,) = check.flags()
    assert flag.code is FlagCode.METRIC_NOT_IN_EVIDENCE and "不在条目证据中" in flag.detail


def test_within_limits_the_search_to_a_section_but_spans_index_the_whole_source() -> None:
    index = SourceIndex(SOURCE)
    plans_start = SOURCE.index("二、下一步计划")
    outside = achievement(SECOND)
    check_item(outside, index, within=Span(start=plans_start, end=len(SOURCE)))
    assert outside.alignment is AlignmentStatus.NONE
    inside = achievement("推进法治乡村建设。")
    check_item(inside, index, within=Span(start=plans_start, end=len(SOURCE)))
    assert inside.span is not None and SOURCE[inside.span.start : inside.span.end] == "推进法治乡村建设。"


def test_record_problems_are_the_gold_rules() -> None:
    record = Record(
        doc_id="x",
        achievements=[
            achievement(FIRST, metric("受理", 37, "受理行政复议案件37件"), metric("结案", 30, "已结案31件")),
            achievement("（一）行政复议。2024年，我县受理行政复议案件37件，其中己结案31件。"),
        ],
    )
    before = record.model_dump()
    problems = [(p.path, p.reason) for p in record_problems(record, SOURCE)]
    assert problems[0] == (
        "achievements[0].metrics[1].value",
        "value 30 not stated in its evidence 「已结案31件」",
    )
    assert (
        problems[1][0] == "achievements[1].evidence" and "not verbatim" in problems[1][1]
    )  # fuzzy is not verbatim
    assert len(problems) == 2
    assert record.model_dump() == before  # judged, not changed
