"""The store's work on `extractor extract`'s path, in SQLAlchemy Core (no ORM import, no
object per row): a batch of new extractions, and whether an extraction exists (--resume).

A batch of new reports (each content new to the database, none repeated in the batch) is
two multi-row inserts and two SELECTs; anything else (a content already stored, or the
same text twice) goes through the ORM writes (extractor.store.writes), which diff it
against the versions it already has. Both write the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from extractor.core.document import SourceDocument
from extractor.core.errors import StoreError
from extractor.core.schema import Record
from extractor.store.engine import JSONText
from extractor.store.models import RecordVersionInfo
from extractor.store.tables import DOCUMENTS, RECORD_VERSIONS, RUNS, utc_now

#: Content hashes per SELECT when a batch looks its documents up (bound parameters are limited).
_LOOKUP_CHUNK = 500


@dataclass(frozen=True, slots=True)
class RunSetup:
    """A run as its versions see it: its id, and the setup a record without provenance takes."""

    id: int
    backend: str
    model: str | None
    prompt_hash: str | None


def run_setup(connection: Connection, run_id: int | None, *, source: str) -> RunSetup | None:
    """The run with this id (None for None); StoreError naming `source` if there is none."""
    if run_id is None:
        return None
    columns = RUNS.c
    row = connection.execute(
        select(columns.id, columns.backend, columns.model, columns.prompt_hash).where(columns.id == run_id)
    ).first()
    if row is None:
        raise StoreError(f"no run with id {run_id}", source=source)
    return RunSetup(*row)


def setup_of(record: Record, run: RunSetup | None, doc: SourceDocument) -> tuple[str, str | None, str | None]:
    """Backend, model and prompt hash of an extraction: from the record's provenance, else
    from its run; StoreError (naming the file) when neither names a backend."""
    provenance = record.provenance
    backend = provenance.backend if provenance else run.backend if run else None
    if not backend:
        raise StoreError("the record names no backend (no provenance and no run)", source=doc.path)
    model = provenance.model if provenance else run.model if run else None
    prompt_hash = provenance.prompt_hash if provenance else run.prompt_hash if run else None
    return backend, model, prompt_hash


def layout_hints_json(doc: SourceDocument) -> dict[str, Any] | None:
    """The document's layout hints as stored (None when the file gave none)."""
    return None if doc.layout_hints is None else doc.layout_hints.model_dump(mode="json")


def save_new_extractions(
    connection: Connection, extractions: Sequence[tuple[SourceDocument, Record]], *, run_id: int | None
) -> list[RecordVersionInfo] | None:
    """Save a batch whose contents are all new and distinct, each as its document's version 1
    (as `writes.save_extractions` would); None, with nothing written, when one is not."""
    if not extractions:
        return []
    run = run_setup(connection, run_id, source=extractions[0][0].path)
    # Each content hashed once (`doc.sha256` hashes the whole text at every reading).
    hashes = [doc.sha256 for doc, _ in extractions]
    if len(set(hashes)) < len(hashes) or stored_hashes(connection, hashes):
        return None
    batch = [(doc, record, sha256) for (doc, record), sha256 in zip(extractions, hashes, strict=True)]
    return insert_new(connection, batch, run=run)


def stored_hashes(connection: Connection, hashes: Sequence[str]) -> set[str]:
    """Which of `hashes` the documents table already holds."""
    distinct = list(dict.fromkeys(hashes))
    found: set[str] = set()
    for start in range(0, len(distinct), _LOOKUP_CHUNK):
        chunk = distinct[start : start + _LOOKUP_CHUNK]
        found.update(connection.scalars(select(DOCUMENTS.c.sha256).where(DOCUMENTS.c.sha256.in_(chunk))))
    return found


def insert_new(
    connection: Connection,
    extractions: Sequence[tuple[SourceDocument, Record, str]],
    *,
    run: RunSetup | None,
) -> list[RecordVersionInfo]:
    """Insert documents new to the database (distinct contents, with their sha256) with each
    one's record as its version 1: two multi-row inserts and one SELECT."""
    if not extractions:
        return []
    setups = [setup_of(record, run, doc) for doc, record, _ in extractions]
    connection.execute(
        insert(DOCUMENTS),
        [
            {
                "sha256": sha256,
                "doc_id": doc.doc_id,
                "path": doc.path,
                "format": doc.format,
                "ocr": doc.ocr,
                "char_count": len(doc.text),
                "text": doc.text,
                "layout_hints": layout_hints_json(doc),
                "created_at": utc_now(),
            }
            for doc, _, sha256 in extractions
        ],
    )
    ids = _document_ids(connection, [sha256 for _, _, sha256 in extractions])
    rows = [
        {
            "document_id": ids[sha256],
            "version": 1,
            "kind": "extraction",
            "run_id": None if run is None else run.id,
            "backend": backend,
            "model": model,
            "prompt_hash": prompt_hash,
            "reviewer": None,
            "status": "pending",
            "base_version": None,
            # Serialised once, by pydantic's compiled serialiser (see JSONText).
            "record_json": JSONText(record.model_dump_json()),
            "diff_json": None,
            "created_at": utc_now(),
        }
        for (_, record, sha256), (backend, model, prompt_hash) in zip(extractions, setups, strict=True)
    ]
    connection.execute(insert(RECORD_VERSIONS), rows)
    return [
        RecordVersionInfo(
            doc_id=doc.doc_id,
            sha256=sha256,
            version=1,
            kind="extraction",
            status="pending",
            reviewer=None,
            backend=row["backend"],
            model=row["model"],
            prompt_hash=row["prompt_hash"],
            run_id=row["run_id"],
            base_version=None,
            diff=None,
            created_at=row["created_at"],
        )
        for (doc, _, sha256), row in zip(extractions, rows, strict=True)
    ]


def _document_ids(connection: Connection, hashes: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        chunk = hashes[start : start + _LOOKUP_CHUNK]
        found = connection.execute(
            select(DOCUMENTS.c.sha256, DOCUMENTS.c.id).where(DOCUMENTS.c.sha256.in_(chunk))
        )
        ids.update((sha256, document_id) for sha256, document_id in found)
    return ids


def extraction_exists(
    connection: Connection, sha256: str, *, backend: str, model: str | None, prompt_hash: str | None
) -> bool:
    """Whether the content has an extraction by exactly this backend, model and prompt hash
    (None matches only None): what `--resume` skips."""
    versions, documents = RECORD_VERSIONS.c, DOCUMENTS.c
    stmt = (
        select(versions.id)
        .join_from(RECORD_VERSIONS, DOCUMENTS, documents.id == versions.document_id)
        .where(
            documents.sha256 == sha256.lower(),
            versions.kind == "extraction",
            versions.backend == backend,
            versions.model.is_not_distinct_from(model),
            versions.prompt_hash.is_not_distinct_from(prompt_hash),
        )
        .limit(1)
    )
    return connection.scalar(stmt) is not None
