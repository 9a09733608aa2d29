"""The report's text as HTML with every evidence span highlighted, coloured by list.

Safety: the report is untrusted. Every piece of document text goes through `html.escape`
(quotes included) before it is placed in the HTML; the only markup in the result is the
fixed `<div>`/`<mark>` structure built here, so a report containing `<script>` or
`<img onerror=...>` shows as text.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from extractor.core.labels import LIST_SHORT_LABELS
from extractor.core.schema import ListName, Span

#: Background colour per list (成效 green, 不足 red, 计划 blue).
LIST_COLOURS: dict[ListName, str] = {
    ListName.ACHIEVEMENTS: "#c8f2cf",
    ListName.PROBLEMS: "#ffd6d6",
    ListName.PLANS: "#cfe6ff",
}
_FOCUS_STYLE = "outline:2px solid #d9480f;font-weight:600;"
_CONTAINER_STYLE = "white-space:pre-wrap;line-height:1.8;font-size:0.95rem;"


@dataclass(frozen=True, slots=True)
class HighlightSpan:
    """One item's evidence span: which list and position it belongs to."""

    span: Span
    list_name: ListName
    position: int  # 0-based index of the item in its list

    @property
    def label(self) -> str:
        return f"{LIST_SHORT_LABELS[self.list_name]} #{self.position + 1}"


def highlight_html(
    text: str,
    spans: Iterable[HighlightSpan],
    *,
    focus: tuple[ListName, int] | None = None,
) -> str:
    """HTML of `text` with each span wrapped in a coloured `<mark>`; the span of the
    `focus` item (list, position) is outlined. Where spans overlap, the focused one wins,
    else the one that starts first. Offsets outside the text are clipped."""
    length = len(text)
    marks = sorted(
        (s for s in spans if min(s.span.end, length) > s.span.start),
        key=lambda s: (s.span.start, -s.span.end),
    )
    bounds = sorted(
        {0, length, *(min(s.span.start, length) for s in marks), *(min(s.span.end, length) for s in marks)}
    )
    pieces: list[str] = [f'<div class="rv-source" style="{_CONTAINER_STYLE}">']
    open_mark: HighlightSpan | None = None
    active: list[HighlightSpan] = []
    next_mark = 0
    for start, end in itertools.pairwise(bounds):
        while next_mark < len(marks) and marks[next_mark].span.start <= start:
            active.append(marks[next_mark])
            next_mark += 1
        active = [s for s in active if s.span.end > start]
        chosen = _choose(active, focus)
        if chosen is not open_mark:
            if open_mark is not None:
                pieces.append("</mark>")
            if chosen is not None:
                pieces.append(_open_tag(chosen, focused=_is_focus(chosen, focus)))
            open_mark = chosen
        pieces.append(html.escape(text[start:end], quote=True))
    if open_mark is not None:
        pieces.append("</mark>")
    pieces.append("</div>")
    return "".join(pieces)


def legend_html() -> str:
    """A small colour legend for the highlight (fixed text only)."""
    swatches = "".join(
        f'<mark style="background:{colour};padding:0 4px;margin-right:8px;">{LIST_SHORT_LABELS[name]}</mark>'
        for name, colour in LIST_COLOURS.items()
    )
    return f'<div style="font-size:0.85rem;">{swatches}<span style="{_FOCUS_STYLE}padding:0 4px;">当前条目</span></div>'


def _choose(active: list[HighlightSpan], focus: tuple[ListName, int] | None) -> HighlightSpan | None:
    if not active:
        return None
    for s in active:
        if _is_focus(s, focus):
            return s
    return active[0]


def _is_focus(s: HighlightSpan, focus: tuple[ListName, int] | None) -> bool:
    return focus is not None and (s.list_name, s.position) == focus


def _open_tag(s: HighlightSpan, *, focused: bool) -> str:
    style = f"background:{LIST_COLOURS[s.list_name]};padding:1px 0;"
    if focused:
        style += _FOCUS_STYLE
    element_id = ' id="rv-focus"' if focused else ""
    title = html.escape(s.label, quote=True)
    return f'<mark class="rv-{s.list_name.value}"{element_id} title="{title}" style="{style}">'
