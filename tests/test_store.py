"""Store behaviour on SQLite and on a real PostgreSQL server (see tests/pg.py)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from pg import pg_server, sqlite_and_postgres_db_url  # noqa: F401  (fixtures: pg_server, db_url)
from sqlalchemy import String, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from store_fixtures import TEXT, edited, make_doc, make_record

from extractor.core.errors import ReviewConflictError, StoreError
from extractor.core.schema import (
    Achievement,
    Area,
    ListName,
    Record,
)
from extractor.review import open_session
from extractor.review.decisions import load_decisions
from extractor.review.labels import Decision
from extractor.store import RecordVersionInfo, Store, queries
from extractor.store.diff import FieldChange, record_diff
from extractor.store.rows import DocumentRow, ReviewDecisionRow


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as opened:
        yield opened


def extract(store: Store, record: Record | None = None) -> int:
    """Save an extraction of the sample document in a fresh run; returns its version number."""
    record = record or make_record()
    run_id = store.start_run(backend=record.provenance.backend, model=record.provenance.model)
    return store.save_extraction(make_doc(), record, run_id=run_id).version


def review(store: Store, *, base: int, reviewer: str, area: Area = Area.OTHER) -> RecordVersionInfo:
    """Save a review of the sample document that sets the first achievement's area."""
    record = edited(make_record(), area=area)
    return store.save_review("lanshan-2024", record, base_version=base, reviewer=reviewer, status="approved")


# -- documents and extractions ------------------------------------------------------------


def test_same_content_is_one_document_even_after_a_move(store: Store) -> None:
    first = store.upsert_document(make_doc())
    moved = store.upsert_document(make_doc(path="/archive/renamed.txt", doc_id="renamed"))
    other = store.upsert_document(make_doc(text=TEXT + "附件。", doc_id="lanshan-2024-v2"))

    assert moved.id == first.id
    assert moved.path == "/archive/renamed.txt"
    assert moved.doc_id == "lanshan-2024"  # links to the document keep working
    assert other.id != first.id
    assert [d.sha256 for d in store.list_documents()] == [first.sha256, other.sha256]
    source = store.source_document(first.sha256)
    assert source is not None and source.text == TEXT and source.path == "/archive/renamed.txt"


def test_rerun_on_the_same_file_adds_no_version(store: Store) -> None:
    run_id = store.start_run(backend="rules")
    first = store.save_extraction(make_doc(), make_record(), run_id=run_id)
    later = make_record(extracted_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), source_path="/moved/lanshan.txt")
    again = store.save_extraction(
        make_doc(path="/moved/lanshan.txt"), later, run_id=store.start_run(backend="rules")
    )

    assert again.version == first.version == 1
    assert len(store.versions("lanshan-2024")) == 1


def test_a_batch_saves_as_one_document_at_a_time_would(store: Store) -> None:
    # A known document with a changed record, a new one, and one content under two paths.
    store.save_extraction(make_doc(), make_record(), run_id=None)
    other_text = TEXT + "附件。"
    batch = [
        (make_doc(), edited(make_record())),
        (
            make_doc(text=other_text, doc_id="v2", path="/a/v2.txt"),
            make_record("v2", source_path="/a/v2.txt"),
        ),
        (
            make_doc(text=other_text, doc_id="v2-copy", path="/b/v2.txt"),
            make_record("v2", source_path="/b/v2.txt"),
        ),
    ]
    saved = store.save_extractions(batch, run_id=store.start_run(backend="rules"))

    assert [(info.doc_id, info.version) for info in saved] == [("lanshan-2024", 2), ("v2", 1), ("v2", 1)]
    assert all(info.created_at is not None for info in saved)
    assert [v.version for v in store.versions("lanshan-2024")] == [1, 2]
    assert len(store.versions("v2")) == 1
    documents = {d.doc_id: d.path for d in store.list_documents()}
    assert documents == {"lanshan-2024": "/reports/lanshan-2024.txt", "v2": "/b/v2.txt"}


def test_changed_or_differently_produced_extraction_is_a_new_version(store: Store) -> None:
    extract(store)
    changed = make_record()
    changed.plans[0].text = "打造普法精品"
    assert extract(store, changed) == 2
    # The same content from another model is a separate result worth keeping.
    assert extract(store, make_record(backend="llm", model="qwen")) == 3

    log = store.versions("lanshan-2024")
    assert [(v.version, v.kind, v.backend, v.model) for v in log] == [
        (1, "extraction", "rules", None),
        (2, "extraction", "rules", None),
        (3, "extraction", "llm", "qwen"),
    ]
    assert log[1].diff == [FieldChange(path="plans[0].text", old="深挖普法精品", new="打造普法精品")]


