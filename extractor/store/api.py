"""The Store: documents, extraction runs and the versioned, reviewed records.

Guarantees:
- Versions are append-only: nothing a reviewer saved is ever updated or deleted, and a
  document's current record is its newest review if it has one (a later extraction is kept
  in the log but does not replace reviewed work).
- Each write is one transaction: it fully happens or leaves the database as it was.
- Every database failure surfaces as a one-line StoreError naming the database with its
  password masked; a stale review save surfaces as ReviewConflictError.
- Opening a Store brings its database to this code's schema (extractor.store.migrate).

`extractor extract` opens the store, runs and saves its batches in SQLAlchemy Core; the ORM
(and the modules built on it: queries, writes, drafts) is imported by the methods that read
or review, on first use, so the extract path never pays for importing it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from extractor.core.document import SourceDocument
from extractor.core.errors import ExtractorError, StoreError
from extractor.core.schema import Record
from extractor.store import runs
from extractor.store.engine import (
    WRITE_OPTION,
    create_db_engine,
    default_db_url,
    mask_db_url,
    parse_db_url,
    store_error,
)
from extractor.store.extractions import extraction_exists, save_new_extractions
from extractor.store.migrate import upgrade_database
from extractor.store.models import (
    DocumentSummary,
    DraftInfo,
    LockInfo,
    RecordVersionInfo,
    RunInfo,
    StoredDocument,
    StoredRecord,
)
from extractor.store.tables import DOCUMENTS, RECORD_VERSIONS, REVIEW_STATUSES, ReviewStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

#: Attempts for writes that can lose a harmless race (two processes adding the same new
#: document or the next extraction version at once); the loser retries and finds the row.
_RACE_ATTEMPTS = 3

#: Writes rows that belong with a review version (the reviewer's decisions) inside the
#: save's own transaction: given the session and the version being saved.
CompanionWrite = Callable[["Session", RecordVersionInfo], None]


class Store:
    """Access to the extractor database (SQLite file by default, or PostgreSQL).

    `url` overrides `$EXTRACTOR_DB_URL`, which overrides `sqlite:///./extractor.db`.
    The database is upgraded to this code's schema on open (a new one is built). Safe to
    share between threads; every method runs in its own transaction and returns detached models.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = parse_db_url(url or default_db_url())
        self.engine = create_db_engine(self.url)
        # Write transactions in Core take SQLite's write lock up front, as `_write`'s do.
        self._writer = self.engine.execution_options(**{WRITE_OPTION: True})
        try:
            upgrade_database(self.engine, action="cannot open database")
        except ExtractorError:
            self.engine.dispose()
            raise

    @functools.cached_property
    def _sessions(self) -> sessionmaker[Session]:
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Release every pooled connection (the Store must not be used afterwards)."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({mask_db_url(self.url)!r})"

    # -- documents -------------------------------------------------------------------

    def upsert_document(self, doc: SourceDocument) -> StoredDocument:
        """Store `doc` once per content: the same text (sha256) always maps to the same row,
        whose path, format and OCR flag follow the latest upsert; its doc_id stays as first
        stored, so records and links keep working after a file is renamed."""
        from extractor.store import queries as q
        from extractor.store import writes

        return self._write(
            "cannot save document",
            lambda s: q.to_document(writes.upsert_document_row(s, doc)),
            attempts=_RACE_ATTEMPTS,
        )

    def get_document(self, doc_key: str) -> StoredDocument | None:
        """The document with this doc_id or sha256, or None."""
        from extractor.store import queries as q

        def work(session: Session) -> StoredDocument | None:
            row = q.find_document(session, doc_key)
            return None if row is None else q.to_document(row)

        return self._read("cannot read document", work)

    def source_document(self, doc_key: str) -> SourceDocument | None:
        """The stored document rebuilt as a SourceDocument (original text), or None."""
        from extractor.store import queries as q
        from extractor.store import writes

        def work(session: Session) -> SourceDocument | None:
            row = q.find_document(session, doc_key)
            return None if row is None else writes.source_document_of(row)

        return self._read("cannot read document", work)

    # -- runs --------------------------------------------------------------------------

    def start_run(self, *, backend: str, model: str | None = None, prompt_hash: str | None = None) -> int:
        """Record the start of an extraction run; returns its id for `save_extraction`.

        Runs left "running" by a process that was killed or crashed are marked
        "interrupted" first (see extractor.store.runs)."""
        return self._write_core(
            "cannot start run", lambda c: runs.start(c, backend=backend, model=model, prompt_hash=prompt_hash)
        )

    def finish_run(self, run_id: int, *, status: str, stats: dict[str, Any]) -> None:
        """Mark a run finished with `status` and its `stats` (counts, tokens, cost)."""
        try:
            json.dumps(stats)
        except (TypeError, ValueError) as e:
            raise StoreError(f"run {run_id}: stats are not JSON-serialisable ({e})") from e
        self._write_core("cannot finish run", lambda c: runs.finish(c, run_id, status=status, stats=stats))

    def get_run(self, run_id: int) -> RunInfo | None:
        """The run with this id, or None."""
        from extractor.store import queries as q
        from extractor.store.rows import RunRow

        def work(session: Session) -> RunInfo | None:
            row = session.get(RunRow, run_id)
            return None if row is None else q.to_run(row)

        return self._read("cannot read run", work)

    # -- extractions -------------------------------------------------------------------

    def save_extraction(
        self, doc: SourceDocument, record: Record, *, run_id: int | None
    ) -> RecordVersionInfo:
        """Add `record` as the document's next 'extraction' version (the document is upserted).

        Re-running changes nothing: if the latest extraction of this document by the same
        backend, model and prompt hash holds the same record (timestamps and source path
        aside), that version is returned and no row is added. Backend, model and prompt hash
        come from `record.provenance`, else from the run. A document that has reviews keeps
        its reviewed record as current.
        """
        from extractor.store import writes

        return self._write(
            "cannot save extraction",
            lambda s: writes.save_extraction(s, doc, record, run_id=run_id),
            attempts=_RACE_ATTEMPTS,
        )

    def save_extractions(
        self, extractions: Sequence[tuple[SourceDocument, Record]], *, run_id: int | None
    ) -> list[RecordVersionInfo | StoreError]:
        """Save a batch of extractions in one transaction (one commit, one disk sync), each
        document as in `save_extraction`; the run's heartbeat is recorded with them.

        A document the database refuses does not cost the others: the batch is then saved
        again with each document in its own savepoint, and the refused one gets a StoreError
        naming its file in the result (at its position). If the transaction as a whole
        fails, StoreError is raised and none of the batch is saved.
        """

        def save_batch(session: Session, *, isolated: bool) -> list[RecordVersionInfo | StoreError]:
            from extractor.store import writes

            return writes.save_batch(
                session, extractions, run_id=run_id, isolated=isolated, attempts=_RACE_ATTEMPTS, url=self.url
            )

        def new_only(connection: Connection) -> list[RecordVersionInfo] | None:
            saved = save_new_extractions(connection, extractions, run_id=run_id)
            if saved is not None and run_id is not None:
                runs.beat(connection, run_id)
            return saved

        try:
            # The common case: every report new to the database, saved in Core.
            saved = self._write_core("cannot save extractions", new_only)
            if saved is not None:
                return [*saved]
            # Some content is stored already: compared with its versions, no savepoints.
            return self._write("cannot save extractions", lambda s: save_batch(s, isolated=False))
        except StoreError:
            return self._write("cannot save extractions", lambda s: save_batch(s, isolated=True))

    def has_extraction(
        self, sha256: str, *, backend: str, model: str | None = None, prompt_hash: str | None = None
    ) -> bool:
        """Whether the document with this content hash already has an extraction by exactly
        this backend, model and prompt hash (None matches only None), for `--resume`."""
        return self._read_core(
            "cannot check extraction",
            lambda c: extraction_exists(c, sha256, backend=backend, model=model, prompt_hash=prompt_hash),
        )

    # -- current records ---------------------------------------------------------------

    def current_record(self, doc_key: str) -> StoredRecord | None:
        """The document's current record (newest review, else newest extraction), or None if
        the document is unknown or has no record. `doc_key` is a doc_id or a sha256."""
        from extractor.store import queries as q

        def work(session: Session) -> StoredRecord | None:
            document = q.find_document(session, doc_key)
            row = None if document is None else q.current_version_row(session, document.id)
            if document is None or row is None:
                return None
            return q.to_stored_record(row, document, latest_version=q.max_version(session, document.id))

        return self._read("cannot read record", work)

    def current_records(self, *, approved_only: bool = False) -> list[StoredRecord]:
        """Every document's current record, ordered by doc_id (documents without a record
        are left out). `approved_only` keeps only reviews with status 'approved'."""
        from extractor.store import queries as q

        def work(session: Session) -> list[StoredRecord]:
            out = []
            for document, row, latest in session.execute(q.current_rows_query()):
                if row is None or (approved_only and (row.kind, row.status) != ("review", "approved")):
                    continue
                out.append(q.to_stored_record(row, document, latest_version=latest or row.version))
            return out

        return self._read("cannot read records", work)

    def data_version(self) -> tuple[int, int, int]:
        """(documents, record versions, newest record version id): changes whenever a record
        is saved (versions are only ever added). One cheap query, for caching what is
        computed from the current records."""

        def work(connection: Connection) -> tuple[int, int, int]:
            documents = connection.scalar(select(func.count(DOCUMENTS.c.id))) or 0
            versions = RECORD_VERSIONS.c
            count, newest = connection.execute(select(func.count(versions.id), func.max(versions.id))).one()
            return documents, count or 0, newest or 0

        return self._read_core("cannot read the data version", work)

    def records_fingerprint(self, *, approved_only: bool = False) -> str:
        """A digest that changes whenever `current_records(approved_only=...)` would return
        another record, and differs between databases; one query, no record loaded."""
        from extractor.store import queries as q

        return self._read(
            "cannot read the current record versions", lambda s: q.records_fingerprint(s, approved_only)
        )

    def list_documents(self) -> list[DocumentSummary]:
        """One summary per stored document, ordered by doc_id (the review queue)."""
        from extractor.store import queries as q

        def work(session: Session) -> list[DocumentSummary]:
            return [q.to_summary(d, r, latest) for d, r, latest in session.execute(q.current_rows_query())]

        return self._read("cannot list documents", work)

    # -- reviews -----------------------------------------------------------------------

    def save_review(
        self,
        doc_key: str,
        record: Record,
        *,
        base_version: int,
        reviewer: str,
        status: ReviewStatus,
        with_version: CompanionWrite | None = None,
        overridden: Collection[str] = (),
    ) -> RecordVersionInfo:
        """Save a reviewer's record as the document's next version, which becomes current.

        Every item and metric is checked against the source again (`store.grounding`):
        spans and alignment are recomputed, grounding flags replaced by what holds now. A
        status of 'approved' is refused (UngroundedApprovalError, Chinese message) while an
        item's evidence is not in the source or a metric's value is not in its evidence,
        unless that item's path (`achievements[0]`) is in `overridden` (the reviewer gave a
        written reason, recorded with the decisions).

        `base_version` is the version the reviewer loaded (`StoredRecord.version` or
        `.latest_version`). If another review, or an extraction that became current, was
        saved after it, ReviewConflictError names who saved, when and which fields changed,
        and nothing is written. The check and the insert are one transaction; the unique
        (document, version) constraint refuses the second of two simultaneous saves.
        `with_version` writes what belongs with the version (the reviewer's decisions) in
        that same transaction: if it fails, StoreError, and the version is not saved either.
        """
        from extractor.store import writes

        if status not in REVIEW_STATUSES:
            raise StoreError(
                f"unknown review status {status!r} (expected one of {', '.join(REVIEW_STATUSES)})"
            )
        if not reviewer.strip():
            raise StoreError("a review needs the reviewer's name", source=doc_key)

        def work(session: Session) -> RecordVersionInfo:
            info = writes.save_review(
                session,
                doc_key,
                record,
                base_version=base_version,
                reviewer=reviewer.strip(),
                status=status,
                overridden=overridden,
            )
            if with_version is not None:
                self._companion_write(session, info, with_version)
            return info

        return self._write(
            "cannot save review",
            work,
            on_integrity_error=lambda: writes.simultaneous_save_conflict(doc_key, base_version),
        )

    def record_version(self, doc_key: str, version: int) -> StoredRecord | None:
        """One version of the document's record (e.g. the one a draft or a merge starts
        from), or None if the document or version is unknown."""
        from extractor.store import queries as q
        from extractor.store.rows import RecordVersionRow

        def work(session: Session) -> StoredRecord | None:
            document = q.find_document(session, doc_key)
            if document is None:
                return None
            row = session.scalars(
                select(RecordVersionRow).where(
                    RecordVersionRow.document_id == document.id, RecordVersionRow.version == version
                )
            ).first()
            if row is None:
                return None
            return q.to_stored_record(row, document, latest_version=q.max_version(session, document.id))

        return self._read("cannot read record version", work)

    def versions(self, doc_key: str) -> list[RecordVersionInfo]:
        """The document's version log, oldest first ([] for an unknown document)."""
        from extractor.store import queries as q

        def work(session: Session) -> list[RecordVersionInfo]:
            document = q.find_document(session, doc_key)
            if document is None:
                return []
            return [q.to_version_info(row, document) for row in q.document_versions(session, document.id)]

        return self._read("cannot read versions", work)

    # -- drafts and soft locks (extractor.store.drafts) ----------------------------------

    def save_draft(
        self, doc_key: str, *, owner: str, reviewer: str, base_version: int, state: dict[str, Any]
    ) -> DraftInfo:
        """Create or replace `owner`'s draft of the document (unsaved review work)."""
        from extractor.store import drafts

        return self._write(
            "cannot save draft",
            lambda s: drafts.save_draft(
                s, doc_key, owner=owner, reviewer=reviewer, base_version=base_version, state=state
            ),
            attempts=_RACE_ATTEMPTS,
        )

    def load_draft(self, doc_key: str, *, owner: str) -> DraftInfo | None:
        """`owner`'s draft of the document, or None."""
        from extractor.store import drafts

        return self._read("cannot read draft", lambda s: drafts.load_draft(s, doc_key, owner=owner))

    def discard_draft(self, doc_key: str, *, owner: str) -> bool:
        """Delete `owner`'s draft of the document; returns whether there was one."""
        from extractor.store import drafts

        return self._write("cannot discard draft", lambda s: drafts.discard_draft(s, doc_key, owner=owner))

    def touch_lock(self, doc_key: str, *, holder: str, reviewer: str = "") -> LockInfo:
        """Take or refresh `holder`'s soft lock on the document (call it on every page run)."""
        from extractor.store import drafts

        return self._write(
            "cannot update lock",
            lambda s: drafts.touch_lock(s, doc_key, holder=holder, reviewer=reviewer),
            attempts=_RACE_ATTEMPTS,
        )

    def release_lock(self, doc_key: str, *, holder: str) -> None:
        """Give up `holder`'s soft lock (leaving the report)."""
        from extractor.store import drafts

        self._write("cannot release lock", lambda s: drafts.release_lock(s, doc_key, holder=holder))

    def active_locks(self, doc_key: str | None = None, *, now: dt.datetime | None = None) -> list[LockInfo]:
        """Unexpired soft locks (of one document, or of all), oldest first."""
        from extractor.store import drafts

        return self._read("cannot read locks", lambda s: drafts.active_locks(s, doc_key=doc_key, now=now))

    # -- internals ---------------------------------------------------------------------

    def _companion_write(self, session: Session, info: RecordVersionInfo, write: CompanionWrite) -> None:
        # Flushed here so that its constraint violations are its own failure (a StoreError),
        # not mistaken for a simultaneous save of the version (ReviewConflictError).
        try:
            write(session, info)
            session.flush()
        except SQLAlchemyError as e:
            raise store_error("cannot save review", e, self.url) from e

    def _read_core(self, action: str, work: Callable[[Connection], T]) -> T:
        try:
            with self.engine.connect() as connection:
                return work(connection)
        except SQLAlchemyError as e:
            raise store_error(action, e, self.url) from e

    def _write_core(self, action: str, work: Callable[[Connection], T]) -> T:
        """`_write` in Core, without retries: `work` in one transaction, committed if it returns."""
        try:
            with self._writer.begin() as connection:
                return work(connection)
        except SQLAlchemyError as e:
            raise store_error(action, e, self.url) from e

    def _read(self, action: str, work: Callable[[Session], T]) -> T:
        try:
            with self._sessions() as session:
                return work(session)
        except SQLAlchemyError as e:
            raise store_error(action, e, self.url) from e

    def _write(
        self,
        action: str,
        work: Callable[[Session], T],
        *,
        attempts: int = 1,
        on_integrity_error: Callable[[], ExtractorError] | None = None,
    ) -> T:
        """Run `work` in one write transaction, committed only if it returns normally.

        A constraint violation is retried (`attempts`), or turned into the error that
        `on_integrity_error` makes, or else reported as a StoreError.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self._sessions.begin() as session:
                    session.connection(execution_options={WRITE_OPTION: True})
                    return work(session)
            except IntegrityError as e:
                if on_integrity_error is not None:
                    raise on_integrity_error() from e
                if attempt == attempts:
                    raise store_error(action, e, self.url) from e
            except SQLAlchemyError as e:
                raise store_error(action, e, self.url) from e
        raise AssertionError("unreachable: the last attempt returns or raises")
