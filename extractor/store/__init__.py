"""Store stage: documents, extraction runs and versioned, reviewed records (SQLAlchemy).

`Store(url)` is the entry point. Every table of the database is declared in
`extractor.store.tables` (one `metadata`), and `extractor.store.migrate` brings a database
to that schema with Alembic (on every open, and by `extractor db upgrade`).
"""

from __future__ import annotations

from extractor.store.api import CompanionWrite, Store
from extractor.store.drafts import LOCK_EXPIRY, DraftInfo, LockInfo
from extractor.store.engine import DB_URL_ENV, default_db_url, mask_db_url
from extractor.store.grounding import GroundingProblem, UngroundedApprovalError
from extractor.store.migrate import SchemaVersionError, UpgradeOutcome, head_revision, upgrade_database
from extractor.store.models import DocumentSummary, RecordVersionInfo, RunInfo, StoredDocument, StoredRecord
from extractor.store.tables import REVIEW_STATUSES, Base, ReviewStatus, VersionKind, metadata

__all__ = [
    "DB_URL_ENV",
    "LOCK_EXPIRY",
    "REVIEW_STATUSES",
    "Base",
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
