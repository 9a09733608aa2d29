"""Cross-report analysis over the hand-labelled reports of eval/analysis (no Streamlit, no store)."""

from __future__ import annotations

import pytest
from analysis_data import gold_records, labels, sourced

from extractor.analysis import analyse
from extractor.analysis.followthrough import follow_through, report_pairs
from extractor.analysis.indicator_table import mark_suspicious, summarise
from extractor.analysis.indicators import map_metric, map_metrics
from extractor.analysis.records import ItemRef, report_link, select_records
from extractor.analysis.themes import find_themes
from extractor.core.schema import Achievement, Area, ListName, Metric, Record


@pytest.fixture(scope="module")
def records():
    return sourced(gold_records())


def test_metrics_map_to_the_hand_labelled_indicators(records) -> None:
    expected = {(m["doc_id"], m["achievement"], m["metric"]): m["indicator"] for m in labels()["metrics"]}
    values = map_metrics(records)
    assert len(values) == len(expected)
    got = {(v.ref.doc_id, v.ref.index, v.metric_index): v.indicator for v in values}
    mapped = [k for k, v in got.items() if v is not None]
    correct = [k for k in mapped if got[k] == expected[k]]
    labelled = [k for k, v in expected.items() if v is not None]
    assert len(correct) / len(mapped) >= 0.95
    assert len(correct) / len(labelled) >= 0.85


def test_a_name_two_indicators_fit_equally_is_listed_not_guessed() -> None:
    # 办理 says neither 受理 nor 办结: the mapper must not pick one.
    indicator, _, candidates, reason = map_metric("办理行政复议案件", "件", Area.RECONSIDERATION)
    assert indicator is None
    assert reason == "多个指标难以区分"
    assert {c.indicator for c in candidates[:2]} == {"行政复议案件受理数", "行政复议案件办结数"}


def test_stage_and_outcome_words_must_agree() -> None:
    assert map_metric("撤回行政复议申请", "件", Area.RECONSIDERATION)[0] is None
    assert map_metric("办结行政复议申请", "件", Area.RECONSIDERATION)[0] == "行政复议案件办结数"
    assert map_metric("刑满释放人员重新犯罪率", "%", Area.CORRECTIONS)[0] is None


def test_a_rate_never_maps_to_a_count_indicator_and_back() -> None:
    assert map_metric("调解成功率", "件", Area.DISPUTES)[0] != "调解成功率"
    assert map_metric("调解纠纷", "%", Area.DISPUTES)[0] != "人民调解案件数"
    assert map_metric("调解成功率", "%", Area.DISPUTES)[0] == "调解成功率"


def _record(doc_id: str, region: str, metrics: list[tuple[str, float, str]], area: Area) -> Record:
    item = Achievement(
        area=area,
        text="……",
        evidence="……",
        metrics=[Metric(name=n, value=v, unit=u, evidence=f"{n}{v:g}{u}") for n, v, u in metrics],
    )
    return Record.model_validate(
        {"doc_id": doc_id, "meta": {"region": region, "issuer": f"{region}司法局", "report_year": 2024}}
    ).model_copy(update={"achievements": [item]})


def test_values_that_look_wrong_are_marked_with_the_reason() -> None:
    area = Area.LEGAL_SERVICES
    records = sourced(
        [
            _record("a", "甲县", [("办理法律援助案件", 300, "件")], area),
            _record("b", "乙县", [("办理法律援助案件", 320, "件")], area),
            _record("c", "丙县", [("办理法律援助案件", 280, "件")], area),
            _record("d", "丁县", [("办理法律援助案件", 31000, "件")], area),
            _record(
                "e",
                "戊县",
                [
                    ("村（社区）法律顾问覆盖率", 104, "%"),
                    ("办理法律援助案件", 290, "起"),
                    ("办理法律援助案件", 90, "人"),
                ],
                area,
            ),
        ]
    )
    values = map_metrics(records)
    mark_suspicious(values)
    by_doc = {(v.ref.doc_id, v.unit): v for v in values}
    assert any("中位数" in r for r in by_doc[("d", "件")].suspicious)
    assert any("超过100%" in r for r in by_doc[("e", "%")].suspicious)
    # 起 counts cases too, but the indicator is written in 件 / 宗: mapped and marked.
    assert by_doc[("e", "起")].indicator == "法律援助案件数"
    assert any("单位" in r for r in by_doc[("e", "起")].suspicious)
    # 人 counts people, never cases: not mapped at all.
    assert by_doc[("e", "人")].indicator is None
    assert not by_doc[("a", "件")].suspicious
    summary = next(s for s in summarise(values, records) if s.indicator.name == "法律援助案件数")
    # The outlier and the misfit unit are marked, and kept out of the median and range.
    assert (summary.median, summary.low, summary.high) == (300, 280, 320)


