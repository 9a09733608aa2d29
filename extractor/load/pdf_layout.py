"""Paragraphs of a PDF's text layer rebuilt from where the lines sit on the page.

A PDF has no paragraphs, only lines drawn at positions. A word processor sets a paragraph as
lines that run to the right margin, the last one ending short of it, and most reports indent
a paragraph's first line; a running header, footer or page number sits at the page's edge
and recurs from page to page. Reading the lines' positions (PDFium's character boxes)
recovers all of that without guessing from the characters: the loader then hands the stages
one line per paragraph, wrapped lines joined (nothing inserted between CJK characters), with
page numbers and running headers/footers left out, so no evidence passage can hold one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractor.load.ocr import OcrBox
from extractor.load.pdf_furniture import edge_key, is_page_number, running_keys


@dataclass(frozen=True, slots=True)
class Tolerances:
    """How far lines of one paragraph may differ, in character cells (line heights)."""

    #: By how much a line may fall short of the right margin and still run to it.
    full_slack: float
    #: By how much two lines' heights may differ and still be one type size.
    size_slack: float


#: A text layer's boxes are the font's cells: justified text reaches the margin exactly,
#: ragged text comes within a cell, and every line of one size is exactly as tall.
TEXT_LAYER = Tolerances(full_slack=1.2, size_slack=0.1)
#: OCR boxes are fitted to the ink (and the detector's margin around it): a line ending on
#: 。 or ， stops over half a cell before its last cell does, and lines of one type size
#: measure up to a third of a cell apart, more now and then (a title a size or two larger,
#: 22pt over 16pt, still stands apart).
OCR = Tolerances(full_slack=1.6, size_slack=0.5)
#: A line starting this many cells right of the left margin is indented (公文 indent: 2 cells).
_INDENT_CELLS = 1.5
#: A gap between lines this many times the usual line pitch separates blocks.
_BLOCK_GAP = 1.6
#: A text block narrower than this many cells shows no margin to wrap at (a few short
#: lines, e.g. one title a page): its lines are kept as they are.
_MIN_COLUMN_CELLS = 15
#: Lines at each end of a page (by height on the page) looked at for page furniture.
_EDGE_LINES = 2
_ASCII_WORD = re.compile(r"[A-Za-z]")
# A paragraph's last line can run to the margin by chance. Two cues from the text say it
# did: it ends a sentence and the next line opens with an item number (（二） 二、 2. （2）);
# or it is a numbered heading (no sentence in it) and the next line opens an item or an
# enumeration (一是). A number inside a sentence (第（二）项) follows no sentence end.
_ITEM_NUMBER = r"(?:[（(](?:[一二三四五六七八九十]{1,3}|\d{1,2})[）)]|[一二三四五六七八九十]{1,3}、|\d{1,2}[.、．](?!\d))"
_OPENS_ITEM = re.compile(_ITEM_NUMBER)
_OPENS_ENUMERATION = re.compile(rf"{_ITEM_NUMBER}|[一二三四五六七八九十]{{1,3}}是")
_ENDS_SENTENCE = re.compile(r"[。！？；：!?;:]$")
_HOLDS_SENTENCE_END = re.compile(r"[。！？；!?;]")


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a page's text layer with its box in PDF points (y grows upwards)."""

    text: str
    left: float
    right: float
    bottom: float
    top: float

    @property
    def height(self) -> float:
        return self.top - self.bottom


def page_lines(page: pdfium.PdfPage) -> list[Line]:
    """The page's text lines as PDFium splits them, with their boxes; blank lines left out.

    Character boxes are the loose ones (the glyph's advance and the font's ascent/descent), so
    a line ending on 「，」 reaches as far right as its cell does."""
    textpage = page.get_textpage()
    try:
        lines: list[Line] = []
        chars: list[str] = []
        boxes: list[tuple[float, float, float, float]] = []
        for index in range(textpage.count_chars()):
            char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index))
            generated = pdfium_c.FPDFText_IsGenerated(textpage.raw, index) == 1
            if char in "\r\n":
                if char == "\n" or generated:
                    _close_line(lines, chars, boxes)
                continue
            chars.append(char)
            if not generated and not char.isspace():
                boxes.append(textpage.get_charbox(index, loose=True))
        _close_line(lines, chars, boxes)
        return lines
    finally:
        textpage.close()


def ocr_page_lines(
    lines: Sequence[OcrBox], *, points_per_pixel: float = 1.0, page_height: float = 0.0
) -> list[Line]:
    """OCR's visual lines of one page image (`extractor.load.ocr.boxes_to_lines`: pixels,
    y growing downwards) as layout lines in the page's units (y growing upwards), so a scanned
    page's paragraphs are rebuilt by the same rules as a text layer's."""
    return [
        Line(
            line.text.strip(),
            left=line.left * points_per_pixel,
            right=line.right * points_per_pixel,
            bottom=page_height - line.bottom * points_per_pixel,
            top=page_height - line.top * points_per_pixel,
        )
        for line in lines
        if line.text.strip()
    ]


