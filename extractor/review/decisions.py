"""Reviewers' per-item decisions, kept beside the record versions they belong to.

Design: the record format has no place for review decisions (its models forbid extra
fields, and flags are the pipeline's findings), so each review version gets one row in
the `review_decisions` table of the same database (declared with the store's tables): a
list of ItemDecision, keyed by (document, version), written in the version's transaction. Positions refer to the items of that version's record; a rejected
item is not in the record, so its decision carries the item itself (the version's audit
diff shows the removal too). Nothing here is ever updated: rows are only added.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from extractor.core.schema import ListName
from extractor.review.labels import Decision
from extractor.store import Store
from extractor.store.engine import store_error
from extractor.store.rows import DocumentRow, ReviewDecisionRow


class ItemDecision(BaseModel):
    """One item's decision in one saved version."""

    model_config = ConfigDict(frozen=True)

    list_name: ListName
    #: Position in the saved record's list; None for a rejected item (not in the record).
    position: int | None
    decision: Decision
    #: The rejected item as it was (spec fields plus flags); None otherwise.
    item: dict[str, Any] | None = None
    #: The reviewer's written reason for approving the item despite a grounding problem
    #: (evidence not in the source, a value not in its evidence); None: no override.
    override_reason: str | None = None


_DECISIONS = TypeAdapter(list[ItemDecision])


def add_decisions(
    session: Session, *, document_id: int, version: int, reviewer: str, decisions: list[ItemDecision]
) -> None:
    """Add the decisions of a review version to `session`, inside the transaction that saves
    the version (`Store.save_review(..., with_version=...)`): both are written, or neither."""
    session.add(
        ReviewDecisionRow(
            document_id=document_id,
            version=version,
            reviewer=reviewer,
            # Written as before overrides existed when there is none (older code reads it).
            decisions_json=[
                {k: v for k, v in d.items() if k != "override_reason" or v is not None}
                for d in _DECISIONS.dump_python(decisions, mode="json")
            ],
        )
    )


def load_decisions(store: Store, *, document_id: int, version: int) -> list[ItemDecision]:
    """The decisions saved with a version ([] if none were)."""
    stmt = select(ReviewDecisionRow.decisions_json).where(
        ReviewDecisionRow.document_id == document_id, ReviewDecisionRow.version == version
    )
    try:
        with Session(store.engine) as session:
            raw = session.scalars(stmt).first()
    except SQLAlchemyError as e:
        raise store_error(f"cannot read review decisions of version {version}", e, store.url) from e
    return [] if raw is None else _DECISIONS.validate_python(raw)


def decisions_by_version(store: Store, *, document_id: int) -> dict[int, list[ItemDecision]]:
    """Every saved version's decisions of a document, by version (for the audit log)."""
    stmt = select(ReviewDecisionRow.version, ReviewDecisionRow.decisions_json).where(
        ReviewDecisionRow.document_id == document_id
    )
    try:
        with Session(store.engine) as session:
            rows = session.execute(stmt).all()
    except SQLAlchemyError as e:
        raise store_error("cannot read review decisions", e, store.url) from e
    return {version: _DECISIONS.validate_python(raw) for version, raw in rows}


def decided_counts(store: Store) -> dict[tuple[str, int], int]:
    """How many items each saved version decided (kept or rejected), by (sha256, version):
    the queue's per-report progress, read in one query."""
    stmt = select(DocumentRow.sha256, ReviewDecisionRow.version, ReviewDecisionRow.decisions_json).join(
        DocumentRow, DocumentRow.id == ReviewDecisionRow.document_id
    )
    try:
        with Session(store.engine) as session:
            rows = session.execute(stmt).all()
    except SQLAlchemyError as e:
        raise store_error("cannot read review decisions", e, store.url) from e
    return {
        (sha256, version): sum(1 for d in raw if d.get("position") is not None)
        for sha256, version, raw in rows
    }
