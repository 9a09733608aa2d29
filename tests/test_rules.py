"""The offline rules backend on the seed reports: complete, grounded records."""

from __future__ import annotations

import pytest
from conftest import DOCS, SEED_IDS

from extractor.core.normalise import is_verbatim
from extractor.core.schema import Achievement, AlignmentStatus, ListName, Period, Record, Span
from extractor.extract.rules.backend import item_from_passage
from extractor.load import load_document
from extractor.pipeline.run import extract_document


@pytest.fixture(scope="module")
def records() -> dict[str, Record]:
    return {doc_id: extract_document(load_document(DOCS / f"{doc_id}.txt")) for doc_id in SEED_IDS}


@pytest.mark.parametrize("doc_id", SEED_IDS)
def test_every_record_has_all_three_lists_and_meta(records: dict[str, Record], doc_id: str) -> None:
    record = records[doc_id]
    assert record.achievements and record.problems and record.plans
    assert record.meta.issuer and record.meta.region and record.meta.report_year
    assert record.provenance is not None and record.provenance.backend == "rules"


@pytest.mark.parametrize("doc_id", SEED_IDS)
def test_every_evidence_passage_is_verbatim_and_located(records: dict[str, Record], doc_id: str) -> None:
    source = (DOCS / f"{doc_id}.txt").read_text(encoding="utf-8")
    for name in ListName:
        for item in records[doc_id].items(name):
            assert is_verbatim(item.evidence, source)
            assert item.alignment is AlignmentStatus.EXACT
            assert item.span is not None and source[item.span.start : item.span.end].strip() == item.evidence
            for metric in getattr(item, "metrics", []):
                assert is_verbatim(metric.evidence, source)
                assert metric.evidence in item.evidence


def test_half_year_report_meta(records: dict[str, Record]) -> None:
    meta = records["mayang-2022h1"].meta
    assert meta.period is Period.HALF_YEAR
    assert meta.report_year == 2022 and meta.plan_year == 2022
    assert str(meta.publish_date) == "2022-06-29"


def test_web_page_publish_date_and_named_plan_year(records: dict[str, Record]) -> None:
    assert str(records["heping-2024"].meta.publish_date) == "2025-02-05"
    assert records["hubin-2024"].meta.plan_year == 2024  # as written in the plans heading
    assert records["lanshan-2024"].meta.plan_year == 2025  # none named: report_year + 1


def test_metrics_have_values_units_and_no_years(records: dict[str, Record]) -> None:
    metrics = [m for a in records["lanshan-2024"].achievements for m in a.metrics]
    by_evidence = {(m.value, m.unit) for m in metrics}
    assert (37, "件") in by_evidence
    assert (40000, "份") in by_evidence  # 4万余份
    assert (80000, "元") in by_evidence  # 约8万元
    assert (86, "%") in by_evidence  # 86％
    assert not any(m.unit == "年" or m.value in (2024, 2025) for m in metrics)


def test_causes_are_attached_to_their_problems(records: dict[str, Record]) -> None:
    problems = records["lushan-2023"].problems
    assert [p.cause is not None for p in problems] == [True, True, True, True, False]
    assert problems[0].cause.startswith("思想上重视程度不够")
    assert "原因分析" not in problems[0].evidence


def test_a_passage_added_by_a_reviewer_gets_a_draft_item() -> None:
    source = (DOCS / "lanshan-2024.txt").read_text(encoding="utf-8")
    passage = "2024年，我县受理行政复议案件37件，其中，已结案31件，正在审理6件。"
    start = source.index(passage)
    item = item_from_passage(source, Span(start=start, end=start + len(passage)), "achievements")
    assert isinstance(item, Achievement)
    assert item.area.value == "行政复议与应诉"
    assert {(m.value, m.unit) for m in item.metrics} >= {(37, "件"), (31, "件")}


def test_signature_date_in_chinese_numerals_and_a_signature_issuer() -> None:
    from extractor.core.document import SourceDocument

    text = (
        "2024年上半年，我局坚持依法行政，推进法治政府建设，现将法治工作情况报告如下：\n"
        "一、工作成效\n（一）审查规范性文件12件。\n（二）开展普法活动30场。\n"
        "二、存在问题\n一是力量不足。\n三、下半年工作计划\n一是加强学习。\n"
        "临澄市司法局\n二〇二四年七月十日\n"
    )
    record = extract_document(SourceDocument(doc_id="x", path="x.txt", text=text))
    assert record.meta.issuer == "临澄市司法局"
    assert str(record.meta.publish_date) == "2024-07-10"
    assert record.meta.period is Period.HALF_YEAR and record.meta.plan_year == 2024


def test_summaries_keep_the_reports_own_characters() -> None:
    """A summary is read from normalised text but stored as the report writes it: full-width
    commas stay full-width (NFKC is for matching only)."""
    from pathlib import Path

    from extractor.load import load_document
    from extractor.pipeline.run import extract_document

    repo = Path(__file__).resolve().parent.parent
    paths = sorted((repo / "eval" / "docs").glob("*.txt")) + sorted(
        (repo / "tests" / "fixtures").glob("*/*.txt")
    )
    for path in paths:
        doc = load_document(path)
        record = extract_document(doc)
        for item in record.achievements + record.problems + record.plans:
            assert item.text in doc.text, (path.name, item.text)


def test_area_keywords_are_read_longest_first_without_overlap() -> None:
    # The longest keyword at a position wins and the words inside it do not count again
    # (行政复议, not also 复议); a neutral word takes its characters out of any keyword
    # (设立法治宣传: 设立 blocks 立法, 法治宣传 still counts); hits are summed per area.
    from extractor.core.schema import Area
    from extractor.extract.rules.areas import area_scores

    assert area_scores("复议") == {Area.RECONSIDERATION: 2.0}
    assert area_scores("办理行政复议案件") == {Area.RECONSIDERATION: 3.0}
    assert area_scores("推进立法") == {Area.RULEMAKING: 2.0}
    assert area_scores("设立法治宣传专区") == {Area.LEGAL_EDUCATION: 2.5}
    assert area_scores("行政复议，行政复议") == {Area.RECONSIDERATION: 6.0}