def _close_line(lines: list[Line], chars: list[str], boxes: list[tuple[float, float, float, float]]) -> None:
    text = "".join(chars).strip()
    if text and boxes:
        lines.append(
            Line(
                text,
                left=min(b[0] for b in boxes),
                right=max(b[2] for b in boxes),
                bottom=median(b[1] for b in boxes),
                top=median(b[3] for b in boxes),
            )
        )
    chars.clear()
    boxes.clear()


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where the body text sits: its margins, character cell and line pitch."""

    left: float
    right: float
    cell: float
    pitch: float
    top: float  # where the body text starts on a page
    # Characters in a full line, when lines were broken by count (a text dump set in a
    # fixed-width grid): there a line of half-width digits is full but ends short.
    full_chars: int | None


def _mode(values: list[float]) -> float:
    return Counter(round(v) for v in values).most_common(1)[0][0]


def _frame(pages: list[list[Line]]) -> _Frame | None:
    lines = [line for page in pages for line in page]
    if len(lines) < 3:
        return None
    cell = median(line.height for line in lines)
    # The body's margins are where most lines start and end; the widest lines decide the
    # right one (the mode of their right edges, so a stray wide line does not move it).
    left = _mode([line.left for line in lines])
    widest = max(line.right for line in lines) - left
    wide = [line.right for line in lines if line.right - left >= 0.6 * widest]
    right = _mode(wide)
    if right - left < _MIN_COLUMN_CELLS * cell:
        return None
    gaps = [
        above.bottom - below.bottom
        for page in pages
        for above, below in pairwise(page)
        if 0 < above.bottom - below.bottom < 4 * cell
    ]
    pitch = median(gaps) if gaps else 1.5 * cell
    top = median(max(line.top for line in page) for page in pages if page)
    return _Frame(left, right, cell, pitch, top, _full_chars(lines))


def _full_chars(lines: list[Line]) -> int | None:
    """The character count most long lines share, if at least 40% of them have it."""
    lengths = [len(line.text) for line in lines if len(line.text) >= 12]
    if len(lengths) < 6:
        return None
    count, n = Counter(lengths).most_common(1)[0]
    return count if n >= 0.4 * len(lengths) else None


def without_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """The pages' lines without page numbers and running headers/footers: lines among the
    `_EDGE_LINES` highest or lowest on their page that read as a page number or recur (digits
    aside) on most pages. A number inside the body is never a candidate."""
    edges = [_edge_indexes(page) for page in pages]
    running = running_keys([[page[i].text for i in ends] for page, ends in zip(pages, edges, strict=True)])
    cleaned = []
    for page, ends in zip(pages, edges, strict=True):
        furniture = {i for i in ends if is_page_number(page[i].text) or edge_key(page[i].text) in running}
        cleaned.append([line for i, line in enumerate(page) if i not in furniture])
    return cleaned


def _edge_indexes(page: list[Line]) -> list[int]:
    by_height = sorted(range(len(page)), key=lambda i: -page[i].top)
    return sorted(set(by_height[:_EDGE_LINES] + by_height[-_EDGE_LINES:]))


def rebuild_paragraphs(pages: list[list[Line]], *, tolerances: Tolerances = TEXT_LAYER) -> str | None:
    """The text of the pages as paragraphs, one a line, furniture left out; None when the
    pages hold too few lines to read a layout from (the caller keeps the plain text layer).

    A line continues into the next when it runs to the right margin and the next is neither
    indented nor set apart by a wider gap or another size; a page's last line continues onto
    the next page's first the same way."""
    pages = without_furniture(pages)
    frame = _frame(pages)
    if frame is None:
        return None
    paragraphs: list[str] = []
    previous: Line | None = None
    for page in pages:
        for at, line in enumerate(page):
            same_page = at > 0
            if previous is not None and _continues(
                previous, line, frame, same_page=same_page, tolerances=tolerances
            ):
                paragraphs[-1] = _join(paragraphs[-1], line.text)
            else:
                paragraphs.append(line.text)
            previous = line
    return "\n\n".join(paragraphs)


def _continues(previous: Line, line: Line, frame: _Frame, *, same_page: bool, tolerances: Tolerances) -> bool:
    runs_to_margin = previous.right >= frame.right - tolerances.full_slack * frame.cell or (
        frame.full_chars is not None and _cells_used(previous, frame) >= frame.full_chars
    )
    starts_at_margin = line.left < frame.left + _INDENT_CELLS * frame.cell
    same_size = abs(line.height - previous.height) <= tolerances.size_slack * frame.cell
    opens_item = _opens_item(previous.text, line.text)
    if same_page:
        close_below = 0 < previous.bottom - line.bottom <= _BLOCK_GAP * frame.pitch
    else:  # over a page break, the text goes on where the body starts (not a 版记 at the foot)
        close_below = line.top >= frame.top - _BLOCK_GAP * frame.pitch
    return (
        runs_to_margin
        and starts_at_margin
        and same_size
        and close_below
        and not opens_item
        and previous.left < frame.right
    )


def _opens_item(previous: str, line: str) -> bool:
    if _ENDS_SENTENCE.search(previous) and _OPENS_ITEM.match(line):
        return True
    heading = _OPENS_ITEM.match(previous) is not None and not _HOLDS_SENTENCE_END.search(previous)
    return heading and _OPENS_ENUMERATION.match(line) is not None


def _cells_used(line: Line, frame: _Frame) -> int:
    """The line's characters plus the cells its indent takes."""
    return len(line.text) + max(0, round((line.left - frame.left) / frame.cell))


def _join(text: str, continuation: str) -> str:
    # A line break inside Latin words was a space; between CJK characters (and inside a
    # number broken over two lines) there was nothing.
    if _ASCII_WORD.match(text[-1]) and _ASCII_WORD.match(continuation[0]):
        return f"{text} {continuation}"
    return text + continuation
