"""Alembic's environment: run the migrations on the connection the store hands over.

`extractor.store.migrate` passes an open connection, inside its own transaction and lock,
as `config.attributes["connection"]`; the migrations then commit or roll back with it.
Without one (making a new revision), a connection is opened on `sqlalchemy.url`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from extractor.store.engine import create_db_engine, parse_db_url
from extractor.store.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: generated revisions copy-and-move the table instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    given: Connection | None = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = create_db_engine(parse_db_url(context.config.get_main_option("sqlalchemy.url") or ""))
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them on a database")
_run_online()
