"""A reviewer's unsaved work kept in the database (per owner and report) and restored.

Reviews run on several servers sharing one database, and a reload or a crash must not cost
a decision, an edit or the reviewer's name; so the page saves the working copy as a draft
(`save_draft`) after every change and `open_session(..., owner=...)` restores it on top of
the version it was made on. Saving the review deletes the draft in the same transaction;
`discard_draft` drops it on request. A draft that no longer fits its version (written by
other code) is ignored rather than allowed to break the page.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from extractor.core.schema import Achievement, Item, ListName, Meta, Plan, Problem
from extractor.review.errors import ReviewInputError
from extractor.review.labels import Decision
from extractor.review.session import DraftItem, ReviewSession, open_session, session_for
from extractor.store import DraftInfo, Store
from extractor.store.grounding import recheck_item

_ITEM_MODELS: dict[ListName, type[Achievement] | type[Problem] | type[Plan]] = {
    ListName.ACHIEVEMENTS: Achievement,
    ListName.PROBLEMS: Problem,
    ListName.PLANS: Plan,
}


class _DraftEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    item: dict[str, Any]
    #: Position in the version the draft was made on; None for an item the reviewer added.
    origin: int | None
    decision: Decision | None
    override: str | None = None


class DraftState(BaseModel):
    """The working copy as stored: meta and every list's entries."""

    model_config = ConfigDict(frozen=True)

    meta: Meta
    lists: dict[ListName, list[_DraftEntry]]


def draft_state(session: ReviewSession) -> dict[str, Any]:
    """The session's working copy as JSON-ready data (what `save_draft` stores)."""
    state = DraftState(
        meta=session.meta,
        lists={
            name: [
                _DraftEntry(
                    item=e.item.model_dump(mode="json"),
                    origin=e.origin,
                    decision=e.decision,
                    override=e.override,
                )
                for e in session.entries(name)
            ]
            for name in ListName
        },
    )
    return state.model_dump(mode="json")


def save_draft(store: Store, session: ReviewSession, *, owner: str, reviewer: str) -> DraftInfo:
    """Store the session's working copy and the reviewer's name as `owner`'s draft."""
    session.reviewer = reviewer.strip()
    return store.save_draft(
        session.doc_key,
        owner=owner,
        reviewer=session.reviewer,
        base_version=session.base_version,
        state=draft_state(session),
    )


def autosave_draft(
    store: Store, session: ReviewSession, *, owner: str, reviewer: str, last_digest: str | None
) -> str:
    """Keep the draft in step with the page: stored when the working copy or the name
    changed since `last_digest` (what this function returned last time for the page; None
    at first), dropped once the working copy has no unsaved change left (undone, or just
    saved). Returns the new digest; writes nothing while nothing changes."""
    state = draft_state(session)
    digest = hashlib.sha256(json.dumps([state, reviewer.strip()], sort_keys=True).encode()).hexdigest()
    if digest == last_digest:
        return digest
    if session.has_unsaved_changes():
        save_draft(store, session, owner=owner, reviewer=reviewer)
    elif last_digest is not None:
        store.discard_draft(session.doc_key, owner=owner)
    return digest


def discard_draft(store: Store, session: ReviewSession, *, owner: str) -> ReviewSession:
    """Drop `owner`'s draft and return a fresh working copy of the report's current record."""
    store.discard_draft(session.doc_key, owner=owner)
    return open_session(store, session.doc_key)


def restore_draft(store: Store, doc_key: str, *, owner: str) -> ReviewSession | None:
    """`owner`'s draft of the report as a session (on the version it was made on), or None
    when there is none or it no longer fits."""
    draft = store.load_draft(doc_key, owner=owner)
    if draft is None:
        return None
    stored = store.record_version(doc_key, draft.base_version)
    if stored is None:
        return None
    try:
        state = DraftState.model_validate(draft.state)
        session = session_for(store, stored)
        _apply_state(session, state)
    except (ValidationError, ReviewInputError, IndexError):
        return None
    session.reviewer = draft.reviewer
    session.restored_at = draft.updated_at
    return session


def _apply_state(session: ReviewSession, state: DraftState) -> None:
    session.meta = state.meta
    for name in ListName:
        opened = session.entries(name)
        entries: list[DraftItem] = []
        for saved in state.lists.get(name, []):
            item: Item = _ITEM_MODELS[name].model_validate(saved.item)
            original = None if saved.origin is None else opened[saved.origin].original
            entry = DraftItem(
                item=item,
                original=original,
                decision=saved.decision,
                origin=saved.origin,
                override=saved.override,
            )
            entry.item, entry.problems = recheck_item(item, session.index)
            entries.append(entry)
        session.lists[name] = entries
