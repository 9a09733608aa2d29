"""Schema migrations: a database of the last release survives the upgrade, whole and usable.

The release database is tests/fixtures/db/release-f781059.sql, a dump written by that
release's own code (tests/fixtures/db/make_release_db.py). Every expectation here is read
from the dump itself, never typed in.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pg import fresh_schema_url, pg_server  # noqa: F401  (pg_server: fixture, requested by name)
from sqlalchemy import text
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from extractor.cli.app import app, register_commands
from extractor.core.schema import Record
from extractor.extract.llm.cache import CallLog, LLMCache
from extractor.review import open_session
from extractor.review.audit import audit_entries
from extractor.review.decisions import load_decisions
from extractor.review.queue import load_queue
from extractor.store import RecordVersionInfo, SchemaVersionError, Store, head_revision, metadata, migrate
from extractor.store.diff import FieldChange
from extractor.store.engine import create_db_engine, parse_db_url

DUMP = Path(__file__).resolve().parent / "fixtures" / "db" / "release-f781059.sql"
APP = Path(__file__).resolve().parent.parent / "review_app.py"
RELEASE_TABLES = ["documents", "runs", "record_versions", "review_decisions", "llm_cache", "llm_calls"]

register_commands()
runner = CliRunner()


# -- the release database, as its dump says ---------------------------------------------------


class Raw:
    """The release database's rows, read straight from the dump (no extractor code)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        connection.row_factory = sqlite3.Row
        self.tables = {
            table: [dict(row) for row in connection.execute(f"SELECT * FROM {table} ORDER BY 1")]
            for table in RELEASE_TABLES
        }

    def document(self, doc_id: str) -> dict[str, Any]:
        return next(d for d in self.tables["documents"] if d["doc_id"] == doc_id)

    def versions(self, doc_id: str) -> list[dict[str, Any]]:
        document = self.document(doc_id)
        rows = [v for v in self.tables["record_versions"] if v["document_id"] == document["id"]]
        return sorted(rows, key=lambda v: v["version"])

    def version_infos(self, doc_id: str) -> list[RecordVersionInfo]:
        document = self.document(doc_id)
        return [
            RecordVersionInfo(
                doc_id=document["doc_id"],
                sha256=document["sha256"],
                version=v["version"],
                kind=v["kind"],
                status=v["status"],
                reviewer=v["reviewer"],
                backend=v["backend"],
                model=v["model"],
                prompt_hash=v["prompt_hash"],
                run_id=v["run_id"],
                base_version=v["base_version"],
                diff=None
                if v["diff_json"] is None
                else [FieldChange.model_validate(c) for c in json.loads(v["diff_json"])],
                created_at=utc(v["created_at"]),
            )
            for v in self.versions(doc_id)
        ]


