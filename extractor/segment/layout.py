"""Headings the file itself marks (Word heading styles, outline levels) as structure hints.

A report typed in Word with heading styles says which lines are its section headings even
when their wording names no section and carries no 一、 marker. Once the file marks headings
that way, it is trusted both ways: a styled line at the section level is a section heading,
and a short unstyled line is body text, not a heading because it is short.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

from extractor.segment.paragraphs import Paragraph


class HeadingRole(Enum):
    """What a paragraph is in a report whose file marks its headings."""

    SECTION = "section"  # a styled heading at the report's section level
    SUBHEADING = "subheading"  # a styled heading below it: context for the points under it
    BODY = "body"  # no styled heading (or one above the sections: the report's title)


@dataclass(frozen=True)
class StyledHeadings:
    """The styled headings of a report body and the level its sections are headed at."""

    section_level: int | None = None
    levels: dict[int, int] = field(default_factory=dict)  # paragraph start -> styled level

    @classmethod
    def of(cls, body: list[Paragraph]) -> StyledHeadings:
        """The section level is the highest level styled on more than one line: a report
        styles its title once (often as Heading 1) and then heads its sections one level
        down. A body with no level used twice marks no sections: no roles (None)."""
        levels = {p.start: p.heading_level for p in body if p.heading_level is not None}
        repeated = [level for level, count in Counter(levels.values()).items() if count >= 2]
        return cls(min(repeated) if repeated else None, levels)

    def role(self, para: Paragraph) -> HeadingRole | None:
        """The paragraph's role, or None when the file marks no sections (wording decides)."""
        if self.section_level is None:
            return None
        level = self.levels.get(para.start)
        if level is None or level < self.section_level:
            return HeadingRole.BODY
        return HeadingRole.SECTION if level == self.section_level else HeadingRole.SUBHEADING

    def opens_section(self, para: Paragraph) -> bool:
        return self.role(para) is HeadingRole.SECTION
