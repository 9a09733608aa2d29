"""Two reviewers' saves of one report merged per item and per field (a three-way merge).

`base` is the version both started from, `theirs` the version saved meanwhile, `mine` the
record being saved. Items are paired with the base (by where a reviewer's item came from
when known, else by the same alignment the audit diff uses); then, field by field, a side
that left a value as it was takes the other side's value. Only a field both changed to
different values is a conflict: it is reported (path, both values, Chinese message) and
settled by the caller's `keep` choice ("mine" or "theirs"). An item one side removed and
the other edited is a conflict on the whole item. Items either side added are all kept,
after the base item they followed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from extractor.core.schema import ListName, Record
from extractor.review.audit import describe_path, shown_value
from extractor.store.diff import align_items

Side = Literal["mine", "theirs"]

#: Recomputed by the grounding check on save or carried by content: never a conflict
#: (the saving reviewer's value is taken).
_DERIVED_KEYS = frozenset(
    {"span", "alignment", "flags", "confidence", "needs_review", "provenance", "left_out"}
)
_LIST_KEYS = frozenset(name.value for name in ListName)


@dataclass(frozen=True, slots=True)
class FieldConflict:
    """One field (or whole item) both reviewers changed to different values."""

    path: str
    base: Any
    mine: Any
    theirs: Any

    @property
    def label(self) -> str:
        return describe_path(self.path)

    def message(self, *, other: str) -> str:
        return f"{self.label}：您改为 {shown_value(self.mine)}，{other}改为 {shown_value(self.theirs)}"


@dataclass
class MergeResult:
    """The merged record, the conflicts (settled by `keep`, or else kept as theirs) and, per
    list, where each merged item came from: (position in mine, position in theirs)."""

    record: Record
    conflicts: list[FieldConflict] = field(default_factory=list)
    origins: dict[ListName, list[tuple[int | None, int | None]]] = field(default_factory=dict)

    def unsettled(self, keep: Mapping[str, Side]) -> list[FieldConflict]:
        return [c for c in self.conflicts if c.path not in keep]


def merge_records(
    base: Record,
    mine: Record,
    theirs: Record,
    *,
    mine_origins: Mapping[ListName, Sequence[int | None]] | None = None,
    keep: Mapping[str, Side] | None = None,
) -> MergeResult:
    """Merge `mine` and `theirs`, both edited from `base` (see the module docstring).

    `mine_origins[list][j]` is the base position mine's item j was opened as (None: added);
    without it, items are paired by similarity. A conflict not in `keep` keeps theirs'
    value in the returned record and is listed in `conflicts` (so is a settled one).
    """
    keep = keep or {}
    base_data = base.model_dump(mode="json")
    mine_data = mine.model_dump(mode="json")
    theirs_data = theirs.model_dump(mode="json")
    result = MergeResult(record=theirs)
    merged: dict[str, Any] = {}
    for key in [*theirs_data, *(k for k in mine_data if k not in theirs_data)]:
        b, m, t = base_data.get(key), mine_data.get(key), theirs_data.get(key)
        if key in _LIST_KEYS:
            name = ListName(key)
            origins = None if mine_origins is None else mine_origins.get(name)
            merged[key], result.origins[name] = _merge_list(
                key, b or [], m or [], t or [], mine_origins=origins, keep=keep, conflicts=result.conflicts
            )
        elif key == "meta":
            merged[key] = _merge_fields(
                "meta", b or {}, m or {}, t or {}, keep=keep, conflicts=result.conflicts
            )
        else:
            merged[key] = _merge_value(key, key, b, m, t, keep=keep, conflicts=result.conflicts)
    result.record = Record.model_validate(merged)
    return result


def _merge_value(
    path: str, key: str, b: Any, m: Any, t: Any, *, keep: Mapping[str, Side], conflicts: list[FieldConflict]
) -> Any:
    if m == t or t == b:
        return m
    if m == b:
        return t
    if key in _DERIVED_KEYS:
        return m
    conflicts.append(FieldConflict(path=path, base=b, mine=m, theirs=t))
    return m if keep.get(path) == "mine" else t


def _merge_fields(
    path: str,
    b: dict[str, Any],
    m: dict[str, Any],
    t: dict[str, Any],
    *,
    keep: Mapping[str, Side],
    conflicts: list[FieldConflict],
) -> dict[str, Any]:
    out = {}
    for key in [*t, *(k for k in m if k not in t)]:
        out[key] = _merge_value(
            f"{path}.{key}", key, b.get(key), m.get(key), t.get(key), keep=keep, conflicts=conflicts
        )
    return out


def _pairing(
    base: list[dict[str, Any]], other: list[dict[str, Any]], origins: Sequence[int | None] | None
) -> tuple[dict[int, int], list[tuple[int, int]]]:
    """base position → other position, and other's added items as (anchor, position): the
    anchor is the base position the added item follows (-1: before every base item)."""
    if origins is not None and len(origins) == len(other):
        pairs: list[tuple[int | None, int | None]] = [(o, j) for j, o in enumerate(origins)]
    else:
        pairs = align_items(base, other)
    paired: dict[int, int] = {}
    added: list[tuple[int, int]] = []
    anchor = -1
    for i, j in pairs:
        if i is not None and j is not None:
            paired[i] = j
            anchor = max(anchor, i)
        elif j is not None:
            added.append((anchor, j))
    return paired, added


def _merge_list(
    key: str,
    base: list[dict[str, Any]],
    mine: list[dict[str, Any]],
    theirs: list[dict[str, Any]],
    *,
    mine_origins: Sequence[int | None] | None,
    keep: Mapping[str, Side],
    conflicts: list[FieldConflict],
) -> tuple[list[dict[str, Any]], list[tuple[int | None, int | None]]]:
    mine_paired, mine_added = _pairing(base, mine, mine_origins)
    theirs_paired, theirs_added = _pairing(base, theirs, None)
    items: list[dict[str, Any]] = []
    origins: list[tuple[int | None, int | None]] = []

    def add_after(anchor: int) -> None:
        for a, k in theirs_added:
            if a == anchor:
                items.append(theirs[k])
                origins.append((None, k))
        for a, j in mine_added:
            # The same item added by both (same passage) is kept once.
            if a == anchor and mine[j] not in (theirs[k] for _, k in theirs_added):
                items.append(mine[j])
                origins.append((j, None))

    add_after(-1)
    for i, b in enumerate(base):
        j, k = mine_paired.get(i), theirs_paired.get(i)
        path = f"{key}[{i}]"
        if j is not None and k is not None:
            items.append(_merge_fields(path, b, mine[j], theirs[k], keep=keep, conflicts=conflicts))
            origins.append((j, k))
        elif j is not None or k is not None:
            m, t = (mine[j] if j is not None else None), (theirs[k] if k is not None else None)
            kept = _one_side_removed(path, b, m, t, keep=keep, conflicts=conflicts)
            if kept is not None:
                items.append(kept)
                origins.append((j, None) if kept is m else (None, k))
        add_after(i)
    return items, origins


def _one_side_removed(
    path: str,
    b: dict[str, Any],
    m: dict[str, Any] | None,
    t: dict[str, Any] | None,
    *,
    keep: Mapping[str, Side],
    conflicts: list[FieldConflict],
) -> dict[str, Any] | None:
    """One side removed the base item: removed, unless the other side changed it (a conflict)."""
    remaining = m if m is not None else t
    if remaining is None or _content(remaining) == _content(b):
        return None
    conflicts.append(FieldConflict(path=path, base=b, mine=m, theirs=t))
    choice = keep.get(path, "theirs")
    return m if choice == "mine" else t


def _content(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _DERIVED_KEYS}
