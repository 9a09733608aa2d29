"""The Store: documents, extraction runs and the versioned, reviewed records.

Guarantees:
- Versions are append-only: nothing a reviewer saved is ever updated or deleted, and a
  document's current record is its newest review if it has one (a later extraction is kept
  in the log but does not replace reviewed work).
- Each write is one transaction: it fully happens or leaves the database as it was.
- Every database failure surfaces as a one-line StoreError naming the database with its
  password masked; a stale review save surfaces as ReviewConflictError.
- Opening a Store brings its database to this code's schema (extractor.store.migrate).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Sequence
from typing import Any, Self, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from extractor.core.document import SourceDocument
from extractor.core.errors import ExtractorError, StoreError
from extractor.core.schema import Record
from extractor.store import drafts, runs, writes
from extractor.store import queries as q
from extractor.store.drafts import DraftInfo, LockInfo
from extractor.store.engine import (
    WRITE_OPTION,
    create_db_engine,
    default_db_url,
    mask_db_url,
    parse_db_url,
    store_error,
)
from extractor.store.migrate import upgrade_database
from extractor.store.models import DocumentSummary, RecordVersionInfo, RunInfo, StoredDocument, StoredRecord
from extractor.store.tables import (
    REVIEW_STATUSES,
    DocumentRow,
    RecordVersionRow,
    ReviewStatus,
    RunRow,
    utc_now,
)

T = TypeVar("T")

#: Attempts for writes that can lose a harmless race (two processes adding the same new
#: document or the next extraction version at once); the loser retries and finds the row.
_RACE_ATTEMPTS = 3

#: Writes rows that belong with a review version (the reviewer's decisions) inside the
#: save's own transaction: given the session and the version being saved.
CompanionWrite = Callable[[Session, RecordVersionInfo], None]


class Store:
    """Access to the extractor database (SQLite file by default, or PostgreSQL).

    `url` overrides `$EXTRACTOR_DB_URL`, which overrides `sqlite:///./extractor.db`.
    The database is upgraded to this code's schema on open (a new one is built). Safe to
    share between threads; every method runs in its own session and returns detached models.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = parse_db_url(url or default_db_url())
        self.engine = create_db_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            upgrade_database(self.engine, action="cannot open database")
        except ExtractorError:
            self.engine.dispose()
            raise

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
        return self._write(
            "cannot save document",
            lambda s: q.to_document(writes.upsert_document_row(s, doc)),
            attempts=_RACE_ATTEMPTS,
        )

    def get_document(self, doc_key: str) -> StoredDocument | None:
        """The document with this doc_id or sha256, or None."""

        def work(session: Session) -> StoredDocument | None:
            row = q.find_document(session, doc_key)
            return None if row is None else q.to_document(row)

        return self._read("cannot read document", work)

    def source_document(self, doc_key: str) -> SourceDocument | None:
        """The stored document rebuilt as a SourceDocument (original text), or None."""

        def work(session: Session) -> SourceDocument | None:
            row = q.find_document(session, doc_key)
            return None if row is None else writes.source_document_of(row)

        return self._read("cannot read document", work)

    # -- runs --------------------------------------------------------------------------

    def start_run(self, *, backend: str, model: str | None = None, prompt_hash: str | None = None) -> int:
        """Record the start of an extraction run; returns its id for `save_extraction`.

        Runs left "running" by a process that was killed or crashed are marked
        "interrupted" first (see extractor.store.runs)."""

        def work(session: Session) -> int:
            runs.mark_stale_runs(session)
            run = RunRow(
                backend=backend,
                model=model,
                prompt_hash=prompt_hash,
                status=runs.RUNNING,
                stats=runs.owner_stats(),
            )
            session.add(run)
            session.flush()
            return run.id

        return self._write("cannot start run", work)

    def finish_run(self, run_id: int, *, status: str, stats: dict[str, Any]) -> None:
        """Mark a run finished with `status` and its `stats` (counts, tokens, cost)."""
        try:
            json.dumps(stats)
        except (TypeError, ValueError) as e:
            raise StoreError(f"run {run_id}: stats are not JSON-serialisable ({e})") from e

        def work(session: Session) -> None:
            run = session.get(RunRow, run_id)
            if run is None:
                raise StoreError(f"no run with id {run_id}")
            run.status, run.stats, run.finished_at = status, stats, utc_now()

        self._write("cannot finish run", work)

    def get_run(self, run_id: int) -> RunInfo | None:
        """The run with this id, or None."""

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
        try:
            # The common case, with no savepoint per document.
            return self._write(
                "cannot save extractions",
                lambda s: self._save_batch(s, extractions, run_id=run_id, isolated=False),
            )
        except StoreError:
            return self._write(
                "cannot save extractions",
                lambda s: self._save_batch(s, extractions, run_id=run_id, isolated=True),
            )

    def _save_batch(
        self,
        session: Session,
        extractions: Sequence[tuple[SourceDocument, Record]],
        *,
        run_id: int | None,
        isolated: bool,
    ) -> list[RecordVersionInfo | StoreError]:
        # Held for the whole batch: the session's identity map keeps rows only while they are
        # referenced, and each document's save looks the run up again.
        run = None if run_id is None else session.get(RunRow, run_id)
        saved: list[RecordVersionInfo | StoreError]
        if isolated:
            saved = [self._save_isolated(session, doc, record, run_id=run_id) for doc, record in extractions]
        else:
            saved = [*writes.save_extractions(session, extractions, run_id=run_id)]
        if run is not None:
            runs.beat(run)
        return saved

    def _save_isolated(
        self, session: Session, doc: SourceDocument, record: Record, *, run_id: int | None
    ) -> RecordVersionInfo | StoreError:
        for attempt in range(1, _RACE_ATTEMPTS + 1):
            try:
                with session.begin_nested():
                    return writes.save_extraction(session, doc, record, run_id=run_id)
            except IntegrityError as e:
                # Another process added this document or version first: retry, finding it.
                if attempt == _RACE_ATTEMPTS:
                    return self._document_error(e, doc)
            except SQLAlchemyError as e:
                return self._document_error(e, doc)
            except StoreError as e:
                return e
        raise AssertionError("unreachable: the last attempt returns")

    def _document_error(self, error: SQLAlchemyError, doc: SourceDocument) -> StoreError:
        refused = store_error("the database refused this document", error, self.url)
        return StoreError(f"{refused.message} ({refused.source})", source=doc.path)

    def has_extraction(
        self, sha256: str, *, backend: str, model: str | None = None, prompt_hash: str | None = None
    ) -> bool:
        """Whether the document with this content hash already has an extraction by exactly
        this backend, model and prompt hash (None matches only None), for `--resume`."""
        rv = RecordVersionRow
        stmt = (
            select(rv.id)
            .join(DocumentRow, DocumentRow.id == rv.document_id)
            .where(
                DocumentRow.sha256 == sha256.lower(),
                rv.kind == "extraction",
                rv.backend == backend,
                rv.model.is_not_distinct_from(model),
                rv.prompt_hash.is_not_distinct_from(prompt_hash),
            )
            .limit(1)
        )
        return self._read("cannot check extraction", lambda s: s.scalar(stmt) is not None)

    # -- current records ---------------------------------------------------------------

    def current_record(self, doc_key: str) -> StoredRecord | None:
        """The document's current record (newest review, else newest extraction), or None if
        the document is unknown or has no record. `doc_key` is a doc_id or a sha256."""

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

        def work(session: Session) -> tuple[int, int, int]:
            documents = session.scalar(select(func.count(DocumentRow.id))) or 0
            count, newest = session.execute(
                select(func.count(RecordVersionRow.id), func.max(RecordVersionRow.id))
            ).one()
            return documents, count or 0, newest or 0

        return self._read("cannot read the data version", work)

    def records_fingerprint(self, *, approved_only: bool = False) -> str:
        """A digest that changes whenever `current_records(approved_only=...)` would return
        another record, and differs between databases; one query, no record loaded."""
        return self._read(
            "cannot read the current record versions", lambda s: q.records_fingerprint(s, approved_only)
        )

    def list_documents(self) -> list[DocumentSummary]:
        """One summary per stored document, ordered by doc_id (the review queue)."""

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
        return self._write(
            "cannot save draft",
            lambda s: drafts.save_draft(
                s, doc_key, owner=owner, reviewer=reviewer, base_version=base_version, state=state
            ),
            attempts=_RACE_ATTEMPTS,
        )

    def load_draft(self, doc_key: str, *, owner: str) -> DraftInfo | None:
        """`owner`'s draft of the document, or None."""
        return self._read("cannot read draft", lambda s: drafts.load_draft(s, doc_key, owner=owner))

    def discard_draft(self, doc_key: str, *, owner: str) -> bool:
        """Delete `owner`'s draft of the document; returns whether there was one."""
        return self._write("cannot discard draft", lambda s: drafts.discard_draft(s, doc_key, owner=owner))

    def touch_lock(self, doc_key: str, *, holder: str, reviewer: str = "") -> LockInfo:
        """Take or refresh `holder`'s soft lock on the document (call it on every page run)."""
        return self._write(
            "cannot update lock",
            lambda s: drafts.touch_lock(s, doc_key, holder=holder, reviewer=reviewer),
            attempts=_RACE_ATTEMPTS,
        )

    def release_lock(self, doc_key: str, *, holder: str) -> None:
        """Give up `holder`'s soft lock (leaving the report)."""
        self._write("cannot release lock", lambda s: drafts.release_lock(s, doc_key, holder=holder))

    def active_locks(self, doc_key: str | None = None, *, now: dt.datetime | None = None) -> list[LockInfo]:
        """Unexpired soft locks (of one document, or of all), oldest first."""
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
