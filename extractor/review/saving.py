"""Saving a review: the checks, the merge with a colleague's save, and the draft's end.

A save is based on the version the reviewer opened. If a colleague saved meanwhile, the
store refuses it (ReviewConflictError); the two reviewers' work is then merged per item
(`extractor.review.merge`) and saved as a new version on top of the colleague's, its diff
recorded as for any save. Only fields both changed to different values stop the save:
MergeConflictError lists them (Chinese), and the reviewer's `keep` choices settle them on
the next call. The version, its decisions and the removal of the reviewer's draft are one
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session as DbSession

from extractor.core.errors import ReviewConflictError
from extractor.core.labels import LIST_LABELS
from extractor.core.schema import ListName, Record
from extractor.review import decisions as decision_store
from extractor.review.decisions import ItemDecision
from extractor.review.errors import MergeConflictError, ReviewInputError
from extractor.review.labels import Decision
from extractor.review.merge import MergeResult, Side, merge_records
from extractor.store import RecordVersionInfo, Store, StoredRecord
from extractor.store import drafts as draft_rows
from extractor.store.queries import beijing_text

if TYPE_CHECKING:
    from extractor.review.session import ReviewSession

#: Saves that can slip in between a merge and its save before we give up.
_MERGE_ATTEMPTS = 3


def save_session(
    store: Store,
    session: ReviewSession,
    *,
    reviewer: str,
    status: str,
    owner: str | None = None,
    keep: Mapping[str, Side] | None = None,
) -> RecordVersionInfo:
    """Save the working copy as the report's next version.

    Raises ReviewInputError (no reviewer name; 已通过 with undecided items or an item whose
    evidence or value the source does not bear out, not overridden), MergeConflictError
    (a colleague changed the same fields: choose with `keep`, path → "mine"/"theirs"),
    ReviewConflictError (the report changed under three attempts) or StoreError: nothing
    is written then. `owner`'s draft is deleted in the save's transaction.
    """
    reviewer = reviewer.strip()
    if not reviewer:
        raise ReviewInputError("请先在页面顶部填写审核人姓名，再保存。")
    decided, total = session.progress()
    if status == "approved" and decided < total:
        raise ReviewInputError(f"还有 {total - decided} 条未审核，不能标记为「已通过」。")
    if status == "approved":
        _refuse_blocked(session)
    record, decisions, base = session.record(), session.decisions(), session.base_version
    for _attempt in range(_MERGE_ATTEMPTS):
        try:
            return _save(
                store, session, record, decisions, base=base, reviewer=reviewer, status=status, owner=owner
            )
        except MergeConflictError:
            raise
        except ReviewConflictError:
            latest = store.current_record(session.doc_key)
            if latest is None or latest.version == base:
                raise
            record, decisions = _merged(store, session, latest, keep=keep or {})
            base = latest.version
            if status == "approved" and len(decisions_kept(decisions)) < _item_count(record):
                raise ReviewInputError(
                    "合并同事保存的内容后还有未审核的条目，不能标记为「已通过」。"
                ) from None
    raise ReviewConflictError("这份报告正被频繁保存，合并后仍未能保存；请稍后再试。", source=session.doc_id)


def decisions_kept(decisions: list[ItemDecision]) -> list[ItemDecision]:
    return [d for d in decisions if d.position is not None]


def _item_count(record: Record) -> int:
    return sum(len(record.items(name)) for name in ListName)


def _refuse_blocked(session: ReviewSession) -> None:
    blocked = session.blocking_items()
    if not blocked:
        return
    shown = "；".join(
        f"{LIST_LABELS[name]}第{i + 1}条：{'，'.join(reasons)}" for name, i, reasons in blocked[:5]
    )
    more = f"（另有 {len(blocked) - 5} 条）" if len(blocked) > 5 else ""
    raise ReviewInputError(f"不能标记为「已通过」：{shown}{more}。请改正，或写明理由后强行通过。")


def _save(
    store: Store,
    session: ReviewSession,
    record: Record,
    decisions: list[ItemDecision],
    *,
    base: int,
    reviewer: str,
    status: str,
    owner: str | None,
) -> RecordVersionInfo:
    def with_version(db_session: DbSession, info: RecordVersionInfo) -> None:
        decision_store.add_decisions(
            db_session,
            document_id=session.stored.document.id,
            version=info.version,
            reviewer=reviewer,
            decisions=decisions,
        )
        if owner:
            draft_rows.discard_draft(db_session, session.doc_key, owner=owner)

    return store.save_review(
        session.doc_key,
        record,
        base_version=base,
        reviewer=reviewer,
        status=status,  # type: ignore[arg-type]  # Store.save_review checks it at run time
        with_version=with_version,
        overridden=[f"{d.list_name.value}[{d.position}]" for d in decisions if d.override_reason],
    )


def _merged(
    store: Store, session: ReviewSession, latest: StoredRecord, *, keep: Mapping[str, Side]
) -> tuple[Record, list[ItemDecision]]:
    """The session's work merged onto `latest`, with both sides' decisions; raises
    MergeConflictError for fields both changed that `keep` does not settle."""
    result = merge_records(
        session.stored.record, session.record(), latest.record, mine_origins=session.origins(), keep=keep
    )
    unsettled = result.unsettled(keep)
    if unsettled:
        other = latest.reviewer or "自动抽取"
        shown = "；".join(c.message(other=other) for c in unsettled)
        raise MergeConflictError(
            f"保存冲突：{other} 于 {beijing_text(latest.created_at)} 保存了 v{latest.version}，"
            f"你们改了同样的地方：{shown}。请逐项选择保留哪一个，再保存；其余修改会自动合并。",
            conflicts=unsettled,
            theirs_version=latest.version,
            source=session.doc_id,
        )
    theirs = (
        decision_store.load_decisions(store, document_id=latest.document.id, version=latest.version)
        if latest.kind == "review"
        else []
    )
    return result.record, _merged_decisions(result, session.decisions(), theirs)


def _merged_decisions(
    result: MergeResult, mine: list[ItemDecision], theirs: list[ItemDecision]
) -> list[ItemDecision]:
    """Each merged item's decision (see `_combined`); both reviewers' rejections are kept
    (the colleague's once)."""
    mine_at: dict[tuple[ListName, int | None], ItemDecision] = {
        (d.list_name, d.position): d for d in mine if d.position is not None
    }
    theirs_at: dict[tuple[ListName, int | None], ItemDecision] = {
        (d.list_name, d.position): d for d in theirs if d.position is not None
    }
    out: list[ItemDecision] = []
    for name, origins in result.origins.items():
        for position, (j, k) in enumerate(origins):
            decision = _combined(mine_at.get((name, j)), theirs_at.get((name, k)))
            if decision is not None:
                out.append(decision.model_copy(update={"position": position}))
    rejected = [d for d in mine if d.position is None]
    out.extend(rejected + [d for d in theirs if d.position is None and d not in rejected])
    return out


def _combined(mine: ItemDecision | None, theirs: ItemDecision | None) -> ItemDecision | None:
    """One item's decision from both reviewers: the saving reviewer's, except that a fix by
    either wins over a plain acceptance (the merged content carries that fix); a written
    override by either is kept."""
    if mine is None or theirs is None:
        return mine or theirs
    chosen = theirs if theirs.decision is Decision.FIXED and mine.decision is Decision.ACCEPTED else mine
    reason = mine.override_reason or theirs.override_reason
    return chosen.model_copy(update={"override_reason": reason})
