"""One reviewer's open report: the working copy of its record, decisions, and saving.

A ReviewSession is opened from the store at the report's current version (the base
version), takes edits and decisions in memory, and saves them as a new version through
`Store.save_review`, which refuses the save (ReviewConflictError) if anyone saved after the
base version. Nothing is written before `save`, and a refused save writes nothing.

Decisions: 接受 keeps an item (recorded as accepted, or fixed if its content differs from
the version opened), 修改 applies corrections (fixed), 退回 leaves the item out of the
saved record (its decision row keeps it, and the version's audit diff shows the removal).
A decided item's pipeline flags are cleared in the saved record: the reviewer resolved them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session as DbSession

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

#: A pasted passage overlapping an existing item by this share of its length is reported.
_OVERLAP_NOTE_SHARE = 0.5


@dataclass
class DraftItem:
    """An item being reviewed. `original` is the item as opened (None for an added one)."""

    item: Item
    original: Item | None
    decision: Decision | None = None

    @property
    def flagged(self) -> bool:
        return self.item.flagged


@dataclass
class ReviewSession:
    """The working copy of one report's record (see the module docstring)."""

    stored: StoredRecord
    source: str
    index: SourceIndex
    meta: Meta
    lists: dict[ListName, list[DraftItem]]
    opened_decisions: list[ItemDecision] = field(default_factory=list)

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
        decided, total = self.progress()
        return "approved" if decided == total else "in_review"

    def record(self) -> Record:
        """The record a save would store: rejected items left out, decided items' flags cleared."""
        lists = {
            name.value: [
                resolved(e.item) if e.decision else e.item
                for e in self.entries(name)
                if e.decision is not Decision.REJECTED
            ]
            for name in ListName
        }
        return self.stored.record.model_copy(update={"meta": self.meta, **lists})

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
                    out.append(ItemDecision(list_name=name, position=position, decision=e.decision))
                position += 1
        return out

    def has_unsaved_changes(self) -> bool:
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
        return result.notes

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
        entry.decision = self._kept_decision(entry)
        return result.notes

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
        self.entries(name).append(DraftItem(item=item, original=None, decision=Decision.ADDED))
        return len(self.entries(name)) - 1, notes

    def set_meta(self, meta: Meta) -> bool:
        """Replace the report's meta; returns whether it changed."""
        changed = meta != self.meta
        self.meta = meta
        return changed

    def save(self, store: Store, *, reviewer: str, status: str) -> RecordVersionInfo:
        """Save the working copy as a new version based on the version opened.

        The version and its decisions are one transaction. Raises ReviewInputError (no
        reviewer name; 已通过 with undecided items), ReviewConflictError (someone saved after
        the base version) or StoreError: nothing is written then.
        """
        reviewer = reviewer.strip()
        if not reviewer:
            raise ReviewInputError("请先在页面顶部填写审核人姓名，再保存。")
        decided, total = self.progress()
        if status == "approved" and decided < total:
            raise ReviewInputError(f"还有 {total - decided} 条未审核，不能标记为「已通过」。")
        decisions = self.decisions()

        def record_decisions(db_session: DbSession, info: RecordVersionInfo) -> None:
            decision_store.add_decisions(
                db_session,
                document_id=self.stored.document.id,
                version=info.version,
                reviewer=reviewer,
                decisions=decisions,
            )

        return store.save_review(
            self.doc_key,
            self.record(),
            base_version=self.base_version,
            reviewer=reviewer,
            status=status,  # type: ignore[arg-type]  # Store.save_review checks it at run time
            with_version=record_decisions,
        )

    # -- internals ----------------------------------------------------------------------

    def _apply(self, entry: DraftItem, edit: ItemEdit | None) -> EditResult:
        if edit is None:
            return EditResult(item=entry.item, changed=False)
        result = apply_edit(entry.item, edit, index=self.index)
        entry.item = result.item
        return result

    @staticmethod
    def _kept_decision(entry: DraftItem) -> Decision:
        if entry.original is None:
            return Decision.ADDED
        return Decision.FIXED if content_of(entry.item) != content_of(entry.original) else Decision.ACCEPTED


def open_session(store: Store, doc_key: str) -> ReviewSession:
    """Open the report's current record for review. Raises ReviewInputError if the store
    has no such report or no record for it."""
    stored = store.current_record(doc_key)
    document = store.source_document(doc_key)
    if stored is None or document is None:
        raise ReviewInputError(f"找不到报告 {doc_key} 或它还没有抽取结果。")
    opened = (
        decision_store.load_decisions(store, document_id=stored.document.id, version=stored.version)
        if stored.kind == "review"
        else []
    )
    by_position = {(d.list_name, d.position): d.decision for d in opened if d.position is not None}
    lists = {
        name: [
            DraftItem(item=item, original=item, decision=_reopened(by_position.get((name, i))))
            for i, item in enumerate(_items(stored.record, name))
        ]
        for name in ListName
    }
    session = ReviewSession(
        stored=stored,
        source=document.text,
        index=SourceIndex(document.text),
        meta=stored.record.meta,
        lists=lists,
    )
    session.opened_decisions = session.decisions()
    return session


def _items(record: Record, name: ListName) -> Sequence[Item]:
    return record.items(name)


def _reopened(decision: Decision | None) -> Decision | None:
    # An item added in an earlier version is an ordinary item of this one: it was kept.
    return Decision.ACCEPTED if decision is Decision.ADDED else decision


def _overlap_share(item: Item, span: Span) -> float:
    if item.span is None or span.end <= span.start:
        return 0.0
    overlap = min(item.span.end, span.end) - max(item.span.start, span.start)
    return max(overlap, 0) / (span.end - span.start)
