"""Mount the source pane and its item editor as a Streamlit custom component (components v2:
in the page, no iframe). The HTML skeleton is built by the pane's JavaScript from fixed tags; the report's
text reaches the page only as text nodes (see static/source_pane.js).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any

import streamlit as st

COMPONENT_NAME = "extractor_review_source_pane"


@cache
def _assets() -> tuple[str, str]:
    static = files("extractor.review.source_pane") / "static"
    # One module: the editor's functions first, then the pane that uses them.
    js = "\n".join((static / name).read_text("utf-8") for name in ("item_editor.js", "source_pane.js"))
    return (static / "source_pane.css").read_text("utf-8"), js


@cache
def _mount() -> Callable[..., Any]:
    css, js = _assets()
    # Not isolated in a shadow root: text selection inside a shadow root is not portable.
    return st.components.v2.component(COMPONENT_NAME, css=css, js=js, isolate_styles=False)


def pane_holds_text(*, key: str, doc_key: str) -> bool:
    """Whether the pane mounted under `key` has said it holds `doc_key`'s text (then
    `pane_data(..., with_text=False)` suffices)."""
    state = st.session_state.get(key)
    return state is not None and state.get("have") == doc_key


def source_pane(*, data: dict[str, Any], key: str, on_actions: Callable[[], None]) -> Any:
    """Show the pane for `data` (see `model.pane_data`). `on_actions` runs (before the script,
    as a widget callback) when the reviewer acts in the pane; it reads the queue from
    `st.session_state[key]["actions"]`."""
    return _mount()(
        data=data,
        key=key,
        default={"actions": [], "have": None, "typing": []},
        on_actions_change=on_actions,
        on_have_change=_nothing,  # "have" only changes what the next run sends
        on_typing_change=_nothing,  # read by the sidebar's actions (see `unsent`)
    )


def _nothing() -> None:
    pass
