"""The store's writes: documents, extraction versions and review versions.

Each function works inside the caller's write transaction (see `Store._write`) and raises
to abort it, so a write either fully happens or leaves the database as it was. Version
rows are only ever added.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.core.document import LayoutHints, SourceDocument
from extractor.core.errors import ReviewConflictError, StoreError
from extractor.core.schema import Record
from extractor.store import queries as q
from extractor.store.diff import FieldChange, record_diff
from extractor.store.grounding import recheck_record, refuse_ungrounded_approval
from extractor.store.models import RecordVersionInfo
from extractor.store.tables import DocumentRow, RecordVersionRow, RunRow

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


def layout_hints_json(doc: SourceDocument) -> dict[str, Any] | None:
    """The document's layout hints as stored (None when the file gave none)."""
    return None if doc.layout_hints is None else doc.layout_hints.model_dump(mode="json")


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


#: Content hashes per SELECT when a batch looks its documents up (bound parameters are limited).
_LOOKUP_CHUNK = 500


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
    """`save_extraction` for each of a batch, in order, with the same rows as a result; the
    documents are looked up with one SELECT, the new ones inserted together, and the new
    versions written in one flush (the database sees a few statements, not several per
    document)."""
    rows = _document_rows(session, [doc for doc, _ in extractions])
    pending = [
        (_extraction_version(session, document, created, doc, record, run_id=run_id), document)
        for (doc, record), (document, created) in zip(extractions, rows, strict=True)
    ]
    session.flush()
    return [
        version if isinstance(version, RecordVersionInfo) else q.to_version_info(version, document)
        for version, document in pending
    ]


def _document_rows(session: Session, docs: Sequence[SourceDocument]) -> list[tuple[DocumentRow, bool]]:
    """`_document_row` for each of `docs`, in order: a content repeated in the batch is
    created once (the first time) and found after that, as one at a time would."""
    # Each content hashed once (`doc.sha256` hashes the whole text at every reading).
    doc_hashes = [doc.sha256 for doc in docs]
    hashes = list(dict.fromkeys(doc_hashes))
    found: dict[str, DocumentRow] = {}
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        chunk = hashes[start : start + _LOOKUP_CHUNK]
        stmt = select(DocumentRow).where(DocumentRow.sha256.in_(chunk)).with_for_update()
        found.update((row.sha256, row) for row in session.scalars(stmt))
    new: dict[str, DocumentRow] = {}
    for doc, sha256 in zip(docs, doc_hashes, strict=True):
        if sha256 not in found and sha256 not in new:
            new[sha256] = _new_document_row(doc, sha256)
    session.add_all(new.values())
    session.flush()
    rows: list[tuple[DocumentRow, bool]] = []
    for doc, sha256 in zip(docs, doc_hashes, strict=True):
        created = new.pop(sha256, None)
        if created is not None:
            found[sha256] = created
            rows.append((created, True))
            continue
        row = found[sha256]
        row.path, row.format, row.ocr = doc.path, doc.format, doc.ocr
        row.layout_hints = layout_hints_json(doc)  # the hints of the file the format names
        rows.append((row, False))
    return rows


def _new_document_row(doc: SourceDocument, sha256: str | None = None) -> DocumentRow:
    return DocumentRow(
        sha256=doc.sha256 if sha256 is None else sha256,
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
    run = None if run_id is None else session.get(RunRow, run_id)
    if run_id is not None and run is None:
        raise StoreError(f"no run with id {run_id}", source=doc.path)
    provenance = record.provenance
    backend = provenance.backend if provenance else run.backend if run else None
    if not backend:
        raise StoreError("the record names no backend (no provenance and no run)", source=doc.path)
    model = provenance.model if provenance else run.model if run else None
    prompt_hash = provenance.prompt_hash if provenance else run.prompt_hash if run else None

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