def test_has_extraction_matches_backend_model_and_prompt(store: Store) -> None:
    doc = make_doc()
    run_id = store.start_run(backend="llm", model="qwen", prompt_hash="p1")
    record = make_record(backend="llm", model="qwen")
    record.provenance.prompt_hash = "p1"
    store.save_extraction(doc, record, run_id=run_id)

    assert store.has_extraction(doc.sha256, backend="llm", model="qwen", prompt_hash="p1")
    assert not store.has_extraction(doc.sha256, backend="llm", model="qwen", prompt_hash="p2")
    assert not store.has_extraction(doc.sha256, backend="llm", model="other", prompt_hash="p1")
    assert not store.has_extraction(doc.sha256, backend="rules")
    assert not store.has_extraction("0" * 64, backend="llm", model="qwen", prompt_hash="p1")


def test_runs_keep_their_stats(store: Store) -> None:
    run_id = store.start_run(backend="llm", model="qwen", prompt_hash="abc")
    store.finish_run(run_id, status="finished", stats={"documents": 5, "tokens": 1234, "cost": 0.12})
    run = store.get_run(run_id)
    assert run is not None
    assert (run.status, run.stats, run.model) == (
        "finished",
        {"documents": 5, "tokens": 1234, "cost": 0.12},
        "qwen",
    )
    assert run.finished_at is not None and run.finished_at >= run.started_at
    with pytest.raises(StoreError, match="no run with id 999"):
        store.finish_run(999, status="finished", stats={})


def test_extraction_with_unknown_run_stores_nothing(store: Store) -> None:
    with pytest.raises(StoreError, match="no run with id 42"):
        store.save_extraction(make_doc(), make_record(), run_id=42)
    assert store.list_documents() == []


# -- reviews -------------------------------------------------------------------------------


def test_review_adds_a_version_with_a_field_level_diff(store: Store) -> None:
    extract(store)
    reviewed = make_record()
    reviewed.meta.issuer = "蓝山县人民政府"
    reviewed.achievements[0].metrics[1].name = "已办结"
    reviewed.problems[0].cause = "人员编制不足"
    reviewed.achievements[1].flags = []
    del reviewed.achievements[0].metrics[0]

    saved = store.save_review("lanshan-2024", reviewed, base_version=1, reviewer="张三", status="approved")

    assert saved.model_dump(include={"version", "kind", "reviewer", "status", "base_version"}) == {
        "version": 2, "kind": "review", "reviewer": "张三", "status": "approved", "base_version": 1
    }  # fmt: skip
    removed_metric = make_record().achievements[0].metrics[0].model_dump(mode="json")
    assert [(c.path, c.old, c.new) for c in saved.diff] == [
        ("meta.issuer", "蓝山县司法局", "蓝山县人民政府"),
        ("achievements[0].metrics[0]", removed_metric, None),
        ("achievements[0].metrics[0].name", "已结案", "已办结"),  # the 已结案 metric, now first
        ("achievements[1].flags", [{"code": "metrics_disagree", "detail": ""}], []),
        ("problems[0].cause", None, "人员编制不足"),
    ]

    current = store.current_record("lanshan-2024")
    assert current is not None
    assert (current.version, current.kind, current.reviewer, current.status) == (2, "review", "张三", "approved")  # fmt: skip
    assert current.record.meta.issuer == "蓝山县人民政府"
    assert current.record.provenance.reviewed_by == "张三"
    assert [v.kind for v in store.versions(current.document.sha256)] == ["extraction", "review"]

    [summary] = store.list_documents()
    assert summary.model_dump(exclude={"sha256", "path"}) == {
        "doc_id": "lanshan-2024", "status": "approved", "kind": "review", "issuer": "蓝山县人民政府",
        "report_year": 2024, "item_count": 4, "flagged_count": 0, "version": 2, "latest_version": 2,
        "last_reviewer": "张三",
    }  # fmt: skip


def test_stale_review_is_refused_naming_the_other_reviewer_and_field(store: Store) -> None:
    extract(store)
    review(store, base=1, reviewer="张三")

    with pytest.raises(ReviewConflictError) as refused:
        review(store, base=1, reviewer="李四", area=Area.DISPUTES)

    message = str(refused.value)
    assert "张三" in message and "achievements[0].area" in message and "v2" in message
    assert "\n" not in message
    assert [v.version for v in store.versions("lanshan-2024")] == [1, 2]
    current = store.current_record("lanshan-2024")
    assert current is not None and current.reviewer == "张三"
    assert current.record.achievements[0].area == Area.OTHER


def test_review_over_an_outdated_extraction_names_the_extraction(store: Store) -> None:
    extract(store)
    newer = make_record()
    newer.meta.region = "永州市蓝山县"
    extract(store, newer)

    with pytest.raises(
        ReviewConflictError, match=r"自动抽取 于 .*（北京时间） 保存了 v2，修改了 meta\.region"
    ):
        review(store, base=1, reviewer="李四")


