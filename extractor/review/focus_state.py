"""Which item the reviewer is on, kept in a page's state mapping (Streamlit's session state
in the app, a dict in tests): one focus for the source pane, the editor, the tab and the URL.

Focus is remembered per list, so switching tabs comes back to the same item; the open tab,
when it is a list's tab, decides which list is in focus (it is what the reviewer sees).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from extractor.core.labels import LIST_LABELS
from extractor.core.schema import ListName
from extractor.review.session import ReviewSession
from extractor.review.source_pane.model import Focus, step

#: The state keys this module owns (the tabs' key is the st.tabs widget's).
TABS_KEY = "rv_tabs"
_FOCUS_LIST = "rv_focus_list"
_FOCUS_POSITIONS = "rv_focus_positions"
_LIST_OF_TAB = {label: name for name, label in LIST_LABELS.items()}


class FocusState:
    """The focus held in `state` (read and written through it, nothing cached)."""

    def __init__(self, state: MutableMapping[str, Any]) -> None:
        self.state = state

    def current(self, session: ReviewSession) -> Focus:
        """The item in focus: in the open list tab, else in the list last focused."""
        shown = _LIST_OF_TAB.get(self.state.get(TABS_KEY, ""))
        return self.within(
            session, shown or ListName(self.state.get(_FOCUS_LIST, ListName.ACHIEVEMENTS.value))
        )

    def within(self, session: ReviewSession, list_name: ListName) -> Focus:
        """The item in focus in `list_name` (remembered per list; else its first item in
        display order; position None for an empty list)."""
        position = self.state.get(_FOCUS_POSITIONS, {}).get(list_name.value)
        if position in session.display_order(list_name):
            return Focus(list_name, position)
        return step(session, Focus(list_name, None), 0)

    def set(self, focus: Focus, *, show_tab: bool) -> None:
        """Move focus; `show_tab` also opens its list's tab (Streamlit allows that only before
        the tabs are drawn in a run: in callbacks)."""
        self.state[_FOCUS_LIST] = focus.list_name.value
        self.state.setdefault(_FOCUS_POSITIONS, {})[focus.list_name.value] = focus.position
        if show_tab:
            self.state[TABS_KEY] = LIST_LABELS[focus.list_name]

    def reset(self, focus: Focus | None = None) -> None:
        """Forget every list's focus (another report opens) and focus `focus` or 主要成效."""
        self.state.pop(_FOCUS_POSITIONS, None)
        self.set(focus or Focus(ListName.ACHIEVEMENTS, None), show_tab=True)
