"""Schema migrations (Alembic): bring a database to the schema this code expects.

Guarantees:
- `upgrade_database` moves a database to the head revision in one transaction (it fully
  happens or the database is left as it was) and logs one line saying from which revision
  to which; a database already at head costs one read and takes no lock (nor the import
  of Alembic: every command opening the store would pay for it).
- A database made before migrations existed (release f781059 and earlier: tables, no
  `alembic_version`) is recognised and adopted as revision 0001: the tables it has are kept
  as they are, those it never needed yet (review decisions, LLM cache) are created.
- Concurrent upgrades of one database queue instead of failing: on PostgreSQL behind a
  transaction-level advisory lock (per schema), on SQLite behind the write lock (BEGIN
  IMMEDIATE) with the engine's busy timeout. The loser then finds the work done.
- A database at a revision this code does not know (written by newer code) raises
  SchemaVersionError, one line, and nothing is changed.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from extractor.core.errors import StoreError
from extractor.store.engine import (
    WRITE_OPTION,
    create_db_engine,
    default_db_url,
    mask_db_url,
    parse_db_url,
    store_error,
)
from extractor.store.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
#: The revision a database made before migrations is adopted as.
BASELINE_REVISION = "0001"
#: Takes the advisory lock of the current schema: two schemas of one server (the tests'
#: throwaway schemas, or two deployments) upgrade independently.
_PG_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext('extractor.store.migrate'), hashtext(current_schema()))"
)


class SchemaVersionError(StoreError):
    """The database's schema revision is unknown to this code (made by a newer version)."""


@dataclass(frozen=True, slots=True)
class UpgradeOutcome:
    """What `upgrade_database` did: the revision before (None: no schema yet), after, and
    whether the database was one made before migrations."""

    before: str | None
    after: str
    adopted: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(connection: Connection | None = None, *, url: str | None = None) -> Config:
    """An Alembic configuration for the shipped migrations (no alembic.ini): on `connection`
    (used as it is, inside the caller's transaction), else on `url`."""
    from alembic.config import Config

    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolates "%": a URL-encoded password must be escaped.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def shipped_head() -> str | None:
    """The head revision read from the migration files' `revision` and `down_revision`
    assignments without importing Alembic (the start-up fast path); None when that is not
    a single unambiguous head (then only Alembic's answer, `head_revision`, is used)."""
    return _head_of(MIGRATIONS_DIR)


@functools.cache
def _head_of(migrations_dir: Path) -> str | None:
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir / "versions").glob("*.py"):
        values = _module_constants(path)
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):  # a merge revision
            parents.update(d for d in down if isinstance(d, str))
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def _module_constants(path: Path) -> dict[str, object]:
    """The literal values assigned to plain names at the top level of a Python file.

    Read from the file's head, before its first function or class, where a migration
    assigns its `revision` (a tenth of the text to parse: every start reads them all); the
    whole file when its head does not parse or assigns no `revision`."""
    text = path.read_text(encoding="utf-8")
    first_definition = _FIRST_DEFINITION.search(text)
    if first_definition is not None:
        with contextlib.suppress(SyntaxError):
            values = _assigned_literals(text[: first_definition.start()])
            if "revision" in values:
                return values
    return _assigned_literals(text)


#: A top-level function or class: a migration's revision identifiers come before it.
_FIRST_DEFINITION = re.compile(r"^(?:async def|def|class) ", re.MULTILINE)


def _assigned_literals(source: str) -> dict[str, object]:
    values: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                with contextlib.suppress(ValueError):
                    values[target.id] = ast.literal_eval(value)
    return values


def _at_head_quickly(connection: Connection) -> bool:
    """Whether the database is at the shipped head, read with one query (no Alembic)."""
    head = shipped_head()
    if head is None or not inspect(connection).has_table("alembic_version"):
        return False
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows == [head]


