"""Signals the LLM path adds to its items for the reviewer (extract/llm/disagree.py)."""

from __future__ import annotations

from extractor.core.schema import Achievement, Area, FlagCode, ListName, Metric, Problem, Span
from extractor.extract.llm.chunks import Chunk
from extractor.extract.llm.disagree import (
    flag_area_model,
    flag_intended_metrics,
    flag_repeated_metrics,
    flag_set_counts,
    flag_unused_cause_block,
)


def _achievement(evidence: str, metrics: list[tuple[float, str, str]], start: int = 0) -> Achievement:
    return Achievement(
        area=Area.LEADERSHIP,
        text="x",
        evidence=evidence,
        span=Span(start=start, end=start + len(evidence)),
        metrics=[
            Metric(name=name, value=value, unit=unit, evidence=evidence) for value, unit, name in metrics
        ],
    )


def _codes(item: Achievement | Problem) -> set[FlagCode]:
    return {flag.code for flag in item.flags}


def test_a_count_restated_from_an_earlier_item_is_flagged_once_counted() -> None:
    first = _achievement("将57项重点任务分解至31个区直部门和9个街道", [(57, "项", "任务"), (9, "个", "街道")])
    second = _achievement("组织9个街道党工委书记现场述法", [(9, "个", "街道党工委书记")], start=100)
    flag_repeated_metrics([first, second])
    assert FlagCode.METRIC_REPEATED not in _codes(first)
    assert FlagCode.METRIC_REPEATED in _codes(second)


def test_a_rate_restated_for_another_thing_is_not_a_repeat() -> None:
    first = _achievement("参考率达100%，", [(100, "%", "参考率")])
    second = _achievement("覆盖率达100%，实现全覆盖", [(100, "%", "覆盖率")], start=50)
    flag_repeated_metrics([first, second])
    assert FlagCode.METRIC_REPEATED not in _codes(second)


def test_a_metric_stated_as_an_intention_is_flagged() -> None:
    planned = _achievement("第二批次拟创建5个五星规范化司法所", [(5, "个", "五星规范化司法所")])
    done = _achievement("第一批7个五星规范化司法所通过验收", [(7, "个", "五星规范化司法所")])
    flag_intended_metrics([planned, done])
    assert FlagCode.METRIC_INTENDED in _codes(planned)
    assert FlagCode.METRIC_INTENDED not in _codes(done)


def test_the_area_classifier_flags_an_area_it_reads_otherwise() -> None:
    evidence = "全年受理法律援助案件120件，为困难群众挽回经济损失30万元，法律援助覆盖率100%"
    wrong = _achievement(evidence, [])
    wrong.area = Area.RECONSIDERATION
    right = _achievement(evidence, [])
    right.area = Area.LEGAL_SERVICES
    flag_area_model([wrong, right])
    assert FlagCode.AREA_MODEL_DISAGREES in _codes(wrong)
    assert FlagCode.AREA_MODEL_DISAGREES not in _codes(right)


def test_a_count_restated_before_a_bracket_is_still_a_repeat() -> None:
    first = _achievement("将22项任务落实到14个村（社区）", [(14, "个", "村（社区）")])
    second = _achievement("实现14个村（社区）全覆盖", [(14, "个", "村（社区）")], start=100)
    third = _achievement("建成14个（社区）服务站", [(14, "个", "服务站")], start=200)
    flag_repeated_metrics([first, second, third])
    assert FlagCode.METRIC_REPEATED in _codes(second)
    assert FlagCode.METRIC_REPEATED not in _codes(third)  # nothing named right after the unit


def test_a_count_of_aspects_is_flagged_but_the_count_it_groups_is_not() -> None:
    evidence = "针对巡察组反馈的4个方面12个突出问题逐项整改"
    sets = _achievement(evidence, [(4, "个", "方面"), (12, "个", "突出问题")])
    problems_only = _achievement(evidence, [(12, "个", "突出问题")])
    measures = _achievement("出台三项举措", [(3, "项", "举措")])
    flag_set_counts([sets, problems_only, measures])
    assert FlagCode.METRIC_COUNTS_A_SET in _codes(sets)
    assert FlagCode.METRIC_COUNTS_A_SET not in _codes(problems_only)
    assert FlagCode.METRIC_COUNTS_A_SET in _codes(measures)
    assert "4个方面" in next(f.detail for f in sets.flags if f.code is FlagCode.METRIC_COUNTS_A_SET)


def _problems_chunk(causes_text: str) -> Chunk:
    return Chunk(
        list_name=ListName.PROBLEMS,
        heading="存在的不足",
        bounds=Span(start=0, end=100),
        passages=(),
        rendered="",
        part=1,
        parts=1,
        causes_text=causes_text,
    )


def _problem(cause: str | None) -> Problem:
    return Problem(area=Area.OTHER, text="执法力量薄弱", evidence="执法力量薄弱", cause=cause)


def test_problems_are_flagged_when_their_cause_block_was_given_to_none_of_them() -> None:
    block = "产生问题的原因：一是认识不到位。二是人才储备不足。"
    unused = [_problem(None), _problem(" ")]
    flag_unused_cause_block(unused, _problems_chunk(block))
    assert all(FlagCode.CAUSE_BLOCK_UNUSED in _codes(p) for p in unused)
    used = [_problem("认识不到位"), _problem(None)]
    flag_unused_cause_block(used, _problems_chunk(block))
    assert not any(FlagCode.CAUSE_BLOCK_UNUSED in _codes(p) for p in used)
    no_block = [_problem(None)]
    flag_unused_cause_block(no_block, _problems_chunk(""))
    assert FlagCode.CAUSE_BLOCK_UNUSED not in _codes(no_block[0])
