"""What the store returns: frozen pydantic models, detached from any database session."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from extractor.core.schema import Record
from extractor.store.diff import FieldChange
from extractor.store.tables import ReviewStatus, VersionKind


class _Frozen(BaseModel):
    # Validators built on first use: `extractor extract` makes only RecordVersionInfo, and
    # every process importing the store would otherwise build them all.
    model_config = ConfigDict(frozen=True, defer_build=True)


class StoredDocument(_Frozen):
    """A stored source document (its text: `Store.source_document`)."""

    id: int
    doc_id: str
    sha256: str
    path: str
    format: str
    ocr: bool
    char_count: int
    created_at: dt.datetime


class RunInfo(_Frozen):
    """One extraction run."""

    id: int
    backend: str
    model: str | None
    prompt_hash: str | None
    status: str
    stats: dict[str, Any] | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


class RecordVersionInfo(_Frozen):
    """One entry of a document's version log (the audit trail)."""

    doc_id: str
    sha256: str
    version: int
    kind: VersionKind
    status: ReviewStatus
    reviewer: str | None
    backend: str | None
    model: str | None
    prompt_hash: str | None
    run_id: int | None
    #: The version this one was compared with (for a review: the one it was edited from).
    base_version: int | None
    #: Field-level changes against `base_version`; None for a document's first version.
    diff: list[FieldChange] | None
    created_at: dt.datetime


class StoredRecord(_Frozen):
    """A document's current record and where it came from."""

    document: StoredDocument
    record: Record
    version: int
    kind: VersionKind
    status: ReviewStatus
    reviewer: str | None
    created_at: dt.datetime
    #: The document's newest version number, which can be newer than `version` when an
    #: extraction ran after a review (reviewed work stays current). Either number is a valid
    #: `base_version` for `Store.save_review`.
    latest_version: int


class DocumentSummary(_Frozen):
    """One line of the document list (review queue)."""

    doc_id: str
    sha256: str
    path: str
    #: None when the document has no record yet.
    status: ReviewStatus | None
    kind: VersionKind | None
    issuer: str | None
    report_year: int | None
    item_count: int
    #: Items (achievements, problems, plans) with at least one flag.
    flagged_count: int
    version: int | None
    latest_version: int | None
    #: Reviewer of the current version when it is a review.
    last_reviewer: str | None


# -- review drafts and soft locks (kept by extractor.store.drafts) --------------------------

#: A soft lock without a heartbeat for this long is expired (the page beats more often).
LOCK_EXPIRY = dt.timedelta(minutes=2)


class DraftInfo(_Frozen):
    """A stored draft: whose, on which version, its state (JSON) and when it was saved."""

    sha256: str
    owner: str
    reviewer: str
    base_version: int
    state: dict[str, Any]
    updated_at: dt.datetime


class LockInfo(_Frozen):
    """Who has a report open (`reviewer` may be empty before a name is typed) and since when."""

    sha256: str
    holder: str
    reviewer: str
    opened_at: dt.datetime
    heartbeat_at: dt.datetime
