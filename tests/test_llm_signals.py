"""Signals the LLM path adds to its items for the reviewer (extract/llm/disagree.py)."""

from __future__ import annotations

from extractor.core.schema import Achievement, Area, FlagCode, Metric, Span
from extractor.extract.llm.disagree import flag_area_model, flag_intended_metrics, flag_repeated_metrics


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


def _codes(item: Achievement) -> set[FlagCode]:
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
