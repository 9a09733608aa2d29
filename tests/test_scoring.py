"""The scorer on small hand-made reports: each test is one rule of the spec's "Scoring"."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from extractor.core.normalise import bigram_dice
from extractor.core.schema import Achievement, Area, Meta, Metric, Period, Plan, Problem, Record
from extractor.evaluation.matching import Pair, assign, span_weights
from extractor.evaluation.models import prf
from extractor.evaluation.scoring import aggregate, cause_correct, score_document

SOURCE = """蓝山县司法局2024年法治政府建设情况报告
一、主要成效
（一）行政复议。2024年，我县受理行政复议案件37件，其中，已结案31件，正在审理6件。
（二）普法宣传。全年开展普法活动120场，发放宣传资料4万余份，覆盖群众约8万人次。
（三）法律援助。办理法律援助案件210件，挽回经济损失340余万元，群众满意率达98％。
二、存在问题
一是执法队伍专业化建设不足。究其原因，编制少、培训少。
二是普法形式较为单一，群众参与度不高。
三、下一步计划
一是深化法治宣传教育，推进“八五”普法规划落地见效。
二是加强行政复议规范化建设，提升案件办理质量。
"""

EV_FUYI = "（一）行政复议。2024年，我县受理行政复议案件37件，其中，已结案31件，正在审理6件。"
EV_PUFA = "（二）普法宣传。全年开展普法活动120场，发放宣传资料4万余份，覆盖群众约8万人次。"
EV_YUANZHU = "（三）法律援助。办理法律援助案件210件，挽回经济损失340余万元，群众满意率达98％。"
EV_PROBLEM_1 = "一是执法队伍专业化建设不足。"
EV_PROBLEM_2 = "二是普法形式较为单一，群众参与度不高。"
EV_PLAN_1 = "一是深化法治宣传教育，推进“八五”普法规划落地见效。"
EV_PLAN_2 = "二是加强行政复议规范化建设，提升案件办理质量。"


def metric(name: str, value: float, unit: str, evidence: str) -> Metric:
    return Metric(name=name, value=value, unit=unit, evidence=evidence)


def gold_record() -> Record:
    return Record(
        doc_id="demo",
        meta=Meta(
            issuer="蓝山县司法局", region="蓝山县", report_year=2024, period=Period.ANNUAL, plan_year=2025
        ),
        achievements=[
            Achievement(
                area=Area.RECONSIDERATION,
                text="受理行政复议案件37件，已结案31件",
                evidence=EV_FUYI,
                metrics=[
                    metric("受理行政复议案件", 37, "件", "受理行政复议案件37件"),
                    metric("已结案", 31, "件", "已结案31件"),
                ],
            ),
            Achievement(
                area=Area.LEGAL_EDUCATION,
                text="开展普法活动120场，发放资料4万余份",
                evidence=EV_PUFA,
                metrics=[
                    metric("普法活动", 120, "场", "开展普法活动120场"),
                    metric("发放宣传资料", 40000, "份", "发放宣传资料4万余份"),
                ],
            ),
            Achievement(
                area=Area.LEGAL_SERVICES,
                text="办理法律援助案件210件",
                evidence=EV_YUANZHU,
                metrics=[
                    metric("法律援助案件", 210, "件", "办理法律援助案件210件"),
                    metric("群众满意率", 98, "%", "群众满意率达98％"),
                ],
            ),
        ],
        problems=[
            Problem(
                area=Area.GRASSROOTS,
                text="执法队伍专业化建设不足",
                evidence=EV_PROBLEM_1,
                cause="编制少、培训少",
            ),
            Problem(area=Area.LEGAL_EDUCATION, text="普法形式单一", evidence=EV_PROBLEM_2, cause=None),
        ],
        plans=[
            Plan(area=Area.LEGAL_EDUCATION, text="深化法治宣传教育", evidence=EV_PLAN_1),
            Plan(area=Area.RECONSIDERATION, text="加强行政复议规范化建设", evidence=EV_PLAN_2),
        ],
    )


def test_perfect_prediction_scores_one_everywhere() -> None:
    gold = gold_record()
    score = score_document(gold.model_copy(deep=True), gold, SOURCE)
    figures = score.figures()
    quality = {name: value for name, value in figures.items() if not name.startswith("flag_")}
    assert quality == {name: 1.0 for name in quality}
    # Nothing is wrong and nothing is flagged: no flag precision or recall to measure.
    assert (score.flags.wrong, score.flags.flagged, figures["flag_rate"]) == (0, 0, 0.0)
    assert (score.misses, score.false_positives, score.area_errors, score.meta_mismatches) == ([], [], [], [])
    assert score.metrics.tp == 6


def test_empty_prediction_scores_zero_recall_and_f1() -> None:
    gold = gold_record()
    score = score_document(Record(doc_id="demo"), gold, SOURCE)
    for list_score in score.lists():
        assert (list_score.recall, list_score.f1) == (0.0, 0.0)
    assert (score.metrics.recall, score.metrics.f1) == (0.0, 0.0)
    assert len(score.misses) == 7  # every gold item listed as a miss
    assert score.area_accuracy is None  # nothing matched: not measurable, not "perfect"
    assert score.grounding.total == 0


def test_split_item_is_one_true_positive_and_one_false_positive() -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    first, second = EV_PUFA.split("，发放")
    pred.achievements[1] = Achievement(area=Area.LEGAL_EDUCATION, text="普法活动", evidence=first)
    pred.achievements.insert(
        2, Achievement(area=Area.LEGAL_EDUCATION, text="宣传资料", evidence="发放" + second)
    )
    score = score_document(pred, gold, SOURCE)
    assert (score.achievements.tp, score.achievements.fp, score.achievements.fn) == (3, 1, 0)
    assert [n.evidence for n in score.false_positives] in (["发放" + second], [first])


def test_merged_item_is_one_true_positive_and_one_false_negative() -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    merged = Achievement(area=Area.RECONSIDERATION, text="复议与普法", evidence=EV_FUYI + "\n" + EV_PUFA)
    pred.achievements[:2] = [merged]
    score = score_document(pred, gold, SOURCE)
    assert (score.achievements.tp, score.achievements.fp, score.achievements.fn) == (2, 0, 1)
    assert len(score.misses) == 1 and score.misses[0].list_name == "achievements"


def test_quote_not_in_document_is_ungrounded_and_matched_by_text_similarity() -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    paraphrase = "我县今年共受理复议案件三十七件，结案三十一件。"  # not verbatim
    pred.achievements[0].evidence = paraphrase
    pred.achievements[0].metrics = []
    score = score_document(pred, gold, SOURCE)
    assert score.achievements.tp == 3  # same `text`, so the fallback still matches it
    assert score.ungrounded == [paraphrase]
    assert score.grounding.total == 3 + 2 + 2 + 4  # items of the three lists + remaining metrics
    assert score.grounding.share == pytest.approx(10 / 11)
    assert score.false_positives == []


def test_unlocated_quote_with_dissimilar_text_does_not_match() -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    pred.plans[1] = Plan(
        area=Area.RECONSIDERATION, text="完善考核机制", evidence="建立健全年度考核评价体系。"
    )
    score = score_document(pred, gold, SOURCE)
    assert (score.plans.tp, score.plans.fp, score.plans.fn) == (1, 1, 1)
    assert score.false_positives[0].located is False


GOLD_METRIC = metric("受理行政复议案件", 37, "件", "受理行政复议案件37件")


@pytest.mark.parametrize(
    ("pred_metric", "matches"),
    [
        pytest.param(GOLD_METRIC, True, id="identical"),
        pytest.param(metric("受理行政复议案件", 37, "人", "受理行政复议案件37件"), False, id="wrong-unit"),
        pytest.param(metric("受理行政复议案件", 38, "件", "受理行政复议案件37件"), False, id="wrong-value"),
        pytest.param(
            metric("受理行政复议案件", 37.00000001, "件", "受理行政复议案件37件"), True, id="float-tolerance"
        ),
        pytest.param(
            metric("复议收案", 37, "件", "我县受理行政复议案件37件"),
            True,
            id="other-name-overlapping-evidence",
        ),
        pytest.param(
            metric("受理行政复议案件数", 37, "件", "全年复议37件"), True, id="similar-name-unlocated"
        ),
        pytest.param(metric("办案", 37, "件", "全年复议37件"), False, id="other-name-unlocated"),
    ],
)
def test_metric_matching(pred_metric: Metric, matches: bool) -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    pred.achievements[0].metrics[0] = pred_metric
    score = score_document(pred, gold, SOURCE)
    assert score.metrics.tp == (6 if matches else 5)
    assert len(score.metric_misses) == (0 if matches else 1)


def test_percent_unit_matches_across_full_and_half_width() -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    pred.achievements[2].metrics[1] = metric("群众满意率", 98, "％", "群众满意率达98%")
    assert score_document(pred, gold, SOURCE).metrics.f1 == 1.0


def test_wrong_area_lowers_only_area_accuracy() -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    pred.achievements[0].area = Area.ENFORCEMENT
    score = score_document(pred, gold, SOURCE)
    assert score.achievements.f1 == 1.0
    assert score.achievements.area_accuracy == pytest.approx(2 / 3)
    assert score.achievements.text_similarity == 1.0
    assert [(e.gold_area, e.pred_area) for e in score.area_errors] == [("行政复议与应诉", "行政执法与监督")]


@pytest.mark.parametrize(
    ("gold_cause", "pred_cause", "correct"),
    [
        (None, None, True),
        ("编制少、培训少", None, False),
        (None, "编制少、培训少", False),
        ("编制少、培训少", "编制少，培训少", True),
        ("编制少、培训少", "经费保障不到位", False),
        (None, "  ", True),  # blank is no cause
    ],
)
def test_cause_correct(gold_cause: str | None, pred_cause: str | None, correct: bool) -> None:
    assert cause_correct(pred_cause, gold_cause) is correct


def test_cause_accuracy_counts_matched_problems() -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    pred.problems[0].cause = None  # gold has a cause: wrong
    pred.problems[1].cause = None  # both null: right
    score = score_document(pred, gold, SOURCE)
    assert score.problems.cause_accuracy == 0.5
    assert score.problems.f1 == 1.0
    assert [e.gold_cause for e in score.cause_errors] == ["编制少、培训少"]


def test_half_width_punctuation_and_line_breaks_in_evidence_still_match() -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    pred.achievements[
        0
    ].evidence = "(一)行政复议。2024年,我县受理行政复议案件37件,\n其中,已结案31件,正在审理6件。"
    pred.achievements[0].metrics[0].evidence = "受理行政复议案件 37 件"
    score = score_document(pred, gold, SOURCE)
    assert score.achievements.f1 == 1.0
    assert score.metrics.f1 == 1.0
    assert score.grounding.share == 1.0


@pytest.mark.parametrize(
    ("field", "pred_value"),
    [
        ("issuer", "蓝山县人民政府"),
        ("region", "永州市"),
        ("report_year", 2023),
        ("period", Period.HALF_YEAR),
        ("plan_year", 2024),
        ("publish_date", dt.date(2025, 1, 20)),
    ],
)
def test_meta_is_scored_per_field(field: str, pred_value: object) -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    setattr(pred.meta, field, pred_value)
    score = score_document(pred, gold, SOURCE)
    accuracy = score.meta.field_accuracy
    assert accuracy[field] == 0.0
    assert all(value == 1.0 for name, value in accuracy.items() if name != field)
    assert score.meta.accuracy == pytest.approx(5 / 6)
    assert [m.field for m in score.meta_mismatches] == [field]


def test_meta_compares_after_nfkc_and_strip() -> None:
    gold = gold_record()
    pred = gold.model_copy(deep=True)
    pred.meta.issuer = " 蓝山县司法局\n"
    assert score_document(pred, gold, SOURCE).meta.accuracy == 1.0


def test_aggregate_is_micro_averaged() -> None:
    gold = gold_record()
    perfect = score_document(gold.model_copy(deep=True), gold, SOURCE)
    empty = score_document(Record(doc_id="demo"), gold, SOURCE)
    overall = aggregate([perfect, empty])
    assert overall.documents == 2
    assert (overall.achievements.tp, overall.achievements.fn) == (3, 3)
    assert overall.achievements.recall == 0.5
    assert overall.achievements.precision == 1.0
    assert overall.achievements.f1 == pytest.approx(2 / 3)  # not the mean of 1.0 and 0.0
    assert overall.meta.accuracy == pytest.approx(
        (6 + 1) / 12
    )  # the empty record's null publish_date is right
    assert overall.grounding.share == 1.0  # all 11 passages of the perfect document


def test_aggregate_of_nothing_does_not_divide_by_zero() -> None:
    overall = aggregate([])
    assert overall.documents == 0
    assert overall.achievements.f1 == 1.0
    assert overall.grounding.share is None


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((0, 0, 0), (1.0, 1.0, 1.0)),
        ((0, 0, 3), (0.0, 0.0, 0.0)),
        ((0, 2, 0), (0.0, 0.0, 0.0)),
        ((1, 1, 0), (0.5, 1.0, 2 / 3)),
        ((3, 1, 2), (0.75, 0.6, 2 * 0.75 * 0.6 / 1.35)),
    ],
)
def test_prf(counts: tuple[int, int, int], expected: tuple[float, float, float]) -> None:
    assert prf(*counts) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("行政复议", "行政复议", 1.0),
        ("", "", 1.0),
        ("", "行政复议", 0.0),
        ("（一）复议", "(一)复议", 1.0),
        ("行政复议", "行政诉讼", 2 * 1 / 6),
        ("件", "件", 1.0),
    ],
)
def test_bigram_dice(a: str, b: str, expected: float) -> None:
    assert bigram_dice(a, b) == pytest.approx(expected)


NAN = float("nan")


def test_assignment_prefers_more_matches_over_one_high_iou_pair() -> None:
    # pred 0 fits gold 0 best (0.9) but also gold 1 (0.3); pred 1 fits only gold 0 (0.35).
    # The single best pair would leave a match on the table; the assignment takes both.
    pairs = assign(np.array([[0.9, 0.3], [0.35, NAN]]))
    assert {(p.pred, p.gold) for p in pairs} == {(0, 1), (1, 0)}


def test_assignment_maximises_iou_among_equal_sized_matchings() -> None:
    pairs = assign(np.array([[0.2, 0.9], [0.8, 0.3]]))
    assert [(p.pred, p.gold, p.weight) for p in pairs] == [(1, 0, 0.8), (0, 1, 0.9)]


def test_assignment_never_returns_an_ineligible_pair() -> None:
    assert assign(np.array([[NAN, NAN], [NAN, 0.6]])) == [Pair(1, 1, 0.6)]
    assert assign(np.full((2, 3), NAN)) == []
    assert assign(np.zeros((0, 3))) == []


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ((0, 10), (0, 10), 1.0),
        ((0, 10), (6, 26), None),  # 4 shared < half of the shorter (10)
        ((0, 10), (5, 15), 5 / 15),  # 5 shared = half of the shorter: eligible
        ((0, 4), (0, 20), 4 / 20),  # contained short span: eligible, low IoU
        ((0, 10), (10, 20), None),  # touching, no overlap
        (None, (0, 10), None),  # unlocated: left to the text fallback
    ],
)
def test_span_weights(pred: tuple[int, int] | None, gold: tuple[int, int], expected: float | None) -> None:
    weight = span_weights([pred], [gold])[0, 0]
    if expected is None:
        assert np.isnan(weight)
    else:
        assert weight == pytest.approx(expected)
