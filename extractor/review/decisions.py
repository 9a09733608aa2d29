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
from extractor.store.tables import ReviewDecisionRow


class ItemDecision(BaseModel):
    """One item's decision in one saved version."""

    model_config = ConfigDict(frozen=True)

    list_name: ListName
    #: Position in the saved record's list; None for a rejected item (not in the record).
    position: int | None
    decision: Decision
    #: The rejected item as it was (spec fields plus flags); None otherwise.
    item: dict[str, Any] | None = None


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
            decisions_json=_DECISIONS.dump_python(decisions, mode="json"),
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
