"""The store's writes: documents, extraction versions and review versions.

Each function works inside the caller's write transaction (see `Store._write`) and raises
to abort it, so a write either fully happens or leaves the database as it was. Version
rows are only ever added.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import URL, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from extractor.core.document import LayoutHints, SourceDocument
from extractor.core.errors import ReviewConflictError, StoreError
from extractor.core.schema import Record
from extractor.store import queries as q
from extractor.store import runs
from extractor.store.diff import FieldChange, record_diff
from extractor.store.engine import store_error
from extractor.store.extractions import insert_new, layout_hints_json, run_setup, setup_of, stored_hashes
from extractor.store.grounding import recheck_record, refuse_ungrounded_approval
from extractor.store.models import RecordVersionInfo
from extractor.store.rows import DocumentRow, RecordVersionRow

#: Changed fields named per version in a conflict message before "and N more".
_MAX_FIELDS_IN_MESSAGE = 6


def upsert_document_row(session: Session, doc: SourceDocument) -> DocumentRow:
    """The row for `doc`'s content (sha256), created if new; path, format and OCR flag
    follow `doc`, the doc_id stays as first stored. Locks the row (PostgreSQL)."""
    return _document_row(session, doc)[0]


def _document_row(session: Session, doc: SourceDocument) -> tuple[DocumentRow, bool]:
    """`upsert_document_row`, and whether the row was created just now."""
    stmt = select(DocumentRow).where(DocumentRow.sha256 == doc.sha256).with_for_update()
    row = session.scalars(stmt).first()
    created = row is None
    if row is None:
        row = _new_document_row(doc)
        session.add(row)
    else:
        row.path, row.format, row.ocr = doc.path, doc.format, doc.ocr
        row.layout_hints = layout_hints_json(doc)  # the hints of the file the format names
    session.flush()
    return row, created


def source_document_of(row: DocumentRow) -> SourceDocument:
    """The stored document as the SourceDocument it was written from (original text, hints)."""
    hints = None if row.layout_hints is None else LayoutHints.model_validate(row.layout_hints)
    return SourceDocument(
        doc_id=row.doc_id,
        path=row.path,
        text=row.text,
        format=row.format,  # written from a SourceDocument: one of its formats
        ocr=row.ocr,
        layout_hints=hints,
    )


def save_extraction(
    session: Session, doc: SourceDocument, record: Record, *, run_id: int | None
) -> RecordVersionInfo:
    """See `Store.save_extraction`."""
    document, created = _document_row(session, doc)
    version = _extraction_version(session, document, created, doc, record, run_id=run_id)
    if isinstance(version, RecordVersionInfo):
        return version
    session.flush()
    return q.to_version_info(version, document)


def save_extraction_once_in_run(
    session: Session, doc: SourceDocument, record: Record, *, run_id: int
) -> tuple[DocumentRow, int, bool]:
    """`save_extraction` for a run that keeps one extraction version per document:
    (the document's row, its version, whether the run already had one). When the run already
    has an extraction version of this document (a second file of the same text), that
    version is kept and nothing but the document row's path and format (as
    `upsert_document_row`) is written. The document's row is locked (PostgreSQL)."""
    document, created = _document_row(session, doc)
    if not created:  # a document created just now has no versions to look for
        in_run = session.scalar(
            select(RecordVersionRow.version).where(
                RecordVersionRow.document_id == document.id,
                RecordVersionRow.run_id == run_id,
                RecordVersionRow.kind == "extraction",
            )
        )
        if in_run is not None:
            return document, in_run, True
    version = _extraction_version(session, document, created, doc, record, run_id=run_id)
    if isinstance(version, RecordVersionRow):
        session.flush()
    return document, version.version, False


