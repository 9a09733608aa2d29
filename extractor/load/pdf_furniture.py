"""Page furniture of a PDF: page numbers and running headers/footers, which are not report
text. Shared by the plain text-layer path (`without_page_furniture`, page texts) and the
layout path (`pdf_layout`, lines with positions)."""

from __future__ import annotations

import re

#: A page number on a line of its own: 「— 3 —」, 「- 3 -」, 「第 3 页」, 「3 / 12」, 「3」.
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[—–\-－]+\s*\d{1,4}\s*[—–\-－]+|第\s*\d{1,4}\s*页(?:\s*[/／共]\s*\d{1,4}\s*页?)?|\d{1,4}(?:\s*[/／]\s*\d{1,4})?)\s*$"
)
#: Lines looked at for running headers and footers at each end of a page.
_EDGE_LINES = 2
#: A line at a page's edge that recurs (digits aside) on at least this share of pages, with
#: at least three pages, is a running header or footer.
_RUNNING_SHARE = 0.6


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line))


def edge_key(line: str) -> str:
    """A line's text with every run of digits as one '#', so page-numbered lines compare equal."""
    return re.sub(r"\d+", "#", line.strip())


def running_keys(page_edges: list[list[str]]) -> set[str]:
    """The edge keys of the lines that recur at the edges of most pages (at least three)."""
    counts: dict[str, int] = {}
    for lines in page_edges:
        for key in {edge_key(line) for line in lines}:
            counts[key] = counts.get(key, 0) + 1
    if len(page_edges) < 3:
        return set()
    return {key for key, n in counts.items() if n >= _RUNNING_SHARE * len(page_edges)}


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the first and last `_EDGE_LINES` non-empty lines."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))


def without_page_furniture(page_texts: list[str]) -> list[str]:
    """Page texts without page numbers and running headers/footers at the pages' edges.

    They are page furniture, not report text: left in, they would sit inside any evidence
    passage that runs over a page break. Only the first and last `_EDGE_LINES` non-empty lines
    of a page are candidates, so a number inside the body is never touched.
    """
    pages = [text.splitlines() for text in page_texts]
    edges = [_edges(lines) for lines in pages]
    running = running_keys([[lines[i] for i in ends] for lines, ends in zip(pages, edges, strict=True)])
    cleaned = []
    for lines, ends in zip(pages, edges, strict=True):
        furniture = {i for i in ends if is_page_number(lines[i]) or edge_key(lines[i]) in running}
        cleaned.append("\n".join(line for i, line in enumerate(lines) if i not in furniture))
    return cleaned
