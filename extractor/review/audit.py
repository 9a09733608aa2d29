"""The audit log as reviewers read it: versions, who saved them, and what changed (Chinese)."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from extractor.core.labels import FIELD_LABELS, LIST_LABELS, VERSION_KIND_LABELS
from extractor.core.schema import ListName, Record
from extractor.review.labels import status_label
from extractor.store import RecordVersionInfo
from extractor.store.diff import FieldChange, record_diff

_STEP = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")
_SHOWN_VALUE_CHARS = 80
_LIST_NAMES = frozenset(n.value for n in ListName)


class ChangeLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    old: str
    new: str

    def as_row(self) -> dict[str, str]:
        return {"字段": self.field, "原值": self.old, "新值": self.new}


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

    def summary(self) -> str:
        base = f"（基于 v{self.base_version}）" if self.base_version else ""
        who = f"，{self.reviewer}" if self.reviewer else ""
        changed = "首个版本" if self.first else f"{len(self.changes)} 处修改"
        return f"v{self.version} {self.kind}{who}，{self.saved_at}，{self.status}{base}，{changed}"


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


def audit_entries(versions: list[RecordVersionInfo]) -> list[AuditEntry]:
    """The version log, newest first, in Chinese."""
    return [
        AuditEntry(
            version=v.version,
            kind=VERSION_KIND_LABELS.get(v.kind, v.kind),
            status=status_label(v.status),
            reviewer=v.reviewer or "",
            saved_at=v.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            base_version=v.base_version,
            changes=[_line(c) for c in v.diff or []],
            first=v.diff is None,
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
        lines.append(
            f"{who} 于 {v.created_at.strftime('%Y-%m-%d %H:%M:%S UTC')} 保存了 v{v.version}，修改了：{fields}{more}"
        )
    return "；".join(lines) + "。"


def change_lines_between(old: Record, new: Record) -> list[ChangeLine]:
    """What differs between two records, in Chinese (e.g. a reviewer's unsaved changes)."""
    return [_line(c) for c in record_diff(old, new)]


def _line(change: FieldChange) -> ChangeLine:
    return ChangeLine(field=describe_path(change.path), old=_shown(change.old), new=_shown(change.new))


def _shown(value: Any) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, dict) and "text" in value:
        text = f"「{value['text']}」"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= _SHOWN_VALUE_CHARS else text[: _SHOWN_VALUE_CHARS - 1] + "…"
