"""Opening a store: SQLite settings, the default database, PostgreSQL URLs and errors that
never show a password."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pg import pg_server  # noqa: F401  (fixture, requested by name)
from sqlalchemy import text
from sqlalchemy.engine import make_url
from store_fixtures import make_doc

from extractor.core.errors import StoreError
from extractor.store import Store, default_db_url


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'x.db'}") as opened, opened.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() > 0


def test_default_database_is_extractor_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXTRACTOR_DB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    with Store() as opened:
        opened.upsert_document(make_doc())
    assert (tmp_path / "extractor.db").is_file()

    monkeypatch.setenv("EXTRACTOR_DB_URL", f"sqlite:///{tmp_path / 'from-env.db'}")
    assert default_db_url() == f"sqlite:///{tmp_path / 'from-env.db'}"
    with Store() as opened:
        assert opened.list_documents() == []
    assert (tmp_path / "from-env.db").is_file()


def test_plain_postgresql_url_uses_psycopg_and_connection_errors_hide_the_password() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError) as failed:
        Store(f"postgresql://extractor:pw-Secret%40123@127.0.0.1:{port}/extractor")

    message = str(failed.value)
    assert "cannot open database" in message and f"127.0.0.1:{port}" in message
    assert "***" in message and "Secret" not in message and "\n" not in message
    assert "psycopg" in message  # the plain URL was mapped to the psycopg 3 driver


@pytest.mark.postgres
def test_refused_login_hides_the_password(request: pytest.FixtureRequest) -> None:
    wrong = make_url(request.getfixturevalue("pg_server")).set(password="not-the-Password-42")
    try:
        Store(wrong.render_as_string(hide_password=False)).close()
    except StoreError as e:
        message = str(e)
    else:
        pytest.skip("this server accepts any password (trust authentication)")
    assert "password authentication failed" in message
    assert "not-the-Password-42" not in message and "***" in message and "\n" not in message


def test_store_error_for_unwritable_sqlite_path(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open database"):
        Store(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
