"""The source pane's data and the reviewer's actions on it, as plain Python (no Streamlit).

The browser receives the report's text and each item's span as numbers (offsets counted in
Unicode code points, as Python counts them), never HTML: the pane builds text nodes from
them, so report text cannot become markup. Actions come back as a queue of
{seq, kind, list, position | start, end} entries; `apply_actions` applies those it has not
seen yet (sequence numbers make a rerun that coalesced two key presses lose neither).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from extractor.core.labels import LIST_LABELS, LIST_SHORT_LABELS
from extractor.core.schema import ListName
from extractor.review.edits import ItemEdit
from extractor.review.errors import ReviewInputError
from extractor.review.labels import Decision
from extractor.review.session import ReviewSession
from extractor.review.source_pane.editor import edit_of, editor_fields, editor_settings

#: What the pane calls an item's review state (CSS classes and the legend use these).
_STATE_NAMES: dict[Decision | None, str] = {
    None: "open",
    Decision.ACCEPTED: "accepted",
    Decision.FIXED: "fixed",
    Decision.REJECTED: "rejected",
    Decision.ADDED: "added",
}


@dataclass(frozen=True, slots=True)
class Focus:
    """The item the reviewer is on: a list and a 0-based position in it (None: empty list)."""

    list_name: ListName
    position: int | None

    @property
    def item_id(self) -> str | None:
        return None if self.position is None else item_id(self.list_name, self.position)


def item_id(list_name: ListName, position: int) -> str:
    """The pane's id of an item: stable while the item keeps its list and position."""
    return f"{list_name.value}:{position}"


