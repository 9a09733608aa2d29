"""Typing the item editor holds but has not sent as a decision, as plain Python (no Streamlit).

The browser's editor keeps what a reviewer types as a draft until Enter, 接受 or 修改 sends
it. The pane also reports those drafts as component state (`typing`): one entry per item,
{list, position, fv, draft, edit}, where `fv` is the version of the item's fields the typing
was made against (`model.fields_version`), `draft` a token unique to the draft (typing begun
again after a save is a new draft) and `edit` the whole form as the reviewer sees it.
The sidebar's 保存为新版本 and 接受其余全部 apply it first (`apply_unsent`), so what the editor
shows is what is saved, or refuse, naming the items, and apply none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from extractor.core.labels import LIST_SHORT_LABELS
from extractor.core.schema import ListName
from extractor.review.edits import ItemEdit, apply_edit
from extractor.review.errors import ReviewInputError
from extractor.review.session import ReviewSession
from extractor.review.source_pane.editor import edit_of, editor_fields
from extractor.review.source_pane.model import fields_version


@dataclass(frozen=True, slots=True)
class _Pending:
    list_name: ListName
    position: int
    edit: ItemEdit


def item_label(list_name: ListName, position: int) -> str:
    """How the pane names an item (the editor's messages use the same words)."""
    return f"{LIST_SHORT_LABELS[list_name]} 第{position + 1}条"


def apply_unsent(
    session: ReviewSession,
    typing: list[dict[str, Any]] | None,
    *,
    applied_before: Sequence[dict[str, Any]] = (),
) -> list[str]:
    """Apply the editor's unsent typing as 修改 decisions; returns the labels of the items it
    changed. Typing already in the session changes nothing and is skipped, and so is an entry
    in `applied_before` (the entries an earlier call applied: the browser reports its typing
    again only when the reviewer next leaves a field, so its report may still list them).

    All or nothing: when any entry names an item that is gone or whose fields changed since
    the typing began (it would land on an item the reviewer did not type into, or undo a
    change made since), or carries an edit ReviewSession refuses, nothing is applied and
    ReviewInputError names every such item; the typing stays in the browser's editor."""
    pending: list[_Pending] = []
    refusals: list[str] = []
    for entry in typing or []:
        if entry in applied_before:
            continue
        checked = _checked(session, entry)
        if isinstance(checked, str):
            refusals.append(checked)
        elif checked is not None:
            pending.append(checked)
    if refusals:
        raise ReviewInputError(
            f"编辑框中还有尚未提交的修改，本次没有执行：{'；'.join(refusals)}。"
            "请核对这些条目，按 Enter（接受）或点「修改 ✎」后再试。"
        )
    for item in pending:
        session.fix(item.list_name, item.position, item.edit)
    return [item_label(item.list_name, item.position) for item in pending]


def _checked(session: ReviewSession, entry: Any) -> _Pending | str | None:
    """The entry as an edit to apply, None when it changes nothing, or why it is refused."""
    try:
        list_name = ListName(entry["list"])
        position = int(entry["position"])
        version = str(entry["fv"])
    except (TypeError, KeyError, ValueError):
        return "无法识别的编辑内容"
    label = item_label(list_name, position)
    entries = session.entries(list_name)
    if not 0 <= position < len(entries):
        return f"{label}已不存在"
    edit = edit_of(entry)
    if edit is None:
        return None
    draft_item = entries[position]
    try:
        result = apply_edit(draft_item.item, edit, index=session.index)
    except ReviewInputError as e:
        return f"{label}：{e.message}"
    if not result.changed:
        return None  # already there (a save that applied it, or typed back)
    if fields_version(editor_fields(draft_item, session.source)) != version:
        return f"{label}在输入之后已有变动"
    return _Pending(list_name, position, edit)
