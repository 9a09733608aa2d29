"""Lines and paragraphs of a fixed-layout page from positioned text runs (OFD).

A typeset report wraps every paragraph at the text block's right edge and starts the next
paragraph on an indented line (or after a gap, or at another size). Read line by line, a
sentence or a number is cut wherever the wrap fell. The geometry tells the two apart: a
line that reaches the right edge, followed by a line flush with the left edge in the same
type size, is one paragraph wrapped; anything else ends the paragraph.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from extractor.load.pdf import without_page_furniture

# Runs whose baselines differ by less than this share of the type size share a line.
_SAME_LINE = 0.5
# A gap between runs wider than this share of the type size becomes a space.
_WORD_GAP = 0.25
# A line ending within this many type sizes of the right edge is full (wrapped there):
# CJK text breaks anywhere, but a closing mark kept off the next line's start, or ragged
# setting, leaves up to about one character free.
_FULL_LINE_SLACK = 1.5
# A line starting more than this share of the type size right of the left edge is
# indented: a new paragraph (two-character indents are the rule in Chinese documents).
_INDENT = 0.5
# A vertical step over this many type sizes is a gap between paragraphs.
_MAX_STEP = 2.2
# Type sizes this close are one size (a heading in another size is its own paragraph).
_SAME_SIZE = 0.15
# Share of lines the right edge is taken from (the 90th percentile of line ends): robust to
# a few lines that stick out, such as a wide table row.
_RIGHT_EDGE_QUANTILE = 0.9


class Run(Protocol):
    text: str
    x: float
    y: float
    size: float
    width: float


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a page: its text and where it sits (millimetres from the top left)."""

    text: str
    left: float = 0.0
    right: float = 0.0
    y: float = 0.0
    size: float = 0.0
    #: Read by OCR: no geometry, never joined with a neighbour.
    ocr: bool = False


def page_lines(runs: Iterable[Run]) -> list[Line]:
    """The page's runs grouped into lines by baseline, top to bottom, each left to right."""
    grouped: list[list[Run]] = []
    for run in sorted((r for r in runs if r.text.strip()), key=lambda r: (r.y, r.x)):
        if grouped:
            anchor = grouped[-1][0]
            if abs(run.y - anchor.y) <= _SAME_LINE * max(min(run.size, anchor.size), 1.0):
                grouped[-1].append(run)
                continue
        grouped.append([run])
    return [_line(sorted(group, key=lambda r: r.x)) for group in grouped]


def _line(runs: Sequence[Run]) -> Line:
    parts = [runs[0].text]
    for previous, run in itertools.pairwise(runs):
        if run.x - (previous.x + previous.width) > _WORD_GAP * max(min(previous.size, run.size), 1.0):
            parts.append(" ")
        parts.append(run.text)
    return Line(
        text="".join(parts).strip(),
        left=runs[0].x,
        right=max(run.x + run.width for run in runs),
        y=runs[0].y,
        size=max(run.size for run in runs),
    )


def reflow(pages: Sequence[Sequence[Line]]) -> str:
    """The pages' text, one paragraph per line.

    Page numbers and running headers/footers go first (`without_page_furniture`, as for
    PDF), so a paragraph wrapped over a page break is joined across it. Guarantees: every
    character of the remaining lines, in order; only line breaks are removed (a space
    stands in for one between two Latin letters or digits of separate words).
    """
    kept = _without_furniture(pages)
    lines = [line for page in kept for line in page]
    page_starts = {id(page[0]) for page in kept if page}
    geometric = [line for line in lines if not line.ocr]
    if not geometric:
        return "\n".join(line.text for line in lines)
    left_edge = min(line.left for line in geometric)
    rights = sorted(line.right for line in geometric)
    right_edge = rights[int(_RIGHT_EDGE_QUANTILE * (len(rights) - 1))]

    out = [lines[0].text] if lines else []
    for previous, line in itertools.pairwise(lines):
        joined = _wraps_into(previous, line, left_edge, right_edge, new_page=id(line) in page_starts)
        if not joined:
            out.append("\n")
        elif previous.text[-1:].isascii() and previous.text[-1:].isalpha() and line.text[:1].isalpha():
            out.append(" ")
        out.append(line.text)
    return "".join(out)


def _wraps_into(previous: Line, line: Line, left_edge: float, right_edge: float, *, new_page: bool) -> bool:
    if previous.ocr or line.ocr:
        return False
    size = max(previous.size, 1.0)
    return (
        previous.right >= right_edge - _FULL_LINE_SLACK * size
        and line.left <= left_edge + _INDENT * size
        and abs(line.size - previous.size) <= _SAME_SIZE * size
        and (new_page or 0 < line.y - previous.y <= _MAX_STEP * size)
    )


def _without_furniture(pages: Sequence[Sequence[Line]]) -> list[list[Line]]:
    """Each page's lines without the ones `without_page_furniture` drops (it keeps the
    others in order, so its output is matched back to the lines in one pass)."""
    cleaned = without_page_furniture(["\n".join(line.text for line in page) for page in pages])
    kept_pages = []
    for page, text in zip(pages, cleaned, strict=True):
        remaining = text.split("\n") if text else []
        kept: list[Line] = []
        for line in page:
            if remaining and line.text == remaining[0]:
                kept.append(line)
                remaining.pop(0)
        kept_pages.append(kept)
    return kept_pages