def save_extractions(
    session: Session, extractions: Sequence[tuple[SourceDocument, Record]], *, run_id: int | None
) -> list[RecordVersionInfo]:
    """`save_extraction` for each of a batch, in order, with the same rows as a result.

    A content the database does not hold yet (the common case: a batch of new reports)
    takes a short path: its document and its first version are plain inserts, a few
    statements for the whole batch, each record serialised once to JSON text. A content
    already stored, or repeated in the batch after its first occurrence, then goes through
    `save_extraction`, which sees the rows inserted before it: the rows are those one
    document at a time would have written.
    """
    if not extractions:
        return []
    connection = session.connection()  # nothing pending yet: Core statements see every row
    run = run_setup(connection, run_id, source=extractions[0][0].path)
    # Each content hashed once (`doc.sha256` hashes the whole text at every reading).
    hashes = [doc.sha256 for doc, _ in extractions]
    stored = stored_hashes(connection, hashes)
    first_seen: dict[str, int] = {}
    for position, sha256 in enumerate(hashes):
        if sha256 not in stored:
            first_seen.setdefault(sha256, position)
    new = sorted(first_seen.values())
    saved = dict(
        zip(new, insert_new(connection, [(*extractions[p], hashes[p]) for p in new], run=run), strict=True)
    )
    for position, (doc, record) in enumerate(extractions):
        if position not in saved:
            saved[position] = save_extraction(session, doc, record, run_id=run_id)
    return [saved[position] for position in range(len(extractions))]


def save_batch(
    session: Session,
    extractions: Sequence[tuple[SourceDocument, Record]],
    *,
    run_id: int | None,
    isolated: bool,
    attempts: int,
    url: URL,
) -> list[RecordVersionInfo | StoreError]:
    """`Store.save_extractions` through the ORM, with the run's heartbeat: as
    `save_extractions`, or (`isolated`) each document in a savepoint of its own, retried up
    to `attempts` times on a lost race, a refused one given a StoreError naming its file."""
    saved: list[RecordVersionInfo | StoreError]
    if isolated:
        saved = [
            _save_isolated(session, doc, record, run_id=run_id, attempts=attempts, url=url)
            for doc, record in extractions
        ]
    else:
        saved = [*save_extractions(session, extractions, run_id=run_id)]
    if run_id is not None:
        runs.beat(session.connection(), run_id)
    return saved


def _save_isolated(
    session: Session, doc: SourceDocument, record: Record, *, run_id: int | None, attempts: int, url: URL
) -> RecordVersionInfo | StoreError:
    for attempt in range(1, attempts + 1):
        try:
            with session.begin_nested():
                return save_extraction(session, doc, record, run_id=run_id)
        except IntegrityError as e:
            # Another process added this document or version first: retry, finding it.
            if attempt == attempts:
                return _document_error(e, doc, url)
        except SQLAlchemyError as e:
            return _document_error(e, doc, url)
        except StoreError as e:
            return e
    raise AssertionError("unreachable: the last attempt returns")


def _document_error(error: SQLAlchemyError, doc: SourceDocument, url: URL) -> StoreError:
    refused = store_error("the database refused this document", error, url)
    return StoreError(f"{refused.message} ({refused.source})", source=doc.path)


def _new_document_row(doc: SourceDocument) -> DocumentRow:
    return DocumentRow(
        sha256=doc.sha256,
        doc_id=doc.doc_id,
        path=doc.path,
        format=doc.format,
        ocr=doc.ocr,
        char_count=len(doc.text),
        text=doc.text,
        layout_hints=layout_hints_json(doc),
    )


def _extraction_version(
    session: Session,
    document: DocumentRow,
    created: bool,
    doc: SourceDocument,
    record: Record,
    *,
    run_id: int | None,
) -> RecordVersionInfo | RecordVersionRow:
    """The version `record` would add to `document` (added to the session, not flushed), or
    the existing version with the same content and setup."""
    run = run_setup(session.connection(), run_id, source=doc.path)
    backend, model, prompt_hash = setup_of(record, run, doc)
    record_json = record.model_dump(mode="json")
    rv = RecordVersionRow
    # A document created just now has no versions: nothing to compare with or diff against.
    same_setup = (
        None
        if created
        else session.scalars(
            select(rv)
            .where(
                rv.document_id == document.id,
                rv.kind == "extraction",
                rv.backend == backend,
                rv.model.is_not_distinct_from(model),
                rv.prompt_hash.is_not_distinct_from(prompt_hash),
            )
            .order_by(rv.version.desc())
            .limit(1)
        ).first()
    )
    if same_setup is not None and _content(same_setup.record_json) == _content(record_json):
        return q.to_version_info(same_setup, document)

    previous = None if created else q.latest_version_row(session, document.id)
    diff = None if previous is None else record_diff(Record.model_validate(previous.record_json), record)
    row = rv(
        document_id=document.id,
        version=(previous.version if previous else 0) + 1,
        kind="extraction",
        run_id=run_id,
        backend=backend,
        model=model,
        prompt_hash=prompt_hash,
        status="pending",
        base_version=previous.version if previous else None,
        record_json=record_json,
        diff_json=_diff_json(diff),
    )
    session.add(row)
    return row


