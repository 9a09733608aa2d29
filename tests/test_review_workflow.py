"""Review work that must survive reloads, colleagues and wrong numbers (no Streamlit):
drafts and soft locks in the database, grounding re-checked on every save, approval
blocked until fixed or overridden, per-item merges, audit in Beijing time, queue progress.
Database tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg import fresh_schema_url, pg_server  # noqa: F401  (pg_server: fixture, requested by name)
from review_fixtures import DOC_ID, TEXT, sample_record

from extractor.check import check_record
from extractor.core.document import SourceDocument
from extractor.core.errors import GoldError, ReviewConflictError
from extractor.core.schema import Achievement, AlignmentStatus, Area, FlagCode, ListName, Metric, Record
from extractor.extract.rules.backend import extract_with_rules
from extractor.load import load_document
from extractor.review import Decision, ReviewInputError, ReviewSession, open_session
from extractor.review.audit import audit_entries, change_lines_between, marked_change
from extractor.review.decisions import decisions_by_version
from extractor.review.drafts import autosave_draft, discard_draft, save_draft
from extractor.review.edits import ItemEdit
from extractor.review.errors import MergeConflictError
from extractor.review.gold import promote_to_gold
from extractor.review.queue import load_queue, table_rows
from extractor.segment import segment_report
from extractor.store import LOCK_EXPIRY, RecordVersionInfo, Store, UngroundedApprovalError

A, P, PL = ListName.ACHIEVEMENTS, ListName.PROBLEMS, ListName.PLANS
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
        fill(url)
        yield url
        return
    with fresh_schema_url(request.getfixturevalue("pg_server")) as url:
        fill(url)
        yield url


def fill(url: str, record: Record | None = None) -> None:
    with Store(url) as store:
        doc = SourceDocument(doc_id=DOC_ID, path=f"/reports/{DOC_ID}.txt", text=TEXT)
        store.save_extraction(doc, record or sample_record(), run_id=None)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as opened:
        yield opened


# -- drafts -----------------------------------------------------------------------------------


def test_a_draft_brings_back_decisions_edits_and_the_name_on_another_server(db_url: str) -> None:
    with Store(db_url) as first_server:
        session = open_session(first_server, DOC_ID, owner="tab-1")
        assert not session.has_unsaved_changes() and session.restored_at is None
        session.accept(A, 0, ItemEdit(text="受理复议案件37件"))
        session.reject(P, 0)
        session.add_item(PL, "使普法宣传更接地气。")
        assert session.has_unsaved_changes()
        save_draft(first_server, session, owner="tab-1", reviewer="张三")
    # The page reloads, served by another process on the same database.
    with Store(db_url) as second_server:
        restored = open_session(second_server, DOC_ID, owner="tab-1")
        assert restored.reviewer == "张三" and restored.restored_at is not None
        assert restored.has_unsaved_changes()
        assert [e.decision for e in restored.entries(A)] == [Decision.FIXED, None]
        assert restored.entry(A, 0).item.text == "受理复议案件37件"
        assert restored.entry(P, 0).decision is Decision.REJECTED
        assert [e.decision for e in restored.entries(PL)] == [None, Decision.ADDED]
        assert restored.record() == session.record()
        # Someone else's page has no draft of it.
        assert not open_session(second_server, DOC_ID, owner="tab-2").has_unsaved_changes()
        fresh = discard_draft(second_server, restored, owner="tab-1")
        assert not fresh.has_unsaved_changes()
        assert second_server.load_draft(DOC_ID, owner="tab-1") is None


def test_saving_the_review_removes_the_draft(store: Store) -> None:
    session = open_session(store, DOC_ID, owner="tab-1")
    session.accept(A, 1)
    save_draft(store, session, owner="tab-1", reviewer="张三")
    session.save(store, reviewer="张三", status="in_review", owner="tab-1")
    assert store.load_draft(DOC_ID, owner="tab-1") is None
    reopened = open_session(store, DOC_ID, owner="tab-1")
    assert reopened.base_version == 2 and reopened.restored_at is None


def test_autosave_writes_only_when_something_changed(store: Store) -> None:
    session = open_session(store, DOC_ID, owner="tab-1")
    digest = autosave_draft(store, session, owner="tab-1", reviewer="张三", last_digest=None)
    assert store.load_draft(DOC_ID, owner="tab-1") is None  # nothing to keep yet
    session.accept(A, 1)
    changed = autosave_draft(store, session, owner="tab-1", reviewer="张三", last_digest=digest)
    first = store.load_draft(DOC_ID, owner="tab-1")
    assert changed != digest and first is not None and first.reviewer == "张三"
    assert autosave_draft(store, session, owner="tab-1", reviewer="张三", last_digest=changed) == changed
    assert store.load_draft(DOC_ID, owner="tab-1").updated_at == first.updated_at  # not rewritten
    renamed = autosave_draft(store, session, owner="tab-1", reviewer="李四", last_digest=changed)
    assert store.load_draft(DOC_ID, owner="tab-1").reviewer == "李四"  # the name is part of it
    session.restore(A, 1)  # undone: nothing left to keep
    autosave_draft(store, session, owner="tab-1", reviewer="李四", last_digest=renamed)
    assert store.load_draft(DOC_ID, owner="tab-1") is None


def test_soft_locks_say_who_is_on_a_report_and_expire(store: Store) -> None:
    first = store.touch_lock(DOC_ID, holder="tab-1", reviewer="张三")
    store.touch_lock(DOC_ID, holder="tab-2", reviewer="李四")
    again = store.touch_lock(DOC_ID, holder="tab-1", reviewer="张三")
    assert again.opened_at == first.opened_at and again.heartbeat_at >= first.heartbeat_at
    assert [(lock.holder, lock.reviewer) for lock in store.active_locks(DOC_ID)] == [
        ("tab-1", "张三"),
        ("tab-2", "李四"),
    ]
    [row] = load_queue(store)
    assert "张三" in row.open_by_text() and "李四" in row.open_by_text() and "北京时间" in row.open_by_text()
    later = dt.datetime.now(dt.UTC) + LOCK_EXPIRY + dt.timedelta(seconds=5)
    assert store.active_locks(DOC_ID, now=later) == []  # a closed tab never says goodbye
    store.release_lock(DOC_ID, holder="tab-2")
    assert [lock.holder for lock in store.active_locks()] == ["tab-1"]


# -- grounding --------------------------------------------------------------------------------


def contradicted(session_store: Store) -> tuple[ReviewSession, list[str]]:
    """A session where the reviewer changed 37 to 38 beside the evidence 「受理行政复议案件37件」."""
    session = open_session(session_store, DOC_ID)
    rows = [
        {"name": "受理行政复议案件", "value": 38, "unit": "件", "evidence": "受理行政复议案件37件"},
        {"name": "已结案", "value": 31, "unit": "件", "evidence": "已结案31件"},
    ]
    notes = session.accept(A, 0, ItemEdit(metrics=rows))
    return session, notes


def test_a_metric_contradicting_its_evidence_blocks_approval_until_overridden(store: Store) -> None:
    session, notes = contradicted(store)
    entry = session.entry(A, 0)
    assert entry.flagged and entry.blocks_approval
    assert any("38" in p and "没有出现在其证据" in p for p in entry.problems)
    assert any("不能通过" in n for n in notes)
    session.accept_remaining()
    assert session.suggested_status() == "in_review"  # every item decided, but one is wrong
    with pytest.raises(ReviewInputError, match=r"不能标记为「已通过」.*38"):
        session.save(store, reviewer="张三", status="approved")
    with pytest.raises(ReviewInputError, match="理由"):
        session.override(A, 0, "  ")
    session.override(A, 0, "原文另有附表写明38件")
    assert session.suggested_status() == "approved"
    info = session.save(store, reviewer="张三", status="approved")
    saved = store.current_record(DOC_ID).record.achievements[0]
    assert any(f.code is FlagCode.METRIC_NOT_IN_EVIDENCE for f in saved.flags)  # the truth stays on record
    decisions = decisions_by_version(store, document_id=store.get_document(DOC_ID).id)
    [entry_log] = [
        e for e in audit_entries(store.versions(DOC_ID), decisions=decisions) if e.version == info.version
    ]
    assert entry_log.overrides == ["主要成效第1条：原文另有附表写明38件"]
    assert "强行通过 1 条" in entry_log.summary()


def test_fixing_the_number_clears_the_block(store: Store) -> None:
    session, _ = contradicted(store)
    rows = [
        {"name": "受理行政复议案件", "value": 37, "unit": "件", "evidence": "受理行政复议案件37件"},
        {"name": "已结案", "value": 31, "unit": "件", "evidence": "已结案31件"},
    ]
    session.fix(A, 0, ItemEdit(metrics=rows, text="受理复议案件37件"))
    assert not session.entry(A, 0).problems
    session.accept_remaining()
    assert session.suggested_status() == "approved"
    assert session.save(store, reviewer="张三", status="approved").status == "approved"


def test_the_store_rechecks_evidence_on_every_save(store: Store) -> None:
    invented = sample_record()
    invented.plans[0].evidence = "全年共培训执法人员500人次。"  # not in the report
    invented.plans[0].alignment = AlignmentStatus.EXACT  # and claimed to be
    invented.plans[0].flags = []
    with pytest.raises(UngroundedApprovalError, match=r"下步计划第1条.*在原文中找不到"):
        store.save_review(DOC_ID, invented, base_version=1, reviewer="张三", status="approved")
    store.save_review(DOC_ID, invented, base_version=1, reviewer="张三", status="in_review")
    saved = store.current_record(DOC_ID).record.plans[0]
    assert saved.alignment is AlignmentStatus.NONE and saved.span is None
    assert [f.code for f in saved.flags] == [FlagCode.UNALIGNED]
    store.save_review(
        DOC_ID, invented, base_version=2, reviewer="张三", status="approved", overridden=["plans[0]"]
    )
    assert store.current_record(DOC_ID).status == "approved"


def test_accepting_an_item_not_in_the_source_keeps_its_flag(tmp_path: Path) -> None:
    record = sample_record()
    record.plans[0] = record.plans[0].model_copy(
        update={"evidence": "全年共培训执法人员500人次。", "span": None}
    )
    url = f"sqlite:///{tmp_path / 'unaligned.db'}"
    fill(url, check_record(Record.model_validate(record.model_dump()), TEXT))
    with Store(url) as store:
        session = open_session(store, DOC_ID)
        assert session.entry(PL, 0).problems
        session.accept_remaining()  # 接受其余全部
        assert session.suggested_status() == "in_review"
        session.save(store, reviewer="张三", status="in_review")
        saved = store.current_record(DOC_ID).record.plans[0]
    assert [f.code for f in saved.flags] == [FlagCode.UNALIGNED] and saved.alignment is AlignmentStatus.NONE


def test_an_extracted_metric_contradicting_its_evidence_blocks_approval_after_accept_all(
    tmp_path: Path,
) -> None:
    record = sample_record()
    record.achievements[0].metrics[0] = Metric(
        name="受理行政复议案件", value=38, unit="件", evidence="受理行政复议案件37件"
    )  # as an extraction might have it: 38 beside 「37件」
    url = f"sqlite:///{tmp_path / 'contradicting.db'}"
    fill(url, check_record(Record.model_validate(record.model_dump()), TEXT))
    with Store(url) as store:
        session = open_session(store, DOC_ID)
        assert session.entry(A, 0).blocks_approval
        assert session.accept_remaining() == 4  # 接受其余全部: every item, the wrong one too
        assert session.suggested_status() == "in_review"
        with pytest.raises(ReviewInputError, match=r"不能标记为「已通过」.*38"):
            session.save(store, reviewer="张三", status="approved")
        session.save(store, reviewer="张三", status="in_review")
        saved = store.current_record(DOC_ID)
    assert saved.status == "in_review"
    assert any(f.code is FlagCode.METRIC_NOT_IN_EVIDENCE for f in saved.record.achievements[0].flags)


def test_accept_all_on_a_sound_report_suggests_approval(store: Store) -> None:
    session = open_session(store, DOC_ID)
    assert session.suggested_status() == "in_review"
    session.accept_remaining()
    assert session.suggested_status() == "approved"


# -- merging ----------------------------------------------------------------------------------


def test_two_reviewers_on_different_items_both_keep_their_work(store: Store) -> None:
    mine, theirs = open_session(store, DOC_ID), open_session(store, DOC_ID)
    theirs.accept(PL, 0, ItemEdit(text="打造普法精品"))
    theirs.accept(A, 1)
    theirs.save(store, reviewer="李四", status="in_review")
    mine.accept(A, 0, ItemEdit(area=Area.OTHER))
    mine.reject(P, 0)
    info = mine.save(store, reviewer="张三", status="in_review")
    assert (info.version, info.base_version) == (3, 2)  # on top of the colleague's version
    assert {c.path for c in info.diff} >= {"achievements[0].area", "problems[0]"}
    assert not any(c.path.startswith("plans") for c in info.diff)  # theirs, not re-counted as mine
    record = store.current_record(DOC_ID).record
    assert record.plans[0].text == "打造普法精品" and record.achievements[0].area is Area.OTHER
    assert record.problems == []
    reopened = open_session(store, DOC_ID)
    assert [e.decision for e in reopened.entries(A)] == [Decision.FIXED, Decision.ACCEPTED]
    assert reopened.entry(PL, 0).decision is Decision.FIXED


def test_a_colleagues_fix_and_my_acceptance_of_the_same_item_merge(store: Store) -> None:
    mine, theirs = open_session(store, DOC_ID), open_session(store, DOC_ID)
    theirs.accept(A, 1, ItemEdit(area=Area.LEGAL_EDUCATION))
    theirs.add_item(PL, "使普法宣传更接地气。")
    theirs.save(store, reviewer="李四", status="in_review")
    mine.accept(A, 1)  # the same item, as extracted
    mine.accept(P, 0, ItemEdit(text="队伍建设不足"))
    mine.save(store, reviewer="张三", status="in_review")
    reopened = open_session(store, DOC_ID)
    assert reopened.entry(A, 1).item.area is Area.LEGAL_EDUCATION
    assert reopened.entry(A, 1).decision is Decision.FIXED  # the merged content carries the fix
    assert reopened.entry(P, 0).item.text == "队伍建设不足"
    assert [e.item.evidence for e in reopened.entries(PL)][1] == "使普法宣传更接地气。"  # their addition


def test_the_same_field_changed_by_both_is_the_only_question(store: Store) -> None:
    mine, theirs = open_session(store, DOC_ID), open_session(store, DOC_ID)
    theirs.accept(PL, 0, ItemEdit(text="打造普法精品"))
    theirs.save(store, reviewer="李四", status="in_review")
    mine.accept(PL, 0, ItemEdit(text="深挖非遗普法精品"))
    mine.accept(A, 0, ItemEdit(area=Area.OTHER))
    with pytest.raises(MergeConflictError) as refused:
        mine.save(store, reviewer="张三", status="in_review")
    [conflict] = refused.value.conflicts
    assert (conflict.path, conflict.mine, conflict.theirs) == (
        "plans[0].text",
        "深挖非遗普法精品",
        "打造普法精品",
    )
    assert conflict.label == "下步计划第1条 · 摘要"
    message = refused.value.message
    assert "李四" in message and "北京时间" in message and "下步计划第1条 · 摘要" in message
    assert not any(word in message for word in ("out of date", "reload", "version"))
    assert [v.version for v in store.versions(DOC_ID)] == [1, 2]  # nothing written
    mine.save(store, reviewer="张三", status="in_review", keep={"plans[0].text": "mine"})
    record = store.current_record(DOC_ID).record
    assert record.plans[0].text == "深挖非遗普法精品" and record.achievements[0].area is Area.OTHER


def test_removed_by_one_and_edited_by_the_other_asks_too(store: Store) -> None:
    mine, theirs = open_session(store, DOC_ID), open_session(store, DOC_ID)
    theirs.accept(P, 0, ItemEdit(text="队伍建设不足"))
    theirs.save(store, reviewer="李四", status="in_review")
    mine.reject(P, 0)
    with pytest.raises(MergeConflictError) as refused:
        mine.save(store, reviewer="张三", status="in_review")
    assert [c.path for c in refused.value.conflicts] == ["problems[0]"]
    mine.save(store, reviewer="张三", status="in_review", keep={"problems[0]": "theirs"})
    assert store.current_record(DOC_ID).record.problems[0].text == "队伍建设不足"


def test_a_refused_conflict_is_still_a_review_conflict(store: Store) -> None:
    mine, theirs = open_session(store, DOC_ID), open_session(store, DOC_ID)
    theirs.accept(PL, 0, ItemEdit(area=Area.OTHER))
    theirs.save(store, reviewer="李四", status="in_review")
    mine.accept(PL, 0, ItemEdit(area=Area.DISPUTES))
    with pytest.raises(ReviewConflictError):  # what callers that know no merging catch
        mine.save(store, reviewer="张三", status="in_review")


# -- audit, queue, gold ------------------------------------------------------------------------


def test_audit_times_are_beijing_time() -> None:
    info = RecordVersionInfo(
        doc_id=DOC_ID, sha256="0" * 64, version=1, kind="extraction", status="pending", reviewer=None,
        backend="rules", model=None, prompt_hash=None, run_id=None, base_version=None, diff=None,
        created_at=dt.datetime(2026, 12, 7, 15, 30, 5, tzinfo=dt.UTC),
    )  # fmt: skip
    [entry] = audit_entries([info])
    assert entry.saved_at == "2026-12-07 23:30:05（北京时间）"
    assert "UTC" not in entry.summary()


def test_audit_shows_values_whole_with_the_changed_characters_marked() -> None:
    long = "全年受理行政复议案件37件，" + "其中依法纠正违法或不当行政行为" * 8 + "<b>"
    old, new = marked_change(long, long.replace("37", "38"))
    assert "<del>7</del>" in old and "<ins>8</ins>" in new
    assert "&lt;b&gt;" in old and "<b>" not in old.replace("<del>", "")  # escaped
    assert old.count("其中依法纠正违法或不当行政行为") == 8  # whole, not cut at 80 characters


def test_audit_shows_an_added_metric_and_a_removed_item_whole_not_as_json() -> None:
    before = sample_record()
    after = before.model_copy(deep=True)
    after.achievements[1].metrics.append(
        Metric(name="发放资料", value=40000.0, unit="份", evidence="发放资料4万余份")
    )
    after.plans = []
    lines = {line.field: line for line in change_lines_between(before, after)}
    assert lines["主要成效第2条 · 指标2"].new == "发放资料 40000份（证据：发放资料4万余份）"
    removed = lines["下步计划第1条"]
    assert removed.old == (
        "「深挖本土法治与非遗融合的普法精品」 证据：继续深挖本土法治与非遗融合的普法精品，使普法宣传更接地气。"
    )
    assert removed.new == "（无）" and "span" not in removed.old


def test_queue_names_reports_by_issuer_and_year_with_progress(store: Store) -> None:
    session = open_session(store, DOC_ID)
    session.accept(A, 0)
    session.accept(A, 1)
    session.reject(P, 0)
    session.save(store, reviewer="张三", status="in_review")
    [row] = load_queue(store)
    assert row.title == "蓝山县司法局 2024年"
    assert (row.decided_count, row.item_count, row.progress_text) == (2, 3, "2 / 3")
    [shown] = table_rows([row])
    assert shown["报告"] == "蓝山县司法局 2024年" and shown["进度（已审/条目）"] == "2 / 3"
    assert shown["待核查"] == 0  # the decided flagged item no longer counts


def test_gold_refusal_is_in_chinese(tmp_path: Path) -> None:
    record = sample_record()
    record.achievements[0].metrics[0] = Metric(
        name="受理行政复议案件", value=38, unit="件", evidence="受理行政复议案件37件"
    )
    with pytest.raises(GoldError) as refused:
        promote_to_gold(record, TEXT, gold_dir=tmp_path)
    message = refused.value.message
    assert "主要成效第1条 · 指标1 · 数值" in message and "38" in message and "没有出现在其证据" in message
    assert "not stated" not in message and "achievements[" not in message


def test_metric_names_keep_the_reports_own_characters() -> None:
    doc = load_document(FIXTURES / "synthetic9" / "yannan-2024.txt")
    record = extract_with_rules(doc, segment_report(doc))
    names = [m.name for a in record.achievements if isinstance(a, Achievement) for m in a.metrics]
    assert any("县（市）" in n for n in names)
    assert not any("县(市)" in n for n in names)