def test_indicator_table_gives_coverage_median_and_range_by_region_and_year(records) -> None:
    values = map_metrics(records)
    mark_suspicious(values)
    summary = next(s for s in summarise(values, records) if s.indicator.name == "行政机关负责人出庭应诉率")
    # Stated in 6 of the 8 region-years (白沙镇 reports none); median and range over those values.
    assert (summary.covered, summary.selected) == (6, 8)
    assert summary.median == 100 and summary.low == 96.2 and summary.high == 100
    assert [v.value for v in summary.by_region_year["青溪县"][2023]] == [96.2]
    value = summary.by_region_year["云岭区"][2023][0]
    assert value.evidence == "出庭率98%" and value.ref == ItemRef("yunling-2023", ListName.ACHIEVEMENTS, 3)


def test_problem_themes_group_reports_and_mark_recurring_problems(records) -> None:
    themes = find_themes(records)
    assert [t.representative for t in themes] == [t.representative for t in find_themes(records)]
    theme_of = {(p.ref.doc_id, p.ref.index): t for t in themes for p in t.problems}
    staff = theme_of[("qingxi-2023", 0)]
    assert staff is theme_of[("yunling-2023", 1)] and staff.report_count >= 3
    recurring = {
        (p.ref.doc_id, p.ref.index): p.recurs_from for t in themes for p in t.problems if p.recurs_from
    }
    assert recurring[("tongchuan-2024", 1)] == ItemRef("tongchuan-2023", ListName.PROBLEMS, 1)
    assert ("yunling-2024", 2) not in recurring  # 公众参与 is new in 2024
    assert all(p.source.year == 2024 for t in themes for p in t.recurring)


def test_plan_follow_through_agrees_with_the_hand_labels(records) -> None:
    expected = {(p["doc_id"], p["plan"]): p for p in labels()["plans"]}
    results = follow_through(records)
    assert len(results) == len(expected)  # 2024 plans have no 2025 report to check against
    agree = [r for r in results if r.verdict == expected[(r.match.ref.doc_id, r.match.ref.index)]["verdict"]]
    assert len(agree) / len(results) >= 0.85
    done = next(r for r in results if r.match.ref == ItemRef("qingxi-2023", ListName.PLANS, 4))
    assert done.verdict == "已落实" and done.match.matched_ref == ItemRef(
        "qingxi-2024", ListName.ACHIEVEMENTS, 5
    )
    missing = next(r for r in results if r.match.ref == ItemRef("yunling-2023", ListName.PLANS, 1))
    assert missing.verdict == "未见提及" and missing.shown_match is None


def test_follow_through_needs_the_same_issuer_in_the_next_year(records) -> None:
    only_2023 = select_records(records, years=[2023])
    assert report_pairs(only_2023) == []
    one_issuer = select_records(records, regions=["桐川县"])
    assert {r.match.source.region for r in follow_through(one_issuer)} == {"桐川县"}


def test_analyse_by_area_and_rates_per_issuer(records) -> None:
    result = analyse(records, status="approved", area=Area.RECONSIDERATION)
    assert result.summaries and all(s.indicator.area == Area.RECONSIDERATION for s in result.summaries)
    assert all(f.match.plan.area == Area.RECONSIDERATION for f in result.follow)
    full = analyse(records, status="approved")
    qingxi = next(r for r in full.rates if r.region == "青溪县")
    assert qingxi.plans == 5 and 0 < qingxi.done_rate <= qingxi.progress_rate <= 1
    assert "仅已通过审核" in full.caption and "8 份报告" in full.caption


def test_report_links_point_at_the_item() -> None:
    link = report_link(ItemRef("qingxi-2024", ListName.ACHIEVEMENTS, 2))
    assert link == "?report=qingxi-2024&list=achievements&item=2"


def test_a_peer_median_leaves_out_exactly_the_records_own_values() -> None:
    # The median of the other records' counts, as statistics.median gives it on the list
    # without this record's values (duplicates taken out once each, even and odd sizes).
    import random
    import statistics
    from bisect import bisect_left

    from extractor.analysis.indicator_table import _median_without

    rng = random.Random(3)
    for _ in range(3000):
        ordered = sorted(
            float(rng.choice([0.5, 1, 2, 2, 3, 8, 8, 8, 13, 100])) for _ in range(rng.randint(2, 12))
        )
        pool = list(ordered)
        removed = [pool.pop(rng.randrange(len(pool))) for _ in range(rng.randint(1, len(ordered) - 1))]
        others = list(ordered)
        for number in removed:
            del others[bisect_left(others, number)]
        assert _median_without(ordered, removed) == statistics.median(others), (ordered, removed)
