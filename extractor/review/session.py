"""One reviewer's open report: the working copy of its record, decisions, and saving.

A ReviewSession is opened from the store at the report's current version (the base
version), takes edits and decisions in memory, and saves them as a new version through
`Store.save_review`, which refuses the save (ReviewConflictError) if anyone saved after the
base version. Nothing is written before `save`, and a refused save writes nothing.

Decisions: 接受 keeps an item (recorded as accepted, or fixed if its content differs from
the version opened), 修改 applies corrections (fixed), 退回 leaves the item out of the
saved record (its decision row keeps it, and the version's audit diff shows the removal).
A decided item's pipeline flags are cleared in the saved record: the reviewer resolved them;
grounding flags are not the reviewer's to clear: every item is checked against the source
at once on every change (`store.grounding`), and an item whose evidence is not in the
source, or a metric whose value is not in its evidence, stays flagged with the reason and
blocks 已通过 until fixed or overridden with a written reason (kept with the decisions).
Saving after a colleague saved merges per item (extractor.review.saving).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from extractor.check.align import SourceIndex
from extractor.core.labels import LIST_LABELS
from extractor.core.schema import AlignmentStatus, Item, ListName, Meta, Record, Span
from extractor.review import decisions as decision_store
from extractor.review.decisions import ItemDecision
from extractor.review.edits import EditResult, ItemEdit, apply_edit, content_of, item_from_located, resolved
from extractor.review.errors import ReviewInputError
from extractor.review.highlight import HighlightSpan, highlight_html
from extractor.review.labels import Decision
from extractor.review.locate import LocatedPassage, locate_passage, located_note, shorten
from extractor.store import RecordVersionInfo, Store, StoredRecord
from extractor.store.diff import record_diff
from extractor.store.grounding import GROUNDING_FLAGS, recheck_item

if TYPE_CHECKING:
    from extractor.review.merge import Side

#: A pasted passage overlapping an existing item by this share of its length is reported.
_OVERLAP_NOTE_SHARE = 0.5


@dataclass
class DraftItem:
    """An item being reviewed. `original` is the item as opened (None for an added one),
    `origin` its position in the opened record. `problems` (Chinese) are what block
    approving it, as the source says now; `override` is the reviewer's written reason to
    approve it all the same."""

    item: Item
    original: Item | None
    decision: Decision | None = None
    origin: int | None = None
    problems: list[str] = field(default_factory=list)
    override: str | None = None

    @property
    def flagged(self) -> bool:
        return self.item.flagged or bool(self.problems)

    @property
    def blocks_approval(self) -> bool:
        return bool(self.problems) and not self.override and self.decision is not Decision.REJECTED


@dataclass
class ReviewSession:
    """The working copy of one report's record (see the module docstring)."""

    stored: StoredRecord
    source: str
    index: SourceIndex
    meta: Meta
    lists: dict[ListName, list[DraftItem]]
    opened_decisions: list[ItemDecision] = field(default_factory=list)
    #: The reviewer's name as last typed on this report (kept in the draft).
    reviewer: str = ""
    #: When the working copy was restored from a stored draft: that draft's save time.
    restored_at: dt.datetime | None = None

    @property
    def doc_key(self) -> str:
        return self.stored.document.sha256

    @property
    def doc_id(self) -> str:
        return self.stored.document.doc_id

    @property
    def base_version(self) -> int:
        return self.stored.version

    # -- reading ----------------------------------------------------------------------

    def entries(self, list_name: ListName) -> list[DraftItem]:
        return self.lists[ListName(list_name)]

    def entry(self, list_name: ListName, position: int) -> DraftItem:
        entries = self.entries(list_name)
        if not 0 <= position < len(entries):
            raise ReviewInputError(f"{LIST_LABELS[ListName(list_name)]}没有第{position + 1}条。")
        return entries[position]

    def display_order(self, list_name: ListName) -> list[int]:
        """Positions in the order the screen lists them: flagged items first."""
        entries = self.entries(list_name)
        return sorted(range(len(entries)), key=lambda i: (not entries[i].flagged, i))

    def next_undecided(self, list_name: ListName, after: int | None = None) -> int | None:
        """The next undecided position after `after` in display order (wrapping), or None."""
        order = self.display_order(list_name)
        start = order.index(after) + 1 if after in order else 0
        for position in order[start:] + order[:start]:
            if self.entry(list_name, position).decision is None:
                return position
        return None

    def progress(self) -> tuple[int, int]:
        """(decided items, all items) over the three lists."""
        entries = [e for name in ListName for e in self.entries(name)]
        return sum(1 for e in entries if e.decision is not None), len(entries)

    def suggested_status(self) -> str:
        """已通过 once every item is decided and nothing blocks approval, else 审核中."""
        decided, total = self.progress()
        return "approved" if decided == total and not self.blocking_items() else "in_review"

    def blocking_items(self) -> list[tuple[ListName, int, list[str]]]:
        """Items that block 已通过 (list, position, Chinese reasons): a grounding problem
        without a written override."""
        return [
            (name, i, e.problems)
            for name in ListName
            for i, e in enumerate(self.entries(name))
            if e.blocks_approval
        ]

    def record(self) -> Record:
        """The record a save would store: rejected items left out; a decided item's flags
        cleared, except those the grounding check still finds."""
        lists = {
            name.value: [
                _decided(e.item) if e.decision else e.item
                for e in self.entries(name)
                if e.decision is not Decision.REJECTED
            ]
            for name in ListName
        }
        return self.stored.record.model_copy(update={"meta": self.meta, **lists})

    def origins(self) -> dict[ListName, list[int | None]]:
        """For each list of `record()`: the opened position each item came from (None: added)."""
        return {
            name: [e.origin for e in self.entries(name) if e.decision is not Decision.REJECTED]
            for name in ListName
        }

    def decisions(self) -> list[ItemDecision]:
        """The decisions a save records, positions counted in `record()`'s lists."""
        out: list[ItemDecision] = []
        for name in ListName:
            position = 0
            for e in self.entries(name):
                if e.decision is Decision.REJECTED:
                    out.append(
                        ItemDecision(
                            list_name=name,
                            position=None,
                            decision=e.decision,
                            item=e.item.model_dump(mode="json"),
                        )
                    )
                    continue
                if e.decision is not None:
                    out.append(
                        ItemDecision(
                            list_name=name, position=position, decision=e.decision, override_reason=e.override
                        )
                    )
                position += 1
        return out

    def overridden_paths(self) -> list[str]:
        """Paths (in `record()`) of the items approved despite a grounding problem."""
        return [f"{d.list_name.value}[{d.position}]" for d in self.decisions() if d.override_reason]

    def has_unsaved_changes(self) -> bool:
        """Whether the working copy differs from the version opened (edits or decisions):
        the page's "unsaved changes" mark, and whether leaving would lose work."""
        return (
            bool(record_diff(self.stored.record, self.record())) or self.decisions() != self.opened_decisions
        )

    def highlight(self, *, focus: tuple[ListName, int] | None = None) -> str:
        """The report's text as escaped HTML with every kept item's evidence highlighted."""
        spans = [
            HighlightSpan(span=e.item.span, list_name=name, position=i)
            for name in ListName
            for i, e in enumerate(self.entries(name))
            if e.item.span is not None and e.decision is not Decision.REJECTED
        ]
        return highlight_html(self.source, spans, focus=focus)

    # -- changing ---------------------------------------------------------------------

    def accept(self, list_name: ListName, position: int, edit: ItemEdit | None = None) -> list[str]:
        """Keep the item (with `edit` applied first, if any); returns notes for the reviewer."""
        entry = self.entry(list_name, position)
        result = self._apply(entry, edit)
        entry.decision = self._kept_decision(entry)
        return result.notes + self._problem_notes(entry)

    def fix(self, list_name: ListName, position: int, edit: ItemEdit) -> list[str]:
        """Apply a correction; refuses (ReviewInputError) when it changes nothing."""
        entry = self.entry(list_name, position)
        before = content_of(entry.item)
        result = apply_edit(entry.item, edit, index=self.index)
        if content_of(result.item) == before and (
            entry.original is None or before == content_of(entry.original)
        ):
            raise ReviewInputError("没有修改任何内容；内容无误请点「接受」。")
        entry.item = result.item
        self._recheck(entry)
        entry.decision = self._kept_decision(entry)
        return result.notes + self._problem_notes(entry)

    def override(self, list_name: ListName, position: int, reason: str) -> None:
        """Approve the item despite its grounding problems, for the written `reason` (kept
        with the decisions and shown in the audit). Raises ReviewInputError without a reason
        or for an item with no problem."""
        entry = self.entry(list_name, position)
        if not entry.problems:
            raise ReviewInputError("此条没有需要强行通过的问题。")
        if not reason.strip():
            raise ReviewInputError("强行通过须写明理由。")
        entry.override = reason.strip()
        if entry.decision in (None, Decision.REJECTED):
            entry.decision = self._kept_decision(entry)

    def reject(self, list_name: ListName, position: int) -> None:
        """Leave the item out of the saved record (an added item is simply dropped)."""
        entry = self.entry(list_name, position)
        if entry.original is None:
            del self.entries(list_name)[position]
        else:
            entry.decision = Decision.REJECTED

    def restore(self, list_name: ListName, position: int) -> None:
        """Undo a decision: the item is undecided again (its edits stay)."""
        entry = self.entry(list_name, position)
        entry.decision = Decision.ADDED if entry.original is None else None
        entry.override = None

    def accept_remaining(self) -> int:
        """Accept every undecided item as it is; returns how many."""
        count = 0
        for name in ListName:
            for entry in self.entries(name):
                if entry.decision is None:
                    entry.decision = self._kept_decision(entry)
                    count += 1
        return count

    def add_item(self, list_name: ListName, passage: str) -> tuple[int, list[str]]:
        """Add a missed item for `passage`, located in the report (exact, then fuzzy) and
        pre-filled by the rules; returns its position and notes. Raises
        PassageNotFoundError (Chinese message) if the passage is not in the report."""
        located = locate_passage(self.index, passage)
        return self._add_located(ListName(list_name), located, [n for n in [located_note(located)] if n])

    def add_item_at(self, list_name: ListName, start: int, end: int) -> tuple[int, list[str]]:
        """Add a missed item whose evidence is the report's text at [start, end) (offsets in
        characters, as selected in the source pane), trimmed of surrounding whitespace;
        returns its position and notes. Raises ReviewInputError for an empty or
        out-of-range selection."""
        if not 0 <= start < end <= len(self.source):
            raise ReviewInputError(f"选中的位置 {start}–{end} 不在报告原文范围内。")
        selected = self.source[start:end]
        start += len(selected) - len(selected.lstrip())
        end -= len(selected) - len(selected.rstrip())
        if end <= start:
            raise ReviewInputError("选中的只是空白，请选中一段原文。")
        located = LocatedPassage(
            span=Span(start=start, end=end),
            status=AlignmentStatus.EXACT,
            score=100.0,
            evidence=self.source[start:end],
            replaced=False,
        )
        return self._add_located(ListName(list_name), located, [])

    def _add_located(
        self, name: ListName, located: LocatedPassage, notes: list[str]
    ) -> tuple[int, list[str]]:
        for other in ListName:
            for i, e in enumerate(self.entries(other)):
                if (
                    e.decision is not Decision.REJECTED
                    and _overlap_share(e.item, located.span) >= _OVERLAP_NOTE_SHARE
                ):
                    notes.append(
                        f"这段文字与已有条目（{LIST_LABELS[other]}第{i + 1}条「{shorten(e.item.text, 20)}」）重叠，请确认不是重复。"
                    )
        item = item_from_located(self.source, located, name)
        entry = DraftItem(item=item, original=None, decision=Decision.ADDED)
        self._recheck(entry)
        self.entries(name).append(entry)
        return len(self.entries(name)) - 1, notes + self._problem_notes(entry)

    def set_meta(self, meta: Meta) -> bool:
        """Replace the report's meta; returns whether it changed."""
        changed = meta != self.meta
        self.meta = meta
        return changed

    def save(
        self,
        store: Store,
        *,
        reviewer: str,
        status: str,
        owner: str | None = None,
        keep: Mapping[str, Side] | None = None,
    ) -> RecordVersionInfo:
        """Save the working copy as a new version (see `extractor.review.saving.save_session`:
        checks, merge with a colleague's save, draft discarded with the save)."""
        from extractor.review.saving import save_session  # saving builds on this module

        return save_session(store, self, reviewer=reviewer, status=status, owner=owner, keep=keep)

    # -- internals ----------------------------------------------------------------------

    def _apply(self, entry: DraftItem, edit: ItemEdit | None) -> EditResult:
        if edit is None:
            return EditResult(item=entry.item, changed=False)
        result = apply_edit(entry.item, edit, index=self.index)
        entry.item = result.item
        self._recheck(entry)
        return result

    def _recheck(self, entry: DraftItem) -> None:
        """Ground the item against the source again (spans, grounding flags, problems); an
        override is for the problems it was written for, so a change of them drops it."""
        entry.item, problems = recheck_item(entry.item, self.index)
        if problems != entry.problems:
            entry.override = None
        entry.problems = problems

    @staticmethod
    def _problem_notes(entry: DraftItem) -> list[str]:
        if not entry.problems or entry.override:
            return []
        return [f"此条不能通过：{'；'.join(entry.problems)}。请改正，或写明理由后强行通过。"]

    @staticmethod
    def _kept_decision(entry: DraftItem) -> Decision:
        if entry.original is None:
            return Decision.ADDED
        return Decision.FIXED if content_of(entry.item) != content_of(entry.original) else Decision.ACCEPTED


