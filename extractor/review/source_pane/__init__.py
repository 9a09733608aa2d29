"""The review screen's source pane: the report's text with every item's span highlighted,
the focused item outlined and scrolled into view, keys and selections sent back.

`model` is the plain-Python half (the data sent, the actions applied; tested without
Streamlit); `component` mounts the Streamlit component (HTML/CSS/JS in `static/`).
"""

from extractor.review.source_pane.model import (
    ActionOutcome,
    Focus,
    after_decision,
    apply_actions,
    item_id,
    pane_data,
    pane_items,
    step,
)

__all__ = [
    "ActionOutcome",
    "Focus",
    "after_decision",
    "apply_actions",
    "item_id",
    "pane_data",
    "pane_items",
    "step",
]
