"""A PostgreSQL server for tests: `$EXTRACTOR_TEST_PG_URL`, or a throwaway local one.

`pg_server` (session fixture) yields a base URL. Without `$EXTRACTOR_TEST_PG_URL` it starts
a private server from the installed PostgreSQL binaries (initdb + pg_ctl; as root they run
as the `postgres` user) in a temp directory, on 127.0.0.1 and a free port, and removes it
afterwards. If no server can be had the PostgreSQL tests are skipped with the reason, except
under CI (`$CI` set), where that is a failure: CI must really test PostgreSQL.

`fresh_schema_url(base_url)` gives each test an empty schema of its own.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

PG_URL_ENV = "EXTRACTOR_TEST_PG_URL"
_SERVER_USER = "postgres"
_START_TIMEOUT_S = 60


class PostgresUnavailable(Exception):
    """No PostgreSQL server could be reached or started (the message says why)."""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Base URL (psycopg 3 driver) of a PostgreSQL server the tests may create schemas in."""
    configured = os.environ.get(PG_URL_ENV, "").strip()
    try:
        if configured:
            url = _psycopg_url(configured)
            _check_connection(url)
            yield url
            return
        with _throwaway_server() as url:
            yield url
    except PostgresUnavailable as e:
        reason = f"PostgreSQL unavailable: {e}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so PostgreSQL tests must run)", pytrace=False)
        hint = f"check {PG_URL_ENV}" if configured else f"set {PG_URL_ENV} to run them"
        pytest.skip(f"{reason}; {hint}")


@pytest.fixture(name="db_url", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sqlite_and_postgres_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """`db_url`: a fresh empty database, once on SQLite and once on PostgreSQL (a schema of its
    own); a test module that imports this function gets the fixture."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'extractor.db'}"
        return
    with fresh_schema_url(request.getfixturevalue("pg_server")) as url:
        yield url


@contextlib.contextmanager
def fresh_schema_url(base_url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema, dropped (with its tables) afterwards."""
    schema = f"test_{secrets.token_hex(6)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def _psycopg_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _check_connection(url: str) -> None:
    engine = create_engine(url, connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:
        masked = make_url(url).render_as_string(hide_password=True)
        detail = " ".join(str(getattr(e, "orig", None) or e).split())[:300]
        raise PostgresUnavailable(f"cannot connect to {masked}: {detail}") from e
    finally:
        engine.dispose()


@contextlib.contextmanager
def _throwaway_server() -> Iterator[str]:
    bindir = _find_bindir()
    run_as = _server_user()
    workdir = Path(tempfile.mkdtemp(prefix="extractor-pg-"))
    data, sockets, log = workdir / "data", workdir / "sock", workdir / "server.log"
    password = secrets.token_hex(12)
    port = _free_port()
    started = False
    try:
        sockets.mkdir()
        (workdir / "pwfile").write_text(password + "\n")
        if run_as is not None:
            uid, gid = run_as.pw_uid, run_as.pw_gid
            for path in (workdir, sockets, workdir / "pwfile"):
                os.chown(path, uid, gid)
        _run(
            run_as,
            [
                str(bindir / "initdb"),
                "-D", str(data),
                "-U", "postgres",
                "--pwfile", str(workdir / "pwfile"),
                "--auth-local=trust",
                # TCP logins need the password, so the tests can check a refused login.
                "--auth-host=scram-sha-256",
                "-E", "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c full_page_writes=off"
        _run(run_as, [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"])
        started = True
        url = URL.create(
            "postgresql+psycopg",
            username="postgres",
            password=password,
            host="127.0.0.1",
            port=port,
            database="postgres",
        ).render_as_string(hide_password=False)
        _check_connection(url)
        yield url
    finally:
        if started:
            with contextlib.suppress(PostgresUnavailable):
                _run(run_as, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(workdir, ignore_errors=True)


def _find_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(on_path)
    for initdb in candidates:
        bindir = Path(initdb).parent
        if (bindir / "pg_ctl").exists():
            return bindir
    raise PostgresUnavailable("no initdb/pg_ctl found (install the Debian package `postgresql`)")


def _version_key(initdb: str) -> int:
    version = Path(initdb).parent.parent.name
    return int(version) if version.isdigit() else 0


def _server_user() -> pwd.struct_passwd | None:
    """The user to run the server as: None (ourselves) unless we are root, which initdb refuses."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(_SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and there is no `{_SERVER_USER}` user to run the server"
        ) from None


def _run(run_as: pwd.struct_passwd | None, argv: list[str]) -> None:
    program = Path(argv[0]).name
    if run_as is not None:
        argv = ["runuser", "-u", run_as.pw_name, "--", *argv]
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=_START_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as e:
        output = getattr(e, "stderr", None) or getattr(e, "stdout", None) or str(e)
        raise PostgresUnavailable(f"{program} failed: {' '.join(output.split())[:300]}") from e


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
