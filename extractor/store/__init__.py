"""Store stage: documents, extraction runs and versioned, reviewed records (SQLAlchemy).

`Store(url)` is the entry point. Every table of the database is declared in
`extractor.store.tables` (one `metadata`, SQLAlchemy Core; `extractor.store.rows` maps them
for ORM code), and `extractor.store.migrate` brings a database to that schema with Alembic
(on every open, and by `extractor db upgrade`).
"""

from __future__ import annotations

from extractor.store.api import CompanionWrite, Store
from extractor.store.engine import DB_URL_ENV, default_db_url, mask_db_url
from extractor.store.grounding import GroundingProblem, UngroundedApprovalError
from extractor.store.migrate import SchemaVersionError, UpgradeOutcome, head_revision, upgrade_database
from extractor.store.models import (
    LOCK_EXPIRY,
    DocumentSummary,
    DraftInfo,
    LockInfo,
    RecordVersionInfo,
    RunInfo,
    StoredDocument,
    StoredRecord,
)
from extractor.store.tables import REVIEW_STATUSES, ReviewStatus, VersionKind, metadata

__all__ = [
    "DB_URL_ENV",
    "LOCK_EXPIRY",
    "REVIEW_STATUSES",
    "CompanionWrite",
    "DocumentSummary",
    "DraftInfo",
    "GroundingProblem",
    "LockInfo",
    "RecordVersionInfo",
    "ReviewStatus",
    "RunInfo",
    "SchemaVersionError",
    "Store",
    "StoredDocument",
    "StoredRecord",
    "UngroundedApprovalError",
    "UpgradeOutcome",
    "VersionKind",
    "default_db_url",
    "head_revision",
    "mask_db_url",
    "metadata",
    "upgrade_database",
]
