"""Reviewers' per-item decisions, kept beside the record versions they belong to.

Design: the record format has no place for review decisions (its models forbid extra
fields, and flags are the pipeline's findings), so each review version gets one row in
the `review_decisions` table of the same database: a list of ItemDecision, keyed by
(document, version). Positions refer to the items of that version's record; a rejected
item is not in the record, so its decision carries the item itself (the version's audit
diff shows the removal too). Nothing here is ever updated: rows are only added.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import JSON, DateTime, Engine, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from extractor.core.schema import ListName
from extractor.review.labels import Decision
from extractor.store import Base, Store
from extractor.store.engine import store_error
from extractor.store.tables import utc_now


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


class ReviewDecisionRow(Base):
    __tablename__ = "review_decisions"
    __table_args__ = (
        UniqueConstraint("document_id", "version", name="uq_review_decisions_document_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(255))
    decisions_json: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


#: Engines whose database already has the table (checked once per engine).
_READY: weakref.WeakSet[Engine] = weakref.WeakSet()


def ensure_table(store: Store) -> None:
    """Create the decisions table if missing (idempotent)."""
    if store.engine in _READY:
        return
    try:
        Base.metadata.create_all(store.engine, tables=[ReviewDecisionRow.__table__])  # type: ignore[list-item]
    except SQLAlchemyError as e:
        raise store_error("cannot create review_decisions table", e, store.url) from e
    _READY.add(store.engine)


def save_decisions(
    store: Store, *, document_id: int, version: int, reviewer: str, decisions: list[ItemDecision]
) -> None:
    """Record the decisions of a saved review version."""
    ensure_table(store)
    row = ReviewDecisionRow(
        document_id=document_id,
        version=version,
        reviewer=reviewer,
        decisions_json=_DECISIONS.dump_python(decisions, mode="json"),
    )
    try:
        with Session(store.engine) as session, session.begin():
            session.add(row)
    except SQLAlchemyError as e:
        raise store_error(f"cannot save review decisions of version {version}", e, store.url) from e


def load_decisions(store: Store, *, document_id: int, version: int) -> list[ItemDecision]:
    """The decisions saved with a version ([] if none were)."""
    ensure_table(store)
    stmt = select(ReviewDecisionRow.decisions_json).where(
        ReviewDecisionRow.document_id == document_id, ReviewDecisionRow.version == version
    )
    try:
        with Session(store.engine) as session:
            raw = session.scalars(stmt).first()
    except SQLAlchemyError as e:
        raise store_error(f"cannot read review decisions of version {version}", e, store.url) from e
    return [] if raw is None else _DECISIONS.validate_python(raw)