def save_review(
    session: Session,
    doc_key: str,
    record: Record,
    *,
    base_version: int,
    reviewer: str,
    status: str,
    overridden: Collection[str] = (),
) -> RecordVersionInfo:
    """See `Store.save_review`. The review's diff is against `base_version`, the version the
    reviewer edited (not a newer extraction that was set aside)."""
    document = q.find_document(session, doc_key, lock=True)
    if document is None:
        raise StoreError("no stored document with this doc_id or sha256", source=doc_key)
    history = q.document_versions(session, document.id)
    latest = history[-1].version if history else 0
    if not 0 <= base_version <= latest:
        raise ReviewConflictError(
            f"版本 v{base_version} 不存在（最新为 v{latest}），请重新载入这份报告。",
            source=document.doc_id,
        )
    # The reviewer's word is not proof: evidence and values are checked against the source.
    record, problems = recheck_record(record, document.text)
    if status == "approved":
        refuse_ungrounded_approval(problems, overridden=overridden, source=document.doc_id)
    conflicts = _conflicting_versions(history, base_version)
    if conflicts:
        raise ReviewConflictError(_conflict_message(base_version, conflicts), source=document.doc_id)

    base = session.scalars(
        select(RecordVersionRow).where(
            RecordVersionRow.document_id == document.id, RecordVersionRow.version == base_version
        )
    ).first()
    if record.provenance is not None:
        record = record.model_copy(
            update={"provenance": record.provenance.model_copy(update={"reviewed_by": reviewer})}
        )
    diff = None if base is None else record_diff(Record.model_validate(base.record_json), record)
    row = RecordVersionRow(
        document_id=document.id,
        version=latest + 1,
        kind="review",
        backend=base.backend if base else None,
        model=base.model if base else None,
        prompt_hash=base.prompt_hash if base else None,
        reviewer=reviewer,
        status=status,
        base_version=base_version or None,
        record_json=record.model_dump(mode="json"),
        diff_json=_diff_json(diff),
    )
    session.add(row)
    # A save that slipped past the check takes the same number: the unique constraint
    # refuses it here (IntegrityError, see `simultaneous_save_conflict`).
    session.flush()
    return q.to_version_info(row, document)


def simultaneous_save_conflict(doc_key: str, base_version: int) -> ReviewConflictError:
    """The error for a review refused by the unique (document, version) constraint."""
    return ReviewConflictError(
        f"版本 v{base_version} 已过期：另一次保存与您同时完成。请重新载入这份报告后再保存。",
        source=doc_key,
    )


def _content(record_json: dict[str, Any]) -> dict[str, Any]:
    """A record's JSON without what changes on every run of the same extraction: the
    timestamp, and the source path (the document row tracks where the file is now)."""
    provenance = record_json.get("provenance")
    if not provenance:
        return record_json
    stable = {k: v for k, v in provenance.items() if k not in ("extracted_at", "source_path")}
    return {**record_json, "provenance": stable}


def _diff_json(diff: list[FieldChange] | None) -> list[Any] | None:
    return None if diff is None else [change.model_dump(mode="json") for change in diff]


def _conflicting_versions(history: Sequence[RecordVersionRow], base_version: int) -> list[RecordVersionRow]:
    """The versions after `base_version` that a review based on it would silently overrule:
    every review, and every extraction that was current when saved (no review before it).
    An extraction saved after a review never became current, so it does not conflict."""
    conflicts = []
    reviewed = False
    for row in history:
        if row.version > base_version and (row.kind == "review" or not reviewed):
            conflicts.append(row)
        reviewed = reviewed or row.kind == "review"
    return conflicts


def _conflict_message(base_version: int, conflicts: list[RecordVersionRow]) -> str:
    saves = []
    for row in conflicts:
        who = row.reviewer if row.kind == "review" else "自动抽取"
        when = q.beijing_text(row.created_at)
        paths = [change["path"] for change in row.diff_json or []]
        shown = "、".join(paths[:_MAX_FIELDS_IN_MESSAGE]) or "没有字段"
        if len(paths) > _MAX_FIELDS_IN_MESSAGE:
            shown += f" 等 {len(paths)} 处"
        saves.append(f"{who} 于 {when} 保存了 v{row.version}，修改了 {shown}")
    return f"版本 v{base_version} 已过期：此后{'；'.join(saves)}。请重新载入这份报告，再把您的修改保存一次。"