def head_revision() -> str:
    """The newest revision this code ships."""
    head = _scripts().get_current_head()
    if head is None:
        raise AssertionError(f"no migration revisions in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None: no `alembic_version`, i.e. new or made before migrations)."""
    try:
        with engine.connect() as connection:
            return _revision(connection)
    except SQLAlchemyError as e:
        raise store_error("cannot read the schema revision", e, engine.url) from e


#: SQLite answers "database is locked" at once, without waiting out the busy timeout, when
#: waiting could deadlock (a connection asking to write while others hold the schema being
#: built); processes opening one fresh database together then retry after a pause.
_SQLITE_LOCKED_ATTEMPTS = 5


def upgrade_database(engine: Engine, *, action: str = "cannot upgrade the database schema") -> UpgradeOutcome:
    """Upgrade the database behind `engine` to the head revision (see the module docstring).

    Raises SchemaVersionError for a database newer than this code, StoreError (`action`,
    password masked) if the database cannot be reached or refuses.
    """
    for attempt in range(1, _SQLITE_LOCKED_ATTEMPTS + 1):
        try:
            return _upgrade_once(engine, action=action)
        except StoreError as e:
            locked = engine.dialect.name == "sqlite" and "database is locked" in str(e)
            if not locked or attempt == _SQLITE_LOCKED_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def _upgrade_once(engine: Engine, *, action: str) -> UpgradeOutcome:
    try:
        with engine.connect() as connection:
            if _at_head_quickly(connection):
                head = shipped_head() or head_revision()
                return UpgradeOutcome(before=head, after=head)
            before = _revision(connection)
        head = head_revision()
        _check_known(before, engine)
        if before == head:
            return UpgradeOutcome(before=before, after=head)
        from alembic import command

        with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(_PG_LOCK)
            # Another process may have upgraded while this one waited for the lock.
            before = _revision(connection)
            _check_known(before, engine)
            if before == head:
                return UpgradeOutcome(before=before, after=head)
            adopted = before is None and _has_release_tables(connection)
            command.upgrade(alembic_config(connection), "head")
    except SQLAlchemyError as e:
        raise store_error(action, e, engine.url) from e
    outcome = UpgradeOutcome(before=before, after=head, adopted=adopted)
    log.info("database %s: schema upgraded from %s to %s", mask_db_url(engine.url), _describe(outcome), head)
    return outcome


def upgrade_url(url: str | None = None) -> UpgradeOutcome:
    """`upgrade_database` on the database at `url` (default: the store's default database)."""
    engine = create_db_engine(parse_db_url(url or default_db_url()))
    try:
        return upgrade_database(engine)
    finally:
        engine.dispose()


def revision_of_url(url: str | None = None) -> str | None:
    """`current_revision` of the database at `url` (default: the store's default database)."""
    engine = create_db_engine(parse_db_url(url or default_db_url()))
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def new_revision(message: str, *, rev_id: str, url: str) -> None:
    """Write revision `rev_id` (the next number: "0002", ...) from what differs between the
    models and the database at `url` (which must be at head): a starting point for a
    developer to read and fix, never shipped unread."""
    from alembic import command

    command.revision(alembic_config(url=url), message=message, autogenerate=True, rev_id=rev_id)


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def is_known_revision(revision: str) -> bool:
    """Whether this code ships `revision` (an unknown one was made by newer code)."""
    return revision in {script.revision for script in _scripts().walk_revisions()}


def _check_known(revision: str | None, engine: Engine) -> None:
    if revision is None or is_known_revision(revision):
        return
    raise SchemaVersionError(
        f"the database is at schema revision {revision!r}, newer than this version of extractor "
        f"knows (head {head_revision()!r}); upgrade extractor to open it",
        source=mask_db_url(engine.url),
    )


def _has_release_tables(connection: Connection) -> bool:
    existing = set(inspect(connection).get_table_names())
    return bool(existing & set(metadata.tables))


def _describe(outcome: UpgradeOutcome) -> str:
    if outcome.adopted:
        return f"a release before migrations (adopted as {BASELINE_REVISION})"
    return outcome.before or "an empty database"
