"""The extract path's store work in SQLAlchemy Core (extractor.store.extractions, runs):
the same rows as the ORM writes, on SQLite and PostgreSQL, and the ORM mapping of the one
table declaration (extractor.store.rows) kept in step with it."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator

import pytest
from pg import pg_server, sqlite_and_postgres_db_url  # noqa: F401  (fixtures: pg_server, db_url)
from sqlalchemy import select
from store_fixtures import TEXT, make_doc, make_record

from extractor.core.errors import StoreError
from extractor.store import Store, rows, tables
from extractor.store.migrate import _head_of
from extractor.store.models import RecordVersionInfo

VARIANTS = 3


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as opened:
        yield opened


def _batch() -> list[tuple]:
    """Distinct reports, none stored yet: the batch `extractor extract` saves in Core."""
    return [
        (
            make_doc(text=TEXT + "附件" * (n + 1), doc_id=f"r{n}", path=f"/in/r{n}.txt"),
            make_record(f"r{n}", source_path=f"/in/r{n}.txt"),
        )
        for n in range(VARIANTS)
    ]


def _stored(store: Store) -> tuple[list[tuple], list[tuple]]:
    """Documents and versions as stored, without ids, times and the run they belong to."""
    documents, versions = tables.DOCUMENTS.c, tables.RECORD_VERSIONS.c
    with store.engine.connect() as connection:
        stored_documents = connection.execute(
            select(*(c for c in documents if c.name not in ("id", "created_at"))).order_by(documents.doc_id)
        ).all()
        stored_versions = connection.execute(
            select(
                documents.doc_id,
                *(c for c in versions if c.name not in ("id", "document_id", "created_at", "run_id")),
            )
            .join_from(tables.RECORD_VERSIONS, tables.DOCUMENTS)
            .order_by(documents.doc_id)
        ).all()
    return [tuple(r) for r in stored_documents], [tuple(r) for r in stored_versions]


def _without_time(info: RecordVersionInfo | StoreError) -> RecordVersionInfo:
    assert isinstance(info, RecordVersionInfo)
    return info.model_copy(update={"created_at": None, "run_id": None})


def test_a_batch_of_new_reports_saves_what_one_at_a_time_would(db_url: str, tmp_path) -> None:
    batch = _batch()
    with Store(db_url) as store:
        run_id = store.start_run(backend="rules")
        started = store.get_run(run_id)
        saved = store.save_extractions(batch, run_id=run_id)
        in_batch = _stored(store)
        run = store.get_run(run_id)
    one_by_one_url = f"sqlite:///{tmp_path / 'one-by-one.db'}"
    with Store(one_by_one_url) as other:
        other_run = other.start_run(backend="rules")
        singly = [other.save_extraction(doc, record, run_id=other_run) for doc, record in batch]
        assert in_batch == _stored(other)

    assert [_without_time(i) for i in saved] == [_without_time(i) for i in singly]
    assert {info.run_id for info in saved} == {run_id}
    # The batch's commit is the run's heartbeat (its process is seen alive); nothing else changes.
    assert started is not None and run is not None and started.stats and run.stats
    assert run.stats["heartbeat"] > started.stats["heartbeat"]
    assert {**run.stats, "heartbeat": None} == {**started.stats, "heartbeat": None}


def test_a_batch_with_an_unknown_run_stores_nothing_and_names_each_file(store: Store) -> None:
    saved = store.save_extractions(_batch(), run_id=42)
    assert [str(e) for e in saved] == [f"/in/r{n}.txt: no run with id 42" for n in range(VARIANTS)]
    assert store.list_documents() == []


def test_finishing_a_run_records_its_outcome_and_refuses_an_unknown_one(store: Store) -> None:
    run_id = store.start_run(backend="rules")
    store.finish_run(run_id, status="ok", stats={"files": 3, "extracted": 3})
    run = store.get_run(run_id)
    assert run is not None and (run.status, run.stats) == ("ok", {"files": 3, "extracted": 3})
    assert run.finished_at is not None
    with pytest.raises(StoreError, match="no run with id 999"):
        store.finish_run(999, status="ok", stats={})


@pytest.mark.parametrize(
    "row_class",
    [c for c in vars(rows).values() if isinstance(c, type) and c.__dict__.get("__table__") is not None],
)
def test_each_row_class_annotates_exactly_its_tables_columns(row_class: type) -> None:
    # The columns are declared once (tables); a mapped class only annotates them for typing,
    # and an annotation that disagrees with its column would mislead every reader.
    table = row_class.__table__
    hints = typing.get_type_hints(row_class, globalns=vars(rows))
    annotated = {
        name: hint
        for name, hint in hints.items()
        if typing.get_origin(hint) is not None and name in row_class.__annotations__
    }
    assert set(annotated) == {column.name for column in table.columns}
    for column in table.columns:
        (value,) = typing.get_args(annotated[column.name])
        optional = typing.get_origin(value) in (typing.Union, types.UnionType) and type(
            None
        ) in typing.get_args(value)
        assert optional == column.nullable, f"{table.name}.{column.name}: Optional must match nullable"


def test_the_quick_head_read_finds_revisions_wherever_a_migration_assigns_them(tmp_path) -> None:
    # Opening a database compares it with the head read from the migration files' heads; a
    # file that names its revision only after a function is still read in full.
    def head(files: dict[str, str]) -> str | None:
        versions = tmp_path / str(len(list(tmp_path.iterdir()))) / "versions"
        versions.mkdir(parents=True)
        for name, text in files.items():
            (versions / name).write_text(text)
        return _head_of(versions.parent)

    first = 'revision = "a"\ndown_revision = None\n\ndef upgrade():\n    pass\n'
    late = 'def upgrade():\n    pass\n\nrevision: str = "b"\ndown_revision = "a"\n'
    assert head({"a.py": first, "b.py": late}) == "b"
    merge = '"""Merge."""\nrevision = "c"\ndown_revision = ("b", "x")\nclass Helper:\n    revision = "no"\n'
    branch = 'revision = "x"\ndown_revision = "a"\n'
    assert head({"a.py": first, "b.py": late, "c.py": merge, "x.py": branch}) == "c"
    assert head({"a.py": first, "b.py": late, "x.py": branch}) is None  # two heads: Alembic decides