def test_current_record_prefers_review_over_a_newer_extraction(store: Store) -> None:
    extract(store)
    review(store, base=1, reviewer="张三")
    rerun = make_record(backend="llm", model="qwen")
    rerun.achievements[0].text = "模型的新摘要"
    assert extract(store, rerun) == 3

    current = store.current_record("lanshan-2024")
    assert current is not None
    assert (current.version, current.kind, current.latest_version) == (2, "review", 3)
    assert current.record.achievements[0].area == Area.OTHER
    assert [s.version for s in store.list_documents()] == [2]
    # The newer extraction did not change what the reviewer sees, so saving on it is no conflict.
    again = store.save_review(
        "lanshan-2024", current.record, base_version=current.version, reviewer="张三", status="approved"
    )
    assert again.version == 4 and again.base_version == 2 and again.diff == []


def save_simultaneously(stores: list[Store], *, base: int) -> list[RecordVersionInfo | ReviewConflictError]:
    """Each store saves a different review on `base`, released at the same instant."""
    barrier = threading.Barrier(len(stores))

    def save(i: int) -> RecordVersionInfo | ReviewConflictError:
        record = edited(make_record(), area=[Area.OTHER, Area.DISPUTES][i % 2], issuer=f"reviewer-{i}-{base}")
        barrier.wait(timeout=30)
        try:
            return stores[i].save_review(
                "lanshan-2024", record, base_version=base, reviewer=f"reviewer-{i}", status="in_review"
            )
        except ReviewConflictError as e:
            return e

    with ThreadPoolExecutor(max_workers=len(stores)) as pool:
        # .result() re-raises anything but a conflict (e.g. "database is locked"): a failure.
        return [future.result(timeout=60) for future in [pool.submit(save, i) for i in range(len(stores))]]


def test_concurrent_saves_on_the_same_base_exactly_one_wins(db_url: str) -> None:
    rounds = 3
    with Store(db_url) as setup:
        extract(setup)
    stores = [Store(db_url), Store(db_url)]  # two reviewers, two connections pools
    try:
        for base in range(1, rounds + 1):
            outcomes = save_simultaneously(stores, base=base)
            wins = [o for o in outcomes if isinstance(o, RecordVersionInfo)]
            assert len(wins) == 1, outcomes
            assert sum(isinstance(o, ReviewConflictError) for o in outcomes) == 1, outcomes
            assert wins[0].version == base + 1
        assert [v.version for v in stores[0].versions("lanshan-2024")] == list(range(1, rounds + 2))
    finally:
        for opened in stores:
            opened.close()


