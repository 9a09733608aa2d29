"""Keyboard moves through the review queue: a Streamlit custom component (components v2, in
the page) with no markup of its own; its JavaScript (static/queue_keys.js) moves the focus
between the queue's report buttons with j / k (or the arrow keys), and Enter opens one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any

import streamlit as st

COMPONENT_NAME = "extractor_review_queue_keys"


@cache
def _mount() -> Callable[..., Any]:
    js = (files("extractor.review") / "static" / "queue_keys.js").read_text("utf-8")
    return st.components.v2.component(COMPONENT_NAME, js=js)


def queue_keys(*, key: str) -> None:
    """Listen for the queue's keys while the queue is shown (the listener goes with it)."""
    _mount()(key=key)
