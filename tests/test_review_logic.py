"""Review logic without Streamlit: edits, decisions, added items, saving, gold, highlight, queue."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from review_fixtures import DOC_ID, TEXT, fill_store, sample_record

from extractor.check.align import SourceIndex
from extractor.core.errors import GoldError, ReviewConflictError
from extractor.core.schema import AlignmentStatus, Area, ListName, Metric, Period, Span
from extractor.review import Decision, PassageNotFoundError, ReviewInputError, open_session
from extractor.review.audit import audit_entries, conflict_explanation, describe_path
from extractor.review.downloads import export_bytes, reviewed_records
from extractor.review.edits import ItemEdit, apply_edit, meta_from_form, metric_rows
from extractor.review.gold import promote_stored, promote_to_gold
from extractor.review.highlight import HighlightSpan, highlight_html
from extractor.review.locate import locate_passage
from extractor.review.queue import filter_rows, progress, queue_rows, sort_rows
from extractor.review.views import focus_of, item_label, overview_rows
from extractor.store import DocumentSummary, Store

A, P, PL = ListName.ACHIEVEMENTS, ListName.PROBLEMS, ListName.PLANS


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(fill_store(tmp_path / "review.db")) as s:
        yield s


@pytest.fixture
def index() -> SourceIndex:
    return SourceIndex(TEXT)


# -- edits ---------------------------------------------------------------------------------


def test_edit_sets_area_text_cause_and_relocates_evidence(index: SourceIndex) -> None:
    problem = sample_record().problems[0]
    result = apply_edit(
        problem,
        ItemEdit(
            area=Area.ENFORCEMENT, text="队伍建设不足", evidence="亟需加强专业化、职业化建设", cause="编制少"
        ),
        index=index,
    )
    item = result.item
    assert result.changed
    assert (item.area, item.text, item.cause) == (Area.ENFORCEMENT, "队伍建设不足", "编制少")
    assert TEXT[item.span.start : item.span.end] == "亟需加强专业化、职业化建设"
    assert item.alignment is AlignmentStatus.EXACT
    assert problem.area is Area.GRASSROOTS  # the original is untouched
    cleared = apply_edit(item, ItemEdit(cause="  "), index=index).item
    assert cleared.cause is None


def test_fuzzy_evidence_is_replaced_by_the_report_text(index: SourceIndex) -> None:
    plan = sample_record().plans[0]
    typo = "继续深挖本土法制与非遗融合的普法精品，使普法宣传更接地气。"  # 法制 for 法治
    result = apply_edit(plan, ItemEdit(evidence=typo), index=index)
    assert result.item.evidence == "继续深挖本土法治与非遗融合的普法精品，使普法宣传更接地气。"
    assert any("近似" in note for note in result.notes)


def test_evidence_not_in_the_report_is_refused_and_nothing_changes(index: SourceIndex) -> None:
    plan = sample_record().plans[0]
    with pytest.raises(PassageNotFoundError, match="不在报告原文中"):
        apply_edit(plan, ItemEdit(evidence="全面推进数字政府建设，打造智慧城市。"), index=index)
    with pytest.raises(ReviewInputError, match="摘要不能为空"):
        apply_edit(plan, ItemEdit(text="  "), index=index)


def test_metrics_table_replaces_metrics(index: SourceIndex) -> None:
    achievement = sample_record().achievements[1]
    rows = [
        *metric_rows(achievement),
        {"name": "发放资料", "value": "40000", "unit": "份", "evidence": "发放资料4万余份"},
        {"name": None, "value": float("nan"), "unit": "", "evidence": None},  # a blank added row
    ]
    result = apply_edit(achievement, ItemEdit(metrics=rows), index=index)
    metrics = result.item.metrics
    assert [(m.name, m.value, m.unit) for m in metrics] == [
        ("普法活动", 120, "场"),
        ("发放资料", 40000, "份"),
    ]
    assert isinstance(metrics[1].value, int)
    assert TEXT[metrics[1].span.start : metrics[1].span.end] == "发放资料4万余份"
    assert result.notes == []
    # A wrong value is applied but reported; a bad row is refused.
    wrong = apply_edit(achievement, ItemEdit(metrics=[{**rows[0], "value": 99}]), index=index)
    assert any("99" in note and "没有出现在证据" in note for note in wrong.notes)
    with pytest.raises(ReviewInputError, match=r"第1行.*不是数字"):
        apply_edit(achievement, ItemEdit(metrics=[{**rows[0], "value": "很多"}]), index=index)
    with pytest.raises(ReviewInputError, match="第1行缺少：单位"):
        apply_edit(achievement, ItemEdit(metrics=[{**rows[0], "unit": " "}]), index=index)
    with pytest.raises(ReviewInputError, match=r"第1行.*不在报告原文中"):
        apply_edit(achievement, ItemEdit(metrics=[{**rows[0], "evidence": "举办讲座300场次"}]), index=index)
    deleted = apply_edit(achievement, ItemEdit(metrics=[]), index=index)
    assert deleted.item.metrics == [] and deleted.changed


def test_meta_form_is_checked() -> None:
    meta = meta_from_form(
        issuer=" 蓝山县司法局 ",
        region="",
        report_year="2024",
        period="半年",
        plan_year="",
        publish_date="2025-01-20",
    )
    assert (meta.issuer, meta.region, meta.report_year, meta.period) == (
        "蓝山县司法局",
        None,
        2024,
        Period.HALF_YEAR,
    )
    assert meta.publish_date == dt.date(2025, 1, 20)
    with pytest.raises(ReviewInputError, match="报告年度"):
        meta_from_form(issuer="", region="", report_year="24年", period="全年", plan_year="", publish_date="")
    with pytest.raises(ReviewInputError, match="发布日期"):
        meta_from_form(
            issuer="", region="", report_year="", period="全年", plan_year="", publish_date="1月20日"
        )


# -- decisions -------------------------------------------------------------------------------


def test_accept_fix_reject_shape_the_saved_record(store: Store) -> None:
    session = open_session(store, DOC_ID)
    assert session.display_order(A) == [1, 0]  # the flagged item first
    session.accept(A, 1)
    assert session.entry(A, 1).decision is Decision.ACCEPTED
    session.fix(A, 0, ItemEdit(text="受理复议案件37件"))
    assert session.entry(A, 0).decision is Decision.FIXED
    with pytest.raises(ReviewInputError, match="没有修改"):
        session.fix(P, 0, ItemEdit(text=session.entry(P, 0).item.text))
    session.reject(P, 0)
    record = session.record()
    assert record.problems == []
    assert [a.text for a in record.achievements] == ["受理复议案件37件", "开展普法活动120场"]
    assert record.achievements[1].flags == []  # the reviewer resolved the flag
    assert record.plans[0] == sample_record().plans[0]  # undecided: as extracted
    assert session.progress() == (3, 4)
    assert session.suggested_status() == "in_review"
    session.restore(P, 0)
    assert session.record().problems[0].text == "法治保障工作队伍专业化、职业化建设不足"


def test_accepting_edited_content_records_a_fix(store: Store) -> None:
    session = open_session(store, DOC_ID)
    session.accept(PL, 0, ItemEdit(area=Area.OTHER))
    assert session.entry(PL, 0).decision is Decision.FIXED
    session.accept(PL, 0, ItemEdit(area=Area.LEGAL_EDUCATION))  # back to the original
    assert session.entry(PL, 0).decision is Decision.ACCEPTED


def test_add_missed_item_located_in_the_source(store: Store) -> None:
    session = open_session(store, DOC_ID)
    position, notes = session.add_item(A, "办理法律援助案件86件，挽回经济损失约8万元。")
    entry = session.entry(A, position)
    assert (position, entry.decision, notes) == (2, Decision.ADDED, [])
    assert TEXT[entry.item.span.start : entry.item.span.end] == "办理法律援助案件86件，挽回经济损失约8万元。"
    # Pre-filled by the rules: area, summary and metrics of the passage.
    assert entry.item.area is Area.LEGAL_SERVICES and entry.item.text
    assert (86, "件") in [(m.value, m.unit) for m in entry.item.metrics]
    # A passage with a typo is located fuzzily and replaced by the report's own words.
    _, fuzzy_notes = session.add_item(P, "一是法治保障工作队伍亟需加强专业话、职业化建设。")  # 话 for 化
    assert session.entry(P, 1).item.evidence == "一是法治保障工作队伍亟需加强专业化、职业化建设。"
    assert any("近似" in n for n in fuzzy_notes)
    # Overlap with an existing item is pointed out.
    _, overlap_notes = session.add_item(PL, "继续深挖本土法治与非遗融合的普法精品")
    assert any("重叠" in n for n in overlap_notes)
    # Rejecting an added item drops it.
    session.reject(PL, 1)
    assert len(session.entries(PL)) == 1


def test_add_item_refuses_a_passage_not_in_the_report(store: Store) -> None:
    session = open_session(store, DOC_ID)
    with pytest.raises(PassageNotFoundError, match="这段文字不在报告原文中"):
        session.add_item(A, "全年共培训执法人员500人次，实现持证上岗全覆盖。")
    with pytest.raises(PassageNotFoundError, match="请先粘贴"):
        session.add_item(A, "  \n")
    assert len(session.entries(A)) == 2


def test_locate_passage_exact_ignores_width_and_whitespace(index: SourceIndex) -> None:
    located = locate_passage(index, "开展普法活动１２０场，\n发放资料４万余份")
    assert located.status is AlignmentStatus.EXACT and not located.replaced
    assert TEXT[located.span.start : located.span.end] == "开展普法活动120场，发放资料4万余份"


# -- saving, versions, conflicts ----------------------------------------------------------------


def test_save_adds_a_version_with_diff_and_decisions(store: Store) -> None:
    session = open_session(store, DOC_ID)
    session.accept(A, 1, ItemEdit(area=Area.LEGAL_EDUCATION))
    session.reject(P, 0)
    with pytest.raises(ReviewInputError, match="审核人"):
        session.save(store, reviewer=" ", status="in_review")
    with pytest.raises(ReviewInputError, match="未审核"):
        session.save(store, reviewer="张三", status="approved")
    info = session.save(store, reviewer="张三", status="in_review")
    assert (info.version, info.kind, info.status, info.reviewer, info.base_version) == (
        2,
        "review",
        "in_review",
        "张三",
        1,
    )
    paths = {c.path for c in info.diff}
    assert {"achievements[1].area", "achievements[1].flags", "problems[0]"} <= paths
    removed = next(c for c in info.diff if c.path == "problems[0]")
    assert (
        removed.new is None and removed.old["text"] == "法治保障工作队伍专业化、职业化建设不足"
    )  # the audit keeps it

    reopened = open_session(store, DOC_ID)
    assert reopened.base_version == 2
    assert reopened.entries(P) == []
    assert [e.decision for e in reopened.entries(A)] == [None, Decision.FIXED]
    assert not reopened.has_unsaved_changes()
    entries = audit_entries(store.versions(DOC_ID))
    assert entries[0].reviewer == "张三" and any(
        line.field == "主要成效第2条 · 领域" for line in entries[0].changes
    )
    assert entries[-1].first


def test_conflicting_save_is_refused_and_overwrites_nothing(store: Store) -> None:
    mine = open_session(store, DOC_ID)
    theirs = open_session(store, DOC_ID)
    theirs.accept(PL, 0, ItemEdit(text="打造普法精品"))
    theirs.save(store, reviewer="李四", status="in_review")
    mine.accept(A, 0, ItemEdit(area=Area.OTHER))
    mine.accept(PL, 0, ItemEdit(text="深挖非遗普法精品"))  # the same field, another value
    with pytest.raises(ReviewConflictError, match="李四"):
        mine.save(store, reviewer="张三", status="in_review")
    versions = store.versions(DOC_ID)
    assert [v.version for v in versions] == [1, 2]
    current = store.current_record(DOC_ID)
    assert current.record.plans[0].text == "打造普法精品"
    assert current.record.achievements[0].area is Area.RECONSIDERATION
    explanation = conflict_explanation(versions, mine.base_version)
    assert "李四" in explanation and "下步计划第1条 · 摘要" in explanation


def test_describe_path() -> None:
    assert describe_path("achievements[3].metrics[0].value") == "主要成效第4条 · 指标1 · 数值"
    assert describe_path("meta.issuer") == "基本信息 · 发布机关"
    assert describe_path("problems[0]") == "存在不足第1条"


# -- gold ------------------------------------------------------------------------------------


def test_promote_to_gold_writes_the_spec_shape(tmp_path: Path) -> None:
    record = sample_record()
    path = promote_to_gold(record, TEXT, gold_dir=tmp_path)
    assert path == tmp_path / f"{DOC_ID}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"schema_version", "doc_id", "meta", "achievements", "problems", "plans"}
    assert set(data["achievements"][1]) == {"area", "text", "evidence", "metrics"}
    assert set(data["achievements"][0]["metrics"][0]) == {"name", "value", "unit", "evidence"}
    assert set(data["problems"][0]) == {"area", "text", "evidence", "cause"}
    assert data["achievements"][0]["metrics"][0]["value"] == 37
    assert "受理行政复议案件" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes


def test_gold_validator_failure_blocks_promotion(tmp_path: Path) -> None:
    record = sample_record()
    bad_metric = Metric(name="普法活动", value=121, unit="场", evidence="开展普法活动120场")
    record.achievements[1].metrics = [bad_metric]
    with pytest.raises(GoldError, match=r"金标准校验未通过.*121"):
        promote_to_gold(record, TEXT, gold_dir=tmp_path)
    assert not (tmp_path / f"{DOC_ID}.json").exists()


def test_existing_gold_file_is_kept_without_the_overwrite_flag(tmp_path: Path) -> None:
    existing = tmp_path / f"{DOC_ID}.json"
    existing.write_text("{}", encoding="utf-8")
    with pytest.raises(GoldError, match="已存在"):
        promote_to_gold(sample_record(), TEXT, gold_dir=tmp_path)
    assert existing.read_text(encoding="utf-8") == "{}"
    promote_to_gold(sample_record(), TEXT, gold_dir=tmp_path, overwrite=True)
    assert json.loads(existing.read_text(encoding="utf-8"))["doc_id"] == DOC_ID
    assert list(tmp_path.iterdir()) == [existing]  # no temporary file left behind


def test_only_an_approved_review_is_promoted(store: Store, tmp_path: Path) -> None:
    with pytest.raises(GoldError, match="已通过"):
        promote_stored(store.current_record(DOC_ID), TEXT, gold_dir=tmp_path)
    session = open_session(store, DOC_ID)
    session.accept_remaining()
    session.save(store, reviewer="张三", status="approved")
    path = promote_stored(store.current_record(DOC_ID), TEXT, gold_dir=tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["achievements"][1]["text"] == "开展普法活动120场" and "flags" not in data["achievements"][1]


def test_unsafe_doc_id_is_refused(tmp_path: Path) -> None:
    record = sample_record().model_copy(update={"doc_id": "../escape"})
    with pytest.raises(GoldError, match="文件名"):
        promote_to_gold(record, TEXT, gold_dir=tmp_path / "gold")
    assert not (tmp_path / "escape.json").exists()


# -- highlight ---------------------------------------------------------------------------------


def test_highlight_escapes_markup_in_the_report() -> None:
    text = "甲<script>alert('x')</script>乙<img src=x onerror=alert(1)>丙"
    for cut in (30, len(text)):  # a span ending inside the markup, and one around all of it
        html = highlight_html(text, [HighlightSpan(Span(start=1, end=cut), P, 0)])
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
        # Without the highlighter's own tags, the HTML shows exactly the report's text.
        own_tags_removed = re.sub(r"</?(?:div|mark)\b[^>]*>", "", html)
        assert unescape(own_tags_removed) == text


def test_highlight_colours_lists_and_emphasises_the_focus() -> None:
    record = sample_record()
    spans = [
        HighlightSpan(item.span, name, i) for name in ListName for i, item in enumerate(record.items(name))
    ]
    html = highlight_html(TEXT, spans, focus=(A, 1))
    assert html.count('class="rv-achievements"') == 2
    assert html.count('class="rv-problems"') == 1 and html.count('class="rv-plans"') == 1
    assert html.count('id="rv-focus"') == 1
    focused = html[html.index('id="rv-focus"') :]
    assert focused.split(">", 1)[1].startswith("开展普法活动120场")
    # Overlapping spans: the focused one wins where they overlap, the text appears once.
    overlap = highlight_html(
        "abcdef",
        [HighlightSpan(Span(start=0, end=4), A, 0), HighlightSpan(Span(start=2, end=6), P, 0)],
        focus=(P, 0),
    )
    assert overlap.count("ab") == 1 and overlap.count("cdef") == 1
    assert '<mark class="rv-problems" id="rv-focus"' in overlap


def test_highlight_of_a_session_escapes_the_stored_report(store: Store) -> None:
    html = open_session(store, DOC_ID).highlight()
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html


# -- queue ------------------------------------------------------------------------------------


def summary(doc_id: str, *, status: str | None, flagged: int) -> DocumentSummary:
    return DocumentSummary(
        doc_id=doc_id, sha256=doc_id.ljust(64, "0"), path=f"/r/{doc_id}.txt", status=status,
        kind="review" if status in ("approved", "rejected", "in_review") else "extraction",
        issuer="某县司法局", report_year=2024, item_count=10, flagged_count=flagged,
        version=1, latest_version=1, last_reviewer=None,
    )  # fmt: skip


def test_queue_sort_filter_and_progress() -> None:
    rows = queue_rows(
        [
            summary("a", status="approved", flagged=0),
            summary("b", status="pending", flagged=0),
            summary("c", status="pending", flagged=2),
            summary("d", status="rejected", flagged=5),
            summary("e", status="in_review", flagged=1),
        ]
    )
    assert [r.doc_id for r in sort_rows(rows)] == ["d", "c", "e", "b", "a"]
    assert [r.status_label for r in sort_rows(rows)] == ["已退回", "待审核", "审核中", "待审核", "已通过"]
    assert [r.doc_id for r in sort_rows(rows, flagged_first=False)] == ["b", "c", "e", "a", "d"]
    assert [r.doc_id for r in filter_rows(rows, statuses={"pending"})] == ["b", "c"]
    assert [r.doc_id for r in filter_rows(rows, flagged_only=True)] == ["c", "d", "e"]
    assert [r.doc_id for r in filter_rows(rows, statuses={"pending"}, flagged_only=True)] == ["c"]
    done = progress(rows)
    assert (done.reviewed, done.total, str(done)) == (2, 5, "2 / 5")


def test_queue_reflects_the_store(store: Store) -> None:
    [row] = queue_rows(store.list_documents())
    assert (row.doc_id, row.status_label, row.item_count, row.flagged_count) == (DOC_ID, "待审核", 4, 1)
    session = open_session(store, DOC_ID)
    session.accept_remaining()
    session.save(store, reviewer="张三", status="approved")
    [row] = queue_rows(store.list_documents())
    assert (row.status_label, row.flagged_count, row.last_reviewer) == ("已通过", 0, "张三")
    assert progress([row]).reviewed == 1


# -- downloads ----------------------------------------------------------------------------------


def test_downloads_hold_the_approved_reviewed_records(store: Store) -> None:
    assert reviewed_records(store) == []  # an extraction is not a reviewed record
    session = open_session(store, DOC_ID)
    session.accept_remaining()
    session.reject(P, 0)
    session.save(store, reviewer="张三", status="approved")
    [stored] = reviewed_records(store)
    record = stored.record
    assert record.problems == []
    lines = export_bytes([record], fmt="jsonl").decode("utf-8").splitlines()
    assert [json.loads(line)["doc_id"] for line in lines] == [DOC_ID]
    csv_text = export_bytes([stored], fmt="csv").decode("utf-8-sig")
    assert "受理行政复议案件" in csv_text and "张三" in csv_text and "已通过" in csv_text
    assert export_bytes([record], fmt="xlsx")[:2] == b"PK"  # a zip container
    with pytest.raises(ReviewInputError, match="不支持"):
        export_bytes([record], fmt="pdf")


def test_item_lists_show_flagged_items_first_with_the_reason_in_chinese(store: Store) -> None:
    session = open_session(store, DOC_ID)
    rows = overview_rows(session, A)
    assert [row["序号"] for row in rows] == [2, 1]
    assert rows[0]["待核查"] == "规则与模型判断的领域不一致" and rows[1]["待核查"] == ""
    assert item_label(session, A, 1).startswith("⚠ 第2条 [未审核]")
    session.accept(A, 1)
    assert overview_rows(session, A)[0]["审核"] == "已接受"
    assert focus_of(session, A, None) == (A, 1)
