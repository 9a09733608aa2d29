"""The item editor's half of the source pane, as plain Python (no Streamlit).

The editor is drawn in the browser (static/item_editor.js) so that switching items and
deciding them needs no Streamlit rerun; Python stays the only judge. The browser receives
each item's editable fields as data (text, never HTML) and sends back decisions and edits as
actions on the pane's numbered queue; `edit_of` turns an action's fields into an `ItemEdit`
that `ReviewSession` checks exactly as before (a refused edit becomes a message, and the
browser keeps the reviewer's typing).

To keep a rerun's bytes small, an evidence passage that is exactly the source text under the
item's span is sent as None: the browser already holds the text and cuts it out itself.
"""

from __future__ import annotations

from typing import Any

from extractor.core.schema import Achievement, Area, Problem, Span
from extractor.review.edits import METRIC_COLUMN_LABELS, METRIC_COLUMNS, ItemEdit, metric_rows
from extractor.review.labels import DECISION_LABELS, flag_reasons
from extractor.review.session import DraftItem

#: The fields an edit action may carry (everything else in it is ignored).
_EDIT_FIELDS = ("area", "text", "evidence", "cause", "metrics")


def _passage_or_none(evidence: str, span: Span | None, source: str) -> str | None:
    if span is not None and span.end > span.start and source[span.start : span.end] == evidence:
        return None
    return evidence


def editor_fields(entry: DraftItem, source: str) -> dict[str, Any]:
    """What the browser's editor shows for one item, JSON-ready: its fields, its decision's
    label, why it is flagged, what blocks approving it and the written override."""
    item = entry.item
    fields: dict[str, Any] = {
        "area": item.area.value,
        "text": item.text,
        "evidence": _passage_or_none(item.evidence, item.span, source),
        "decision": DECISION_LABELS[entry.decision],
        "rejected": entry.decision is not None and entry.decision.value == "rejected",
        "reasons": flag_reasons(item.flags),
        "problems": list(entry.problems),
        "override": entry.override,
    }
    if isinstance(item, Problem):
        fields["cause"] = item.cause or ""
    if isinstance(item, Achievement):
        fields["metrics"] = [
            _metric_row(row, metric.span, source)
            for row, metric in zip(metric_rows(item), item.metrics, strict=True)
        ]
    return fields


def _metric_row(row: dict[str, Any], span: Span | None, source: str) -> dict[str, Any]:
    evidence = _passage_or_none(row["evidence"], span, source)
    if evidence is None and span is not None:
        return {**row, "evidence": None, "at": [span.start, span.end]}
    return row


def editor_settings() -> dict[str, Any]:
    """The editor's fixed choices: the areas (in the schema's order) and the metric columns."""
    return {
        "areas": [area.value for area in Area],
        "metricColumns": [[column, METRIC_COLUMN_LABELS[column]] for column in METRIC_COLUMNS],
    }


def edit_of(action: dict[str, Any]) -> ItemEdit | None:
    """The edit an action carries (None when it carries none). Only the editor's fields are
    read; a field the reviewer did not touch is absent and stays as it is."""
    edit = action.get("edit")
    if not isinstance(edit, dict):
        return None
    fields = {name: edit[name] for name in _EDIT_FIELDS if edit.get(name) is not None}
    if "metrics" in fields:
        fields["metrics"] = [
            {column: row.get(column) for column in METRIC_COLUMNS}
            for row in fields["metrics"]
            if isinstance(row, dict)
        ]
    return ItemEdit(**fields) if fields else None
