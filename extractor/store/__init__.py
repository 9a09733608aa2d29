"""Store stage: documents, extraction runs and versioned, reviewed records (SQLAlchemy).

`Store(url)` is the entry point; `Base` and `Store.engine` let other modules add their own
tables to the same database (`Base.metadata.create_all(store.engine, tables=[...])`).
"""

from __future__ import annotations

from extractor.store.api import Store
from extractor.store.engine import DB_URL_ENV, default_db_url, mask_db_url
from extractor.store.models import DocumentSummary, RecordVersionInfo, RunInfo, StoredDocument, StoredRecord
from extractor.store.tables import REVIEW_STATUSES, Base, ReviewStatus, VersionKind

__all__ = [
    "DB_URL_ENV",
    "REVIEW_STATUSES",
    "Base",
    "DocumentSummary",
    "RecordVersionInfo",
    "ReviewStatus",
    "RunInfo",
    "Store",
    "StoredDocument",
    "StoredRecord",
    "VersionKind",
    "default_db_url",
    "mask_db_url",
]
