"""What the review screen shows for a session, as plain data (rows, labels, form values)."""

from __future__ import annotations

from typing import Any

from extractor.core.schema import ListName, Meta
from extractor.review.labels import DECISION_LABELS, flag_reasons
from extractor.review.session import ReviewSession

_LABEL_TEXT_CHARS = 24


def overview_rows(session: ReviewSession, list_name: ListName) -> list[dict[str, Any]]:
    """One row per item of a list, in display order (flagged first), with the flags' reasons."""
    rows = []
    for position in session.display_order(list_name):
        entry = session.entry(list_name, position)
        rows.append(
            {
                "序号": position + 1,
                "待核查": "；".join(flag_reasons(entry.item.flags)),
                "审核": DECISION_LABELS[entry.decision],
                "领域": entry.item.area.value,
                "摘要": entry.item.text,
            }
        )
    return rows


def item_label(session: ReviewSession, list_name: ListName, position: int) -> str:
    """A one-line label for an item: ⚠ if flagged, position, decision and summary start."""
    entry = session.entry(list_name, position)
    mark = "⚠ " if entry.flagged else ""
    return (
        f"{mark}第{position + 1}条 [{DECISION_LABELS[entry.decision]}] {entry.item.text[:_LABEL_TEXT_CHARS]}"
    )


def focus_of(session: ReviewSession, list_name: ListName, position: Any) -> tuple[ListName, int] | None:
    """The item to emphasise in the source: `position` if valid, else the list's first item."""
    order = session.display_order(list_name)
    if position in order:
        return list_name, position
    return (list_name, order[0]) if order else None


def meta_form_values(meta: Meta) -> dict[str, str]:
    """The meta's fields as form text (empty for unknown)."""
    return {
        field: "" if value is None else str(value)
        for field, value in meta.model_dump(
            include={"issuer", "region", "report_year", "plan_year", "publish_date"}
        ).items()
    }