def utc(stored: str) -> dt.datetime:
    """A timestamp as SQLite holds it (naive UTC text) as an aware datetime."""
    return dt.datetime.fromisoformat(stored).replace(tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def raw() -> Raw:
    connection = sqlite3.connect(":memory:")
    try:
        connection.executescript(DUMP.read_text(encoding="utf-8"))
        return Raw(connection)
    finally:
        connection.close()


def load_release_db(path: Path) -> str:
    """A SQLite file holding the release database; returns its URL."""
    connection = sqlite3.connect(path)
    try:
        connection.executescript(DUMP.read_text(encoding="utf-8"))
    finally:
        connection.close()
    return f"sqlite:///{path}"


@pytest.fixture
def release_url(tmp_path: Path) -> str:
    return load_release_db(tmp_path / "release.db")


def table_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return Raw(connection).tables
    finally:
        connection.close()


def schema_diff(url: str) -> list[Any]:
    """What Alembic's autogenerate finds between the database and the models (nothing, ideally)."""
    engine = create_db_engine(parse_db_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def revision_in(url: str) -> str | None:
    engine = create_db_engine(parse_db_url(url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


# -- the release database survives -------------------------------------------------------------


def test_the_fixture_is_a_release_database_with_reviews_and_llm_rows(raw: Raw) -> None:
    assert "alembic_version" not in DUMP.read_text(encoding="utf-8")
    kinds = [(v["kind"], v["reviewer"], v["status"]) for v in raw.versions("lanshan-2024")]
    assert kinds == [
        ("extraction", None, "pending"),
        ("review", "张三", "in_review"),
        ("review", "李四", "approved"),
    ]
    decisions = [
        d["decision"] for row in raw.tables["review_decisions"] for d in json.loads(row["decisions_json"])
    ]
    assert {"accepted", "fixed", "rejected"} <= set(decisions)
    assert len(raw.tables["llm_cache"]) == len(raw.tables["llm_calls"]) == 1


def test_opening_the_release_database_upgrades_it_and_logs_one_line(
    release_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert revision_in(release_url) is None
    with caplog.at_level(logging.INFO, logger="extractor.store.migrate"), Store(release_url):
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "extractor.store.migrate"]
    assert len(lines) == 1 and "before migrations" in lines[0] and f"to {head_revision()}" in lines[0]
    assert revision_in(release_url) == head_revision()
    # Reopening an up-to-date database changes and logs nothing.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="extractor.store.migrate"), Store(release_url):
        pass
    assert not [r for r in caplog.records if r.name == "extractor.store.migrate"]


def test_every_row_of_the_release_survives_the_upgrade_unchanged(release_url: str, raw: Raw) -> None:
    with Store(release_url):
        pass
    upgraded = table_rows(release_url)
    # Columns added after the release (documents.layout_hints, 0004) are empty on its rows.
    for table, added in _ADDED_SINCE_RELEASE.items():
        assert all(row.pop(column) is None for row in upgraded[table] for column in added)
    assert upgraded == raw.tables
    assert schema_diff(release_url) == []


#: Columns later revisions add to the release's tables: (table -> columns).
_ADDED_SINCE_RELEASE = {"documents": ("layout_hints",)}


def test_documents_runs_versions_and_audit_read_back_as_saved(release_url: str, raw: Raw) -> None:
    with Store(release_url) as store:
        for document in raw.tables["documents"]:
            doc_id = document["doc_id"]
            stored = store.get_document(doc_id)
            assert stored is not None
            assert (stored.sha256, stored.path, stored.format, stored.ocr, stored.char_count) == (
                document["sha256"],
                document["path"],
                document["format"],
                bool(document["ocr"]),
                document["char_count"],
            )
            assert stored.created_at == utc(document["created_at"])
            source = store.source_document(doc_id)
            assert source is not None and source.text == document["text"]

            expected = raw.version_infos(doc_id)
            assert store.versions(doc_id) == expected
            assert audit_entries(store.versions(doc_id)) == audit_entries(expected)
            newest = raw.versions(doc_id)[-1]
            current = store.current_record(doc_id)
            assert current is not None and current.version == newest["version"]
            assert current.record == Record.model_validate(json.loads(newest["record_json"]))

        for run in raw.tables["runs"]:
            info = store.get_run(run["id"])
            assert info is not None
            assert (info.backend, info.model, info.status, info.stats) == (
                run["backend"],
                run["model"],
                run["status"],
                json.loads(run["stats"]),
            )
            assert info.started_at == utc(run["started_at"])


def test_review_decisions_and_llm_rows_read_back_as_saved(release_url: str, raw: Raw) -> None:
    with Store(release_url) as store:
        for row in raw.tables["review_decisions"]:
            loaded = load_decisions(store, document_id=row["document_id"], version=row["version"])
            # That release knew no overrides: every decision reads back as one without.
            assert all(d.override_reason is None for d in loaded)
            dumped = [d.model_dump(mode="json", exclude={"override_reason"}) for d in loaded]
            assert dumped == json.loads(row["decisions_json"])
        for row in raw.tables["llm_cache"]:
            cached = LLMCache(store.engine).get(row["key"])
            assert cached is not None
            assert (cached.answer_json, cached.input_tokens, cached.output_tokens) == (
                row["answer"],
                row["input_tokens"],
                row["output_tokens"],
            )
        logged = CallLog(store.engine).rows()
    assert [{**r, "started_at": r["started_at"].isoformat(sep=" ")} for r in logged] == raw.tables[
        "llm_calls"
    ]


def test_the_upgraded_release_database_takes_new_reviews(release_url: str, raw: Raw) -> None:
    with Store(release_url) as store:
        # The reopened review shows the decisions the release saved with it.
        reopened = open_session(store, "lanshan-2024")
        assert reopened.decisions() == load_decisions(
            store, document_id=raw.document("lanshan-2024")["id"], version=reopened.base_version
        )
        session = open_session(store, "heping-2024")
        session.accept_remaining()
        saved = session.save(store, reviewer="王五", status="approved")
        assert saved.version == raw.versions("heping-2024")[-1]["version"] + 1
        assert load_decisions(store, document_id=raw.document("heping-2024")["id"], version=saved.version)


def test_the_review_app_opens_the_upgraded_release_database(
    release_url: str, raw: Raw, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRACTOR_DB_URL", release_url)
    monkeypatch.setenv("EXTRACTOR_GOLD_DIR", str(tmp_path / "gold"))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    # Every document is listed, named by issuer and year (2024年) rather than by its id.
    shown = sorted(at.table[0].value["报告"])
    with Store(release_url) as store:
        assert shown == sorted(row.title for row in load_queue(store))
    assert len(shown) == len(raw.tables["documents"])
    assert not set(shown) & {d["doc_id"] for d in raw.tables["documents"]}
    at.button(key=f"rv_queue_open_{raw.document('lanshan-2024')['sha256'][:16]}").click().run()
    assert not at.exception and not at.error, at.exception or at.error
    at.session_state["rv_more_tabs"] = "修改记录"
    at.run()
    expected = [e.summary() for e in audit_entries(raw.version_infos("lanshan-2024"))]
    assert [e.label for e in at.expander if e.label in expected] == expected
    assert "打开的版本：v3（李四）" in " ".join(c.value for c in at.caption)


def test_db_commands_upgrade_the_release_database_and_report_head(release_url: str) -> None:
    before = runner.invoke(app, ["db", "current", "--db", release_url])
    assert before.exit_code == 0 and before.output.startswith("none")
    upgraded = runner.invoke(app, ["db", "upgrade", "--db", release_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert "made before migrations" in upgraded.output
    current = runner.invoke(app, ["db", "current", "--db", release_url])
    assert current.exit_code == 0 and current.output.strip() == f"{head_revision()} (head)"
    again = runner.invoke(app, ["db", "upgrade", "--db", release_url])
    assert again.output.strip() == f"already at {head_revision()} (head)"


def test_a_release_database_without_the_lazily_made_tables_gains_them(tmp_path: Path, raw: Raw) -> None:
    # The release created review_decisions and the LLM tables only on first use.
    url = load_release_db(tmp_path / "release.db")
    connection = sqlite3.connect(tmp_path / "release.db")
    with connection:
        connection.executescript("DROP TABLE review_decisions; DROP TABLE llm_cache; DROP TABLE llm_calls;")
    connection.close()
    with Store(url) as store:
        session = open_session(store, "heping-2024")
        session.accept_remaining()
        session.save(store, reviewer="王五", status="approved")
    assert schema_diff(url) == []
    assert (
        table_rows(url)["record_versions"][: len(raw.tables["record_versions"])]
        == raw.tables["record_versions"]
    )


# -- fresh databases, newer databases, concurrent upgrades --------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with fresh_schema_url(request.getfixturevalue("pg_server")) as url:
        yield url


def test_a_fresh_database_built_by_the_migrations_matches_the_models(fresh_url: str) -> None:
    with Store(fresh_url):
        pass
    assert revision_in(fresh_url) == head_revision()
    assert schema_diff(fresh_url) == []


def test_a_database_newer_than_this_code_is_refused_in_one_line(fresh_url: str) -> None:
    with Store(fresh_url) as store, store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d'")
    with pytest.raises(SchemaVersionError) as refused:
        Store(fresh_url)
    message = str(refused.value)
    assert "\n" not in message and "'f00d'" in message and "newer" in message
    assert revision_in(fresh_url) == "f00d"
    current = runner.invoke(app, ["db", "current", "--db", fresh_url])
    assert current.exit_code == 1 and "newer extractor" in current.output


_UPGRADE_AT = """
import sys, time
from extractor.store.migrate import upgrade_url
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
print(upgrade_url(sys.argv[2]).before)
"""


def test_processes_upgrading_one_fresh_database_at_once_all_succeed(fresh_url: str) -> None:
    # Every process waits for the same instant, so their upgrades really overlap.
    start = time.time() + 3
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _UPGRADE_AT, str(start), fresh_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], [err[-500:] for _out, err in outputs]
    # Exactly one built the schema; the others found it done.
    assert sorted(out.strip() for out, _err in outputs) == sorted(["None", *[head_revision()] * 3])
    assert revision_in(fresh_url) == head_revision()
    assert schema_diff(fresh_url) == []


def test_a_database_made_by_create_all_like_the_release_is_adopted(fresh_url: str) -> None:
    # What the release did on open (also on PostgreSQL): create the store's own tables.
    engine = create_db_engine(parse_db_url(fresh_url))
    release_own = [metadata.tables[name] for name in ("documents", "runs", "record_versions")]
    metadata.create_all(engine, tables=release_own)
    with engine.begin() as connection:  # the release's tables had none of the later columns
        for table, added in _ADDED_SINCE_RELEASE.items():
            for column in added:
                connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
    engine.dispose()
    with Store(fresh_url) as store:
        assert store.list_documents() == []
    assert revision_in(fresh_url) == head_revision()
    assert schema_diff(fresh_url) == []


_NEXT_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9999_runs_note"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch_op:
        batch_op.drop_column("note")
"""


@pytest.fixture
def with_next_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The shipped migrations plus a made-up next revision (after the shipped head) that adds
    `runs.note`; yields its id."""
    shipped = migrate.MIGRATIONS_DIR
    copy = tmp_path / "migrations"
    shutil.copytree(shipped, copy, ignore=shutil.ignore_patterns("__pycache__"))
    next_revision = _NEXT_REVISION.replace("{down}", head_revision())
    (copy / "versions" / "9999_runs_note.py").write_text(next_revision, encoding="utf-8")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    migrate._scripts.cache_clear()
    yield "9999_runs_note"
    monkeypatch.undo()
    migrate._scripts.cache_clear()


def test_an_existing_database_gains_a_later_revision_on_open(
    release_url: str, raw: Raw, with_next_revision: str
) -> None:
    with Store(release_url):
        pass
    # The release database was adopted at 0001; this code ships later revisions as well.
    assert revision_in(release_url) == with_next_revision
    with sqlite3.connect(release_url.removeprefix("sqlite:///")) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
    assert columns[-1] == "note"
    assert table_rows(release_url)["record_versions"] == raw.tables["record_versions"]


def test_a_database_at_an_older_revision_is_upgraded_and_logged(
    tmp_path: Path, with_next_revision: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'older.db'}"
    engine = create_db_engine(parse_db_url(url))
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0001")
    engine.dispose()
    with caplog.at_level(logging.INFO, logger="extractor.store.migrate"), Store(url):
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "extractor.store.migrate"]
    assert len(lines) == 1 and lines[0].endswith(f"schema upgraded from 0001 to {with_next_revision}")
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"review_drafts", "review_locks", "queue_jobs", "runs"} <= tables
    assert revision_in(url) == with_next_revision
