"""Answer cache and call log, in the extractor database (tables: extractor.store.tables).

Cache: every successful model answer keyed by sha256(model, mode, prompt hash, schema
version, response model, input text); a repeated run answers from it with no HTTP request.
Only answers that passed validation are cached, so a failed section is tried again next run.

Call log (simonw/llm style): one row per logical call with time, model, document, section,
prompt hash, tokens, attempts, status, error and estimated cost. Never a key or a header.

The engine is injectable: pass the store's (`Store(url).engine`) to share its database, or
let `open_llm_engine(url)` open one the same way the store does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import Engine, Insert, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from extractor.core.errors import ExtractorError
from extractor.core.schema import SCHEMA_VERSION
from extractor.extract.llm.costs import CallRecord
from extractor.store.engine import WRITE_OPTION, create_db_engine, default_db_url, parse_db_url, store_error
from extractor.store.migrate import upgrade_database
from extractor.store.rows import LLMCallRow
from extractor.store.tables import LLM_CACHE, LLM_CALLS, utc_now


def open_llm_engine(url: str | None = None) -> Engine:
    """An engine on `url` (default: the store's default database), its schema at head."""
    parsed = parse_db_url(url or default_db_url())
    engine = create_db_engine(parsed)
    try:
        ensure_tables(engine)
    except ExtractorError:
        engine.dispose()
        raise
    return engine


def ensure_tables(engine: Engine) -> None:
    """Bring the engine's database to the store's schema, cache and call log included
    (idempotent; the migrations own every table)."""
    upgrade_database(engine)


def cache_key(*, model: str, mode: str, prompt_hash: str, response_model: str, input_text: str) -> str:
    """sha256 over everything that determines the answer (schema version included)."""
    parts = [model, mode, prompt_hash, str(SCHEMA_VERSION), response_model, input_text]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    answer_json: str
    input_tokens: int
    output_tokens: int


#: The tables, as Core sees them (declared with Tables: their columns are known).
CACHE_TABLE = LLM_CACHE
CALLS_TABLE = LLM_CALLS


@dataclass(frozen=True, slots=True)
class PendingAnswer:
    """A validated answer's cache row, to be written with its call's log row (one transaction)."""

    values: dict[str, object]


class _Tables:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Writers take SQLite's write lock up front (see extractor.store.engine).
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._postgres = engine.dialect.name == "postgresql"
        ensure_tables(engine)

    def _write(
        self, action: str, *, answer: PendingAnswer | None = None, call: dict[str, object] | None = None
    ) -> None:
        """Insert a cache row and/or a call-log row in one transaction (Core: no ORM unit of
        work per call). A cache key already stored (another thread or worker got the same
        answer first) is left as it is: same key, same answer."""
        try:
            with self._writer.begin() as connection:
                if self._postgres:
                    # Only for these rows: a server crash may then lose the last instant's
                    # commits, which costs at most asking the model those calls again (a lost
                    # cache row) or a missing line in the call log, never a record, a review
                    # or a job's state (those commit as usual). Waiting for the WAL flush per
                    # call is what this saves, on every model call of every worker.
                    connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                if answer is not None:
                    connection.execute(self._insert_answer(), answer.values)
                if call is not None:
                    connection.execute(insert(CALLS_TABLE), call)
        except SQLAlchemyError as e:
            raise store_error(action, e, self.engine.url) from e

    def _insert_answer(self) -> Insert:
        if self._postgres:
            return postgresql_insert(CACHE_TABLE).on_conflict_do_nothing(index_elements=["key"])
        return sqlite_insert(CACHE_TABLE).on_conflict_do_nothing(index_elements=["key"])


class LLMCache(_Tables):
    """Validated answers by cache key. Thread-safe (a connection per operation)."""

    def get(self, key: str) -> CachedAnswer | None:
        table = CACHE_TABLE
        query = select(table.c.answer, table.c.input_tokens, table.c.output_tokens).where(table.c.key == key)
        try:
            with self.engine.connect() as connection:
                row = connection.execute(query).first()
        except SQLAlchemyError as e:
            raise store_error("cannot read the LLM cache", e, self.engine.url) from e
        return None if row is None else CachedAnswer(row.answer, row.input_tokens, row.output_tokens)

    def answer(
        self,
        key: str,
        *,
        answer_json: str,
        model: str,
        mode: str,
        prompt_hash: str,
        response_model: str,
        input_tokens: int,
        output_tokens: int,
    ) -> PendingAnswer:
        """The cache row of a validated answer (write it with `put_pending` or `CallLog.add`)."""
        return PendingAnswer(
            {
                "key": key,
                "model": model,
                "mode": mode,
                "prompt_hash": prompt_hash,
                "response_model": response_model,
                "answer": answer_json,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "created_at": utc_now(),
            }
        )

    def put_pending(self, pending: PendingAnswer) -> None:
        self._write("cannot write the LLM cache", answer=pending)


class CallLog(_Tables):
    """Append-only log of model calls. Thread-safe."""

    def add(
        self,
        call: CallRecord,
        *,
        doc_id: str,
        model: str,
        mode: str,
        prompt_hash: str,
        run_id: str | None = None,
        answer: PendingAnswer | None = None,
    ) -> None:
        """Log `call`; `answer`: its cache row, written in the same transaction (the call log
        and the cache share this engine's database)."""
        row: dict[str, object] = {
            "started_at": call.started_at or utc_now(),
            "run_id": run_id,
            "doc_id": doc_id,
            "kind": call.kind,
            "section": call.section,
            "model": model,
            "mode": mode,
            "prompt_hash": prompt_hash,
            "status": call.status,
            "attempts": call.attempts,
            "input_tokens": call.input_tokens,
            "output_tokens": call.output_tokens,
            "cost_usd": call.cost_usd,
            "duration_ms": call.duration_ms,
            "error": call.error,
        }
        self._write("cannot write the LLM call log", answer=answer, call=row)

    def rows(self, *, doc_id: str | None = None, run_id: str | None = None) -> list[dict[str, object]]:
        """Logged calls, oldest first, as plain dicts (column name -> value)."""
        query = select(LLMCallRow).order_by(LLMCallRow.id)
        if doc_id is not None:
            query = query.where(LLMCallRow.doc_id == doc_id)
        if run_id is not None:
            query = query.where(LLMCallRow.run_id == run_id)
        try:
            with Session(self.engine) as session:
                return [
                    {c.name: getattr(row, c.name) for c in LLMCallRow.__table__.columns}
                    for row in session.scalars(query)
                ]
        except SQLAlchemyError as e:
            raise store_error("cannot read the LLM call log", e, self.engine.url) from e
