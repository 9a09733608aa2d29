"""Field-level differences between two versions of a record.

Used for the audit log (each stored version keeps its diff against the version before it)
and for review conflict messages ("李四 changed achievements[3].area"). Pure functions.

Paths read like Python access paths into the record: `meta.issuer`, `achievements[3].area`,
`problems[0].cause`, `achievements[2].metrics[1].value`. A whole item (or metric) that was
added or removed is one change at the item's path (`plans[4]`) with `old` or `new` None.
Indexes name the item's position in the new record, except for a removed item, which only
the old record has.
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher
from typing import Any

from pydantic import BaseModel, ConfigDict

from extractor.core.schema import Record

#: Compared as a whole: a span or the set of flags is one value to a reviewer.
_LEAF_KEYS = frozenset({"span", "flags"})
#: Two differing list entries are one edited item if they agree on this share of their
#: filled-in fields (or quote the same evidence); otherwise one was removed, one added.
_SAME_ITEM_SHARE = 0.5
_EMPTY: tuple[Any, ...] = (None, "", [], {})


class FieldChange(BaseModel):
    """One changed value. `old` is None for an addition, `new` is None for a removal."""

    model_config = ConfigDict(frozen=True)

    path: str
    old: Any = None
    new: Any = None


def record_diff(old: Record, new: Record) -> list[FieldChange]:
    """Every field that differs between `old` and `new`, in record order.

    Provenance is not compared: it says where a version came from (backend, timestamps,
    reviewer), which the version log records on its own; it is not the record's content.
    Item lists are aligned first (an item inserted in the middle is one addition, not a
    change to every later item); an edited item (same evidence, or most fields unchanged)
    is compared field by field, a rewritten one counts as removed plus added. Values are
    JSON-compatible (dates as ISO strings), so the result can be stored as JSON.
    """
    old_data = old.model_dump(mode="json", exclude={"provenance"})
    new_data = new.model_dump(mode="json", exclude={"provenance"})
    changes: list[FieldChange] = []
    _diff_dicts(old_data, new_data, prefix="", out=changes)
    return changes


def align_items(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[tuple[int | None, int | None]]:
    """The alignment `record_diff` uses for an item list, as order-preserving pairs of
    (old position, new position): equal or edited items pair up, a removed item has no new
    position, an added one no old position. For merging two reviewers' work per item."""
    matcher = SequenceMatcher(
        a=[_fingerprint(x) for x in old], b=[_fingerprint(x) for x in new], autojunk=False
    )
    pairs: list[tuple[int | None, int | None]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend((i1 + k, j1 + k) for k in range(i2 - i1))
            continue
        for i, j in _pair_edited(old[i1:i2], new[j1:j2]):
            pairs.append((None if i is None else i1 + i, None if j is None else j1 + j))
    return pairs


def _diff_value(old: Any, new: Any, *, path: str, key: str, out: list[FieldChange]) -> None:
    if old == new:
        return
    if key not in _LEAF_KEYS:
        if isinstance(old, dict) and isinstance(new, dict):
            _diff_dicts(old, new, prefix=path, out=out)
            return
        if isinstance(old, list) and isinstance(new, list) and _all_dicts(old) and _all_dicts(new):
            _diff_lists(old, new, path=path, out=out)
            return
    out.append(FieldChange(path=path, old=old, new=new))


def _diff_dicts(old: dict[str, Any], new: dict[str, Any], *, prefix: str, out: list[FieldChange]) -> None:
    for key in [*old, *(k for k in new if k not in old)]:
        path = f"{prefix}.{key}" if prefix else key
        _diff_value(old.get(key), new.get(key), path=path, key=key, out=out)


def _diff_lists(old: list[dict], new: list[dict], *, path: str, out: list[FieldChange]) -> None:
    # Align on whole-item equality first, so an insertion or deletion shows as exactly that.
    matcher = SequenceMatcher(
        a=[_fingerprint(x) for x in old], b=[_fingerprint(x) for x in new], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for i, j in _pair_edited(old[i1:i2], new[j1:j2]):
            if i is not None and j is not None:
                _diff_dicts(old[i1 + i], new[j1 + j], prefix=f"{path}[{j1 + j}]", out=out)
            elif j is not None:
                out.append(FieldChange(path=f"{path}[{j1 + j}]", old=None, new=new[j1 + j]))
            elif i is not None:
                out.append(FieldChange(path=f"{path}[{i1 + i}]", old=old[i1 + i], new=None))


def _pair_edited(old: list[dict], new: list[dict]) -> list[tuple[int | None, int | None]]:
    """Order-preserving alignment of two blocks of differing items: pairs are edits of one
    item (same evidence, or most fields equal), the rest were removed (j None) or added (i None).
    Maximises the summed similarity of the pairs (a small LCS-style dynamic programme)."""
    n, m = len(old), len(new)
    sim = [[_similarity(a, b) for b in new] for a in old]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            paired = sim[i][j] + best[i + 1][j + 1] if sim[i][j] > 0 else 0.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], paired)
    steps: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < n and j < m:
        if sim[i][j] > 0 and best[i][j] == sim[i][j] + best[i + 1][j + 1]:
            steps.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            steps.append((i, None))
            i += 1
        else:
            steps.append((None, j))
            j += 1
    steps.extend((k, None) for k in range(i, n))
    steps.extend((None, k) for k in range(j, m))
    return steps


def _similarity(old: dict[str, Any], new: dict[str, Any]) -> float:
    """Share of filled-in fields two items agree on; 0 when they are not the same item."""
    keys = [k for k in {**old, **new} if old.get(k) not in _EMPTY or new.get(k) not in _EMPTY]
    if not keys:
        return 1.0
    share = sum(old.get(k) == new.get(k) for k in keys) / len(keys)
    same_evidence = bool(old.get("evidence")) and old.get("evidence") == new.get("evidence")
    return share if share >= _SAME_ITEM_SHARE or same_evidence else 0.0


def _all_dicts(values: list[Any]) -> bool:
    return all(isinstance(v, dict) for v in values)


def _fingerprint(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False)
