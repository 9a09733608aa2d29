"""Word heading levels: which paragraphs a .docx marks as headings, and at what level.

Word states a heading's level as an outline level (w:outlineLvl, 0 = level 1, 9 = body
text), on the paragraph itself or on its style; built-in heading styles are named
"heading 1".."heading 9" (python-docx shows "Heading 1"), and Chinese templates (WPS, some
government ones) name their own "标题 1". A custom style inherits its level through basedOn.
"""

from __future__ import annotations

import re

from docx.oxml.ns import qn
from docx.styles.style import CharacterStyle
from docx.text.paragraph import Paragraph
from lxml.etree import _Element

_HEADING_STYLE_NAME = re.compile(r"^(heading|标题)\s*([1-9])$", re.IGNORECASE)
#: w:outlineLvl 9 means "body text": a decided answer that stops the search up the styles.
_BODY_TEXT = 0


class HeadingLevels:
    """The heading level of each paragraph of one document (styles looked up once each)."""

    def __init__(self) -> None:
        self._by_style: dict[str | None, int | None] = {}

    def level(self, paragraph: Paragraph) -> int | None:
        """1..9 for a paragraph Word shows as a heading of that level (in the navigation pane),
        else None. The paragraph's own outline level wins over its style's."""
        stated = _stated_level(paragraph._p.pPr)
        if stated is None:
            style_id = paragraph._p.style
            if style_id not in self._by_style:
                self._by_style[style_id] = _style_level(paragraph.style)
            stated = self._by_style[style_id]
        return stated or None


def _style_level(style: CharacterStyle | None) -> int | None:
    """The level a paragraph style gives (its outline level, else a heading name), looked up
    the basedOn chain; None when no style of the chain says."""
    seen: set[str | None] = set()
    while style is not None and style.style_id not in seen:
        seen.add(style.style_id)
        stated = _stated_level(style.element.pPr)
        if stated is not None:
            return stated
        named = _HEADING_STYLE_NAME.match((style.name or "").strip())
        if named:
            return int(named.group(2))
        style = style.base_style
    return None


def _stated_level(ppr: _Element | None) -> int | None:
    """The w:outlineLvl of a paragraph's or style's properties: 1..9 for a heading level,
    `_BODY_TEXT` for body text (or a value Word would not write), None when not stated."""
    if ppr is None:
        return None
    element = ppr.find(qn("w:outlineLvl"))
    if element is None:
        return None
    try:
        value = int(element.get(qn("w:val"), ""))
    except ValueError:
        return _BODY_TEXT
    return value + 1 if 0 <= value <= 8 else _BODY_TEXT