def pane_items(
    session: ReviewSession, *, known_fields: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """One entry per item: id, list, position, offsets (None when not located), state, flagged,
    the editor's fields (`editor.editor_fields`) and their version `fv`. The fields are left
    out of an item whose version `known_fields` (id -> fv) says the pane already holds: most
    reruns change one item, and 150 items' fields are most of a rerun's bytes."""
    items = []
    for name in ListName:
        for position, entry in enumerate(session.entries(name)):
            span = entry.item.span
            located = span is not None and span.end > span.start
            fields = editor_fields(entry, session.source)
            item: dict[str, Any] = {
                "id": item_id(name, position),
                "list": name.value,
                "position": position,
                "start": span.start if located and span else None,
                "end": min(span.end, len(session.source)) if located and span else None,
                "state": _STATE_NAMES[entry.decision],
                "flagged": entry.flagged,
                "fv": fields_version(fields),
            }
            if known_fields is None or known_fields.get(item["id"]) != item["fv"]:
                item["fields"] = fields
            items.append(item)
    return items


def fields_version(fields: dict[str, Any]) -> str:
    """A short digest of an item's editor fields (equal fields, equal version)."""
    encoded = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.blake2b(encoded, digest_size=8).hexdigest()


def pane_data(
    session: ReviewSession,
    *,
    focus: Focus,
    ack: int,
    with_text: bool = True,
    notices: list[tuple[str, str]] | None = None,
    refused: list[int] | None = None,
    known_fields: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Everything the pane and its editor show, JSON-ready. `ack` is the last action sequence
    number applied (the pane drops acknowledged actions from its queue); `refused` the ones
    Python refused (the editor keeps the reviewer's typing for those); `notices` the messages
    of the last actions applied (a save's outcome among them); `known_fields` the field
    versions the pane holds (see `pane_items`). Without `with_text` the text
    is left out (None): the pane has said it holds this report's text, and resending 30,000
    characters on every key press is most of a rerun's bytes."""
    decided, total = session.progress()
    return {
        "doc": session.doc_key,
        "text": session.source if with_text else None,
        "length": len(session.source),
        "items": pane_items(session, known_fields=known_fields),
        "order": {name.value: session.display_order(name) for name in ListName},
        "lists": {name.value: label for name, label in LIST_LABELS.items()},
        "short": {name.value: label for name, label in LIST_SHORT_LABELS.items()},
        "focus": focus.item_id,
        "list": focus.list_name.value,
        "ack": ack,
        "refused": refused or [],
        "notices": [list(notice) for notice in notices or []],
        "progress": [decided, total],
        "unsaved": session.has_unsaved_changes(),
        "editor": editor_settings(),
    }


@dataclass
class ActionOutcome:
    """What applying the pane's actions did: the new focus, messages, and the last seq seen."""

    focus: Focus
    last_seq: int
    messages: list[tuple[str, str]] = field(default_factory=list)  # (kind, Chinese text)
    changed: bool = False
    refused: list[int] = field(default_factory=list)  # seqs of the actions refused
    save: bool = False  # a save was asked for (the caller saves: that needs the store)


def step(session: ReviewSession, focus: Focus, delta: int) -> Focus:
    """The item `delta` places on from `focus` in its list's display order (wrapping)."""
    order = session.display_order(focus.list_name)
    if not order:
        return Focus(focus.list_name, None)
    if focus.position not in order:
        return Focus(focus.list_name, order[0])
    return Focus(focus.list_name, order[(order.index(focus.position) + delta) % len(order)])


def after_decision(session: ReviewSession, list_name: ListName, position: int) -> Focus:
    """Where focus goes once an item is decided: the next undecided item, else it stays."""
    following = session.next_undecided(list_name, position)
    return Focus(list_name, position if following is None else following)


def apply_actions(
    session: ReviewSession, actions: list[dict[str, Any]] | None, *, focus: Focus, last_seq: int
) -> ActionOutcome:
    """Apply the actions with a sequence number above `last_seq`, in order. A refused action
    (an item that no longer exists, a selection outside the text, an edit `ReviewSession`
    refuses) becomes an error message and its seq is listed in `refused`; the others still
    apply. A "save" action only sets `outcome.save`."""
    outcome = ActionOutcome(focus=focus, last_seq=last_seq)
    for action in sorted(actions or [], key=lambda a: int(a.get("seq", 0))):
        seq = int(action.get("seq", 0))
        if seq <= outcome.last_seq:
            continue
        outcome.last_seq = seq
        try:
            _apply_one(session, action, outcome)
        except (ReviewInputError, KeyError, ValueError, TypeError) as e:
            message = e.message if isinstance(e, ReviewInputError) else f"无法执行该操作：{e}"
            outcome.messages.append(("error", message))
            outcome.refused.append(seq)
    return outcome


def _apply_one(session: ReviewSession, action: dict[str, Any], outcome: ActionOutcome) -> None:
    kind = action["kind"]
    if kind == "save":
        outcome.save = True
        return
    list_name = ListName(action["list"])
    if kind == "add":
        position, notes = session.add_item_at(list_name, int(action["start"]), int(action["end"]))
        outcome.focus = Focus(list_name, position)
        outcome.changed = True
        outcome.messages.append(
            ("success", f"已添加为{LIST_LABELS[list_name]}第 {position + 1} 条，请核对预填的内容。")
        )
        outcome.messages.extend(("warning", note) for note in notes)
        return
    position = int(action["position"])
    session.entry(list_name, position)  # refuses a position that no longer exists
    if kind == "focus":
        outcome.focus = Focus(list_name, position)
    elif kind in ("accept", "fix"):
        edit = edit_of(action)
        if kind == "fix":
            notes = session.fix(list_name, position, edit or ItemEdit())
        else:
            notes = session.accept(list_name, position, edit)
        outcome.messages.extend(("warning", note) for note in notes)
        outcome.focus = after_decision(session, list_name, position)
        outcome.changed = True
    elif kind == "restore":
        session.restore(list_name, position)
        outcome.focus = Focus(list_name, position)
        outcome.changed = True
    elif kind == "override":
        session.override(list_name, position, str(action.get("reason", "")))
        outcome.focus = Focus(list_name, position)
        outcome.changed = True
    elif kind == "reject":
        session.reject(list_name, position)  # an added item is dropped: later positions shift
        remaining = len(session.entries(list_name))
        outcome.focus = (
            after_decision(session, list_name, min(position, remaining - 1))
            if remaining
            else Focus(list_name, None)
        )
        outcome.changed = True
    else:
        raise ValueError(f"未知操作 {kind!r}")
