"""The audit log as reviewers read it: versions, who saved them, and what changed (Chinese).

Times are shown in Beijing time (stored in UTC). Old and new values are shown whole; the
characters that changed are marked (difflib) in `ChangeLine.html()`, every piece escaped.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from extractor.core.labels import FIELD_LABELS, LIST_LABELS, VERSION_KIND_LABELS
from extractor.core.schema import ListName, Record
from extractor.review.labels import status_label
from extractor.store import RecordVersionInfo
from extractor.store.diff import FieldChange, record_diff
from extractor.store.queries import beijing_text

if TYPE_CHECKING:
    from extractor.review.decisions import ItemDecision

#: The changed characters stand out from the whole values around them.
_CHANGES_STYLE = (
    "<style>.audit-changes td { vertical-align: top; }"
    " .audit-changes del { background: #ffd6d6; } .audit-changes ins { background: #c8f2cf; }</style>"
)
_STEP = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")
_LIST_NAMES = frozenset(n.value for n in ListName)


class ChangeLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    old: str
    new: str

    def as_row(self) -> dict[str, str]:
        return {"字段": self.field, "原值": self.old, "新值": self.new}

    def html(self) -> str:
        """One table row: the field, then old and new whole, removed characters in <del>,
        added ones in <ins> (all text escaped)."""
        old, new = marked_change(self.old, self.new)
        return f"<tr><td>{html.escape(self.field)}</td><td>{old}</td><td>{new}</td></tr>"


def marked_change(old: str, new: str) -> tuple[str, str]:
    """`old` and `new` as escaped HTML with the characters that differ marked: deleted
    ones in `old` as <del>, inserted ones in `new` as <ins>."""
    old_parts: list[str] = []
    new_parts: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        a, b = html.escape(old[i1:i2]), html.escape(new[j1:j2])
        if tag == "equal":
            old_parts.append(a)
            new_parts.append(b)
            continue
        if a:
            old_parts.append(f"<del>{a}</del>")
        if b:
            new_parts.append(f"<ins>{b}</ins>")
    return "".join(old_parts), "".join(new_parts)


def changes_html(lines: Sequence[ChangeLine]) -> str:
    """The changes as one escaped HTML table (字段 / 原值 / 新值)."""
    head = "<tr><th>字段</th><th>原值</th><th>新值</th></tr>"
    rows = "".join(line.html() for line in lines)
    return f'{_CHANGES_STYLE}<table class="audit-changes">{head}{rows}</table>'


class AuditEntry(BaseModel):
    """One version of the log, with its changes against the version it was based on."""

    model_config = ConfigDict(frozen=True)

    version: int
    kind: str
    status: str
    reviewer: str
    saved_at: str
    base_version: int | None
    changes: list[ChangeLine]
    #: True for a document's first version (nothing to compare with).
    first: bool = False
    #: Items approved despite a grounding problem, each with the reviewer's written reason.
    overrides: list[str] = []

    def summary(self) -> str:
        base = f"（基于 v{self.base_version}）" if self.base_version else ""
        who = f"，{self.reviewer}" if self.reviewer else ""
        changed = "首个版本" if self.first else f"{len(self.changes)} 处修改"
        forced = f"，强行通过 {len(self.overrides)} 条" if self.overrides else ""
        return f"v{self.version} {self.kind}{who}，{self.saved_at}，{self.status}{base}，{changed}{forced}"


def describe_path(path: str) -> str:
    """A diff path in Chinese: `achievements[3].metrics[0].value` → 主要成效第4条 · 指标1 · 数值."""
    parts: list[str] = []
    for name, index in _STEP.findall(path):
        if name in _LIST_NAMES:
            label = LIST_LABELS[ListName(name)]
            parts.append(f"{label}第{int(index) + 1}条" if index else label)
        else:
            label = FIELD_LABELS.get(name, name)
            parts.append(f"{label}{int(index) + 1}" if index else label)
    return " · ".join(parts) or path


def audit_entries(
    versions: list[RecordVersionInfo], *, decisions: Mapping[int, list[ItemDecision]] | None = None
) -> list[AuditEntry]:
    """The version log, newest first, in Chinese and Beijing time. `decisions` (by version,
    `decisions.decisions_by_version`) adds the overrides each version recorded."""
    decisions = decisions or {}
    return [
        AuditEntry(
            version=v.version,
            kind=VERSION_KIND_LABELS.get(v.kind, v.kind),
            status=status_label(v.status),
            reviewer=v.reviewer or "",
            saved_at=beijing_text(v.created_at),
            base_version=v.base_version,
            changes=[_line(c) for c in v.diff or []],
            first=v.diff is None,
            overrides=[
                f"{describe_path(f'{d.list_name.value}[{d.position}]')}：{d.override_reason}"
                for d in decisions.get(v.version, [])
                if d.override_reason and d.position is not None
            ],
        )
        for v in reversed(versions)
    ]


def conflict_explanation(versions: list[RecordVersionInfo], base_version: int) -> str:
    """Who saved what after `base_version`, in Chinese (for a refused save)."""
    later = [v for v in versions if v.version > base_version]
    if not later:
        return "有人在您打开之后保存了新版本。"
    lines = []
    for v in later:
        who = v.reviewer if v.kind == "review" and v.reviewer else VERSION_KIND_LABELS.get(v.kind, v.kind)
        fields = "、".join(describe_path(c.path) for c in (v.diff or [])[:6]) or "无字段变化"
        more = f" 等 {len(v.diff or [])} 处" if len(v.diff or []) > 6 else ""
        lines.append(f"{who} 于 {beijing_text(v.created_at)} 保存了 v{v.version}，修改了：{fields}{more}")
    return "；".join(lines) + "。"


def change_lines_between(old: Record, new: Record) -> list[ChangeLine]:
    """What differs between two records, in Chinese (e.g. a reviewer's unsaved changes)."""
    return [_line(c) for c in record_diff(old, new)]


def _line(change: FieldChange) -> ChangeLine:
    return ChangeLine(
        field=describe_path(change.path), old=shown_value(change.old), new=shown_value(change.new)
    )


def shown_value(value: Any) -> str:
    """A field's value whole, as reviewers read it: an item by its summary and evidence, a
    metric as name, value, unit and evidence (never the stored JSON with offsets)."""
    if value is None:
        return "（无）"
    if isinstance(value, dict) and "text" in value:
        evidence = f" 证据：{value['evidence']}" if value.get("evidence") else ""
        return f"「{value['text']}」{evidence}"
    if isinstance(value, dict) and {"name", "value"} <= value.keys():
        return _metric_text(value)
    if isinstance(value, list) and all(isinstance(v, dict) and {"name", "value"} <= v.keys() for v in value):
        return "；".join(_metric_text(v) for v in value) or "（无）"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _metric_text(metric: Mapping[str, Any]) -> str:
    value = metric["value"]
    number = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    evidence = f"（证据：{metric['evidence']}）" if metric.get("evidence") else ""
    return f"{metric['name']} {number}{metric.get('unit') or ''}{evidence}"