def open_session(store: Store, doc_key: str, *, owner: str | None = None) -> ReviewSession:
    """Open the report's current record for review; with `owner`, that owner's stored
    draft is restored on top of the version it was made on (see extractor.review.drafts).
    Raises ReviewInputError if the store has no such report or no record for it."""
    if owner:
        from extractor.review.drafts import restore_draft  # drafts builds on this module

        restored = restore_draft(store, doc_key, owner=owner)
        if restored is not None:
            return restored
    stored = store.current_record(doc_key)
    if stored is None:
        raise ReviewInputError(f"找不到报告 {doc_key} 或它还没有抽取结果。")
    return session_for(store, stored)


def session_for(store: Store, stored: StoredRecord) -> ReviewSession:
    """A fresh working copy of `stored` (one version of a report), its decisions reloaded
    and every item checked against the source."""
    document = store.source_document(stored.document.sha256)
    if document is None:
        raise ReviewInputError(f"找不到报告 {stored.document.doc_id} 的原文。")
    opened = (
        decision_store.load_decisions(store, document_id=stored.document.id, version=stored.version)
        if stored.kind == "review"
        else []
    )
    by_position = {(d.list_name, d.position): d for d in opened if d.position is not None}
    index = SourceIndex(document.text)
    lists: dict[ListName, list[DraftItem]] = {}
    for name in ListName:
        entries = []
        for i, item in enumerate(_items(stored.record, name)):
            saved = by_position.get((name, i))
            entry = DraftItem(
                item=item,
                original=item,
                decision=_reopened(saved.decision if saved else None),
                origin=i,
                override=saved.override_reason if saved else None,
            )
            _, entry.problems = recheck_item(item, index)
            entries.append(entry)
        lists[name] = entries
    session = ReviewSession(
        stored=stored, source=document.text, index=index, meta=stored.record.meta, lists=lists
    )
    session.opened_decisions = session.decisions()
    return session


def _items(record: Record, name: ListName) -> Sequence[Item]:
    return record.items(name)


def _decided(item: Item) -> Item:
    """A decided item as saved: the pipeline's flags cleared, the grounding flags (the
    source's verdict, kept current by `_recheck`) kept."""
    grounding = [f for f in item.flags if f.code in GROUNDING_FLAGS]
    cleared = resolved(item)
    return cleared.model_copy(update={"flags": grounding}) if grounding else cleared


def _reopened(decision: Decision | None) -> Decision | None:
    # An item added in an earlier version is an ordinary item of this one: it was kept.
    return Decision.ACCEPTED if decision is Decision.ADDED else decision


def _overlap_share(item: Item, span: Span) -> float:
    if item.span is None or span.end <= span.start:
        return 0.0
    overlap = min(item.span.end, span.end) - max(item.span.start, span.start)
    return max(overlap, 0) / (span.end - span.start)
