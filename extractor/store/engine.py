"""Database URLs and engines: which database, how to connect, and safe error messages.

Guarantees: a URL never appears in a message with its password; a plain `postgresql://`
URL uses psycopg 3; SQLite connections run in WAL mode with a busy timeout and enforced
foreign keys, and a write transaction takes SQLite's write lock when it begins.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from extractor.core.errors import StoreError

#: Environment variable naming the database (overridden by an explicit `url=`).
DB_URL_ENV = "EXTRACTOR_DB_URL"
#: Default database file, created in the current working directory.
DEFAULT_DB_FILE = "extractor.db"
#: How long a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Seconds before a PostgreSQL connection attempt gives up (an unreachable host otherwise hangs).
PG_CONNECT_TIMEOUT_S = 10
#: Execution option marking a connection that will write (see `_sqlite_begin`).
WRITE_OPTION = "extractor_write"


class JSONText(str):
    """A value for a JSON column that is already JSON text: stored as it is, not serialised
    again (a batch serialises each record once, in pydantic's compiled serialiser, instead
    of building it as Python objects and encoding those)."""


def _json_serializer(value: Any) -> str:
    if isinstance(value, JSONText):
        return value
    # Keep Chinese readable in the stored JSON (and in psql / sqlite3 sessions).
    return json.dumps(value, ensure_ascii=False)


def default_db_url() -> str:
    """The database URL to use when none is given: `$EXTRACTOR_DB_URL`, else
    `sqlite:///<cwd>/extractor.db` (resolved now, so a later `chdir` changes nothing)."""
    from_env = os.environ.get(DB_URL_ENV, "").strip()
    if from_env:
        return from_env
    return f"sqlite:///{Path.cwd() / DEFAULT_DB_FILE}"


def parse_db_url(url: str) -> URL:
    """Parse `url`, mapping the plain PostgreSQL forms to the psycopg 3 driver.

    Raises StoreError (password masked) if the URL cannot be parsed.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as e:
        raise StoreError("not a valid database URL", source=mask_db_url(url)) from e
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def mask_db_url(url: str | URL) -> str:
    """`url` as text with its password replaced by `***` (also for unparseable URLs)."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Unparseable: hide anything between "scheme://user:" and "@".
        scheme, sep, rest = url.partition("://")
        userinfo, at, host = rest.rpartition("@")
        if not sep or not at or ":" not in userinfo:
            return url
        return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


def scrub_password(message: str, url: URL) -> str:
    """`message` with every form of `url`'s password replaced by `***`.

    Driver messages do not normally echo passwords, but a message is shown to users and
    logged, so it is never trusted to be clean.
    """
    password = url.password
    if not password:
        return message
    for form in {str(password), quote(str(password), safe="")}:
        message = message.replace(form, "***")
    return message


def create_db_engine(url: URL) -> Engine:
    """An engine for `url` with the connection settings this project relies on."""
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    engine = create_engine(
        url,
        connect_args=connect_args,
        json_serializer=_json_serializer,
        pool_pre_ping=True,
    )
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN runs only before DML, so a read-then-write
        # transaction would not be atomic; take over transaction control (SQLAlchemy's
        # documented recipe) and emit BEGIN ourselves in `_sqlite_begin`.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # The busy timeout first: switching a fresh database to WAL needs an exclusive
            # lock, and another process may be building the schema right then.
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # WAL: readers (the review app) never block the writer, nor the writer them.
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL never corrupts the database; a power cut (not a process
            # crash) may lose the last commits, which --resume redoes. FULL would sync the
            # disk on every commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        # A writer takes the write lock up front (IMMEDIATE): its reads and its insert are
        # then one atomic step, and two writers queue on the busy timeout instead of one
        # failing on a stale snapshot.
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def store_error(action: str, error: SQLAlchemyError, url: URL) -> StoreError:
    """A one-line StoreError for a failed database `action`, naming the (masked) database."""
    original = getattr(error, "orig", None) or error
    detail = " ".join(str(original).split()) or type(original).__name__
    return StoreError(f"{action}: {scrub_password(detail, url)}", source=mask_db_url(url))