def test_unique_version_constraint_refuses_a_save_that_missed_a_newer_version(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    extract(store)
    review(store, base=1, reviewer="张三")
    # Simulate the race the check cannot see: a history read before 张三's save committed.
    real_history = queries.document_versions

    def stale_history(session: Session, document_id: int, **options: bool) -> list:
        return [row for row in real_history(session, document_id, **options) if row.version <= 1]

    monkeypatch.setattr(queries, "document_versions", stale_history)
    with pytest.raises(ReviewConflictError, match="同时完成"):
        review(store, base=1, reviewer="李四", area=Area.DISPUTES)
    monkeypatch.undo()

    assert [v.reviewer for v in store.versions("lanshan-2024")] == [None, "张三"]


def test_failed_write_leaves_earlier_records_untouched(store: Store) -> None:
    extract(store)
    review(store, base=1, reviewer="张三")
    before = store.current_record("lanshan-2024")

    # Make the database reject the version insert, after the document row was written in
    # the same transaction.
    def break_version_insert(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO RECORD_VERSIONS"):
            statement = statement.replace("record_versions", "no_such_table", 1)
        return statement, parameters

    event.listen(store.engine, "before_cursor_execute", break_version_insert, retval=True)
    try:
        new_doc = make_doc(text=TEXT + "新报告。", doc_id="new-report")
        with pytest.raises(StoreError) as failed:
            store.save_extraction(new_doc, make_record("new-report"), run_id=None)
        assert "\n" not in str(failed.value)
        with pytest.raises(StoreError):
            review(store, base=2, reviewer="李四", area=Area.DISPUTES)
    finally:
        event.remove(store.engine, "before_cursor_execute", break_version_insert)

    # The new document, written in the same transaction, was rolled back too.
    assert [d.doc_id for d in store.list_documents()] == ["lanshan-2024"]
    assert store.current_record("lanshan-2024") == before
    assert [v.version for v in store.versions("lanshan-2024")] == [1, 2]


def test_a_review_and_its_decisions_are_saved_together_or_not_at_all(store: Store) -> None:
    extract(store)
    session = open_session(store, "lanshan-2024")
    session.accept(ListName.ACHIEVEMENTS, 0)
    session.reject(ListName.PROBLEMS, 0)

    # The database refuses the decisions row, after the version row went in.
    def break_decisions_insert(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]  # SQLAlchemy event signature
        if statement.lstrip().upper().startswith("INSERT INTO REVIEW_DECISIONS"):
            statement = statement.replace("review_decisions", "no_such_table", 1)
        return statement, parameters

    event.listen(store.engine, "before_cursor_execute", break_decisions_insert, retval=True)
    try:
        with pytest.raises(StoreError) as failed:
            session.save(store, reviewer="张三", status="in_review")
    finally:
        event.remove(store.engine, "before_cursor_execute", break_decisions_insert)
    assert "\n" not in str(failed.value) and "no_such_table" in str(failed.value)
    assert [v.version for v in store.versions("lanshan-2024")] == [1]
    assert store.current_record("lanshan-2024").kind == "extraction"

    # The same session saves once the database takes it: version and decisions together.
    saved = session.save(store, reviewer="张三", status="in_review")
    decisions = load_decisions(store, document_id=session.stored.document.id, version=saved.version)
    assert saved.version == 2 and [d.decision for d in decisions] == [Decision.ACCEPTED, Decision.REJECTED]


def test_a_failing_companion_write_is_not_mistaken_for_a_save_conflict(store: Store) -> None:
    extract(store)

    def duplicate_row(session: Session, info: RecordVersionInfo) -> None:
        document_id = session.scalars(select(DocumentRow.id)).one()
        for _ in range(2):  # the second row breaks the unique (document, version) constraint
            session.add(ReviewDecisionRow(document_id=document_id, version=info.version, reviewer="张三", decisions_json=[]))  # fmt: skip

    with pytest.raises(StoreError) as failed:
        store.save_review(
            "lanshan-2024",
            make_record(),
            base_version=1,
            reviewer="张三",
            status="approved",
            with_version=duplicate_row,
        )
    assert not isinstance(failed.value, ReviewConflictError)
    assert [v.version for v in store.versions("lanshan-2024")] == [1]


def test_review_input_is_checked(store: Store) -> None:
    extract(store)
    with pytest.raises(StoreError, match="unknown review status"):
        store.save_review("lanshan-2024", make_record(), base_version=1, reviewer="张三", status="done")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="reviewer"):
        store.save_review("lanshan-2024", make_record(), base_version=1, reviewer="  ", status="approved")
    with pytest.raises(StoreError, match="no stored document"):
        store.save_review("missing", make_record(), base_version=1, reviewer="张三", status="approved")
    with pytest.raises(ReviewConflictError, match="v5 不存在"):
        store.save_review("lanshan-2024", make_record(), base_version=5, reviewer="张三", status="approved")
    assert store.current_record("missing") is None
    assert store.versions("missing") == []


# -- database access -----------------------------------------------------------------------


class _OtherToolBase(DeclarativeBase):
    """Tables of another tool sharing the database (kept off the store's own metadata,
    which the migrations must match exactly)."""


class _OtherModuleRow(_OtherToolBase):
    """Stands in for a table something other than the store adds to the database."""

    __tablename__ = "test_other_module_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(String(50))


def test_other_modules_can_add_tables(store: Store, db_url: str) -> None:
    _OtherToolBase.metadata.create_all(store.engine)
    with Session(store.engine) as session, session.begin():
        session.add(_OtherModuleRow(note="调用记录"))
    # Reopening (and so checking the schema revision) leaves a foreign table alone.
    with Store(db_url) as reopened, Session(reopened.engine) as session:
        assert session.scalars(select(_OtherModuleRow.note)).all() == ["调用记录"]


# -- record_diff (pure) --------------------------------------------------------------------


def test_record_diff_paths() -> None:
    old = make_record()
    new = make_record()
    new.meta.issuer = "蓝山县人民政府"
    new.achievements[1].metrics[0].value = 121
    new.problems[0].cause = "编制不足"
    # An insertion in the middle is one addition, not a change to every later item.
    inserted = Achievement(area=Area.OTHER, text="新增事项", evidence="新增事项证据")
    new.achievements.insert(1, inserted)
    del new.plans[0]

    assert [(c.path, c.old, c.new) for c in record_diff(old, new)] == [
        ("meta.issuer", "蓝山县司法局", "蓝山县人民政府"),
        ("achievements[1]", None, inserted.model_dump(mode="json")),
        ("achievements[2].metrics[0].value", 120, 121),
        ("problems[0].cause", None, "编制不足"),
        ("plans[0]", old.plans[0].model_dump(mode="json"), None),
    ]
    assert record_diff(old, make_record(extracted_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))) == []
