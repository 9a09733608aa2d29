"""A report laid out as an official document (GB/T 9704-ish), for the PDF geometry tests.

Unlike a text dump, the page is set the way a word processor sets a 公文: 28 character cells a
line at 16 pt, 22 lines a page, justified lines (so a line that holds half-width digits has
more than 28 characters, and a line never starts with a closing punctuation mark, which is
pulled back onto the line before), the first line of each paragraph indented by two cells
of white space (a position, not space characters), a centred title, a right-aligned
signature, a 版头 on page one, page numbers 「— N —」 at the outer corner (odd pages right,
even pages left), and a 版记 (抄送 / 印发 between rules) at the end of the last page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
SIZE = 16.0
CELLS_PER_LINE, LINES_PER_PAGE = 28, 22
LEFT = 79.0
TEXT_WIDTH = CELLS_PER_LINE * SIZE
TOP = A4[1] - 100.0
LEADING = 28.0
ISSUER_HEADER = "某某县人民政府办公室文件"
DOCUMENT_NUMBER = "某政办发〔2025〕3号"
COPIES_TO = "抄送：县委办公室，县人大常委会办公室，县政协办公室。"
PRINTED_BY = "某某县人民政府办公室"
PRINTED_ON = "2025年1月20日印发"
# A report whose text ends with its own 版记 gets no second one.
_IMPRINT_WRITTEN = re.compile(r"(?m)^(抄送|主送)[:：]|印发$")
# Word's line-breaking rule: these never open a line.
_NO_LINE_START = "，。、；：？！）》”’」』】"


@dataclass(frozen=True)
class _Line:
    text: str
    x: float
    justified: bool
    size: float = SIZE


def _width(text: str, size: float = SIZE) -> float:
    return pdfmetrics.stringWidth(text, FONT, size)


def _wrap(paragraph: str, *, indent: float) -> list[_Line]:
    """Break a paragraph into justified lines of the text width; the last line is ragged."""
    lines: list[_Line] = []
    start, x0 = 0, LEFT + indent
    while start < len(paragraph):
        room = TEXT_WIDTH - (x0 - LEFT)
        end = start
        while end < len(paragraph) and _width(paragraph[start : end + 1]) <= room + 0.01:
            end += 1
        while end < len(paragraph) and paragraph[end] in _NO_LINE_START:
            end += 1  # pulled back and squeezed in by the justification
        last = end >= len(paragraph)
        lines.append(_Line(paragraph[start:end], x0, justified=not last))
        start, x0 = end, LEFT
    return lines


def _is_title(index: int, paragraph: str, paragraphs: list[str]) -> bool:
    """The title lines: short lines before the first long one."""
    first_long = next((i for i, p in enumerate(paragraphs) if len(p) > 30), 0)
    return index < first_long and len(paragraph) <= 30


def _layout(text: str) -> list[_Line]:
    paragraphs = [p.strip() for p in text.splitlines() if p.strip()]
    lines: list[_Line] = []
    tail = len(paragraphs) - 2  # the signature: issuer and date, right-aligned
    for i, paragraph in enumerate(paragraphs):
        if _is_title(i, paragraph, paragraphs):
            size = 22.0
            lines.append(_Line(paragraph, LEFT + (TEXT_WIDTH - _width(paragraph, size)) / 2, False, size))
        elif i >= tail and len(paragraph) <= 24:
            lines.append(_Line(paragraph, LEFT + TEXT_WIDTH - 4 * SIZE - _width(paragraph), False))
        else:
            lines += _wrap(paragraph, indent=2 * SIZE)
    return lines


def _draw_line(pdf: canvas.Canvas, line: _Line, y: float) -> None:
    text = pdf.beginText(line.x, y)
    text.setFont(FONT, line.size)
    if line.justified and len(line.text) > 1:
        text.setCharSpace((LEFT + TEXT_WIDTH - line.x - _width(line.text)) / (len(line.text) - 1))
    text.textOut(line.text)
    pdf.drawText(text)


def _page_number(pdf: canvas.Canvas, page: int) -> None:
    label = f"— {page} —"
    size = 14.0
    x = LEFT + TEXT_WIDTH - SIZE - _width(label, size) if page % 2 else LEFT + SIZE
    pdf.setFont(FONT, size)
    pdf.drawString(x, 60, label)


def _front(pdf: canvas.Canvas) -> None:
    pdf.setFillColorRGB(0.8, 0, 0)
    pdf.setFont(FONT, 30)
    pdf.drawString(LEFT + (TEXT_WIDTH - _width(ISSUER_HEADER, 30)) / 2, A4[1] - 60, ISSUER_HEADER)
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont(FONT, SIZE)
    pdf.drawString(LEFT + (TEXT_WIDTH - _width(DOCUMENT_NUMBER)) / 2, A4[1] - 82, DOCUMENT_NUMBER)
    pdf.setStrokeColorRGB(0.8, 0, 0)
    pdf.line(LEFT, A4[1] - 88, LEFT + TEXT_WIDTH, A4[1] - 88)
    pdf.setStrokeColorRGB(0, 0, 0)


def _imprint(pdf: canvas.Canvas) -> None:
    """The 版记 at the foot of the last page: 抄送 and 印发 lines between rules."""
    bottom = 90.0
    pdf.line(LEFT, bottom + 60, LEFT + TEXT_WIDTH, bottom + 60)
    pdf.setFont(FONT, 14)
    pdf.drawString(LEFT + 14, bottom + 40, COPIES_TO)
    pdf.line(LEFT, bottom + 30, LEFT + TEXT_WIDTH, bottom + 30)
    pdf.drawString(LEFT + 14, bottom + 10, PRINTED_BY)
    pdf.drawString(LEFT + TEXT_WIDTH - 14 - _width(PRINTED_ON, 14), bottom + 10, PRINTED_ON)
    pdf.line(LEFT, bottom, LEFT + TEXT_WIDTH, bottom)


def official_document_pdf(text: str, path: Path) -> Path:
    """Write `text` (one paragraph a line) to `path` as a 公文-style PDF; returns `path`."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    lines = _layout(text)
    # Page one loses four lines to the 版头; the last page needs room for the 版记.
    first = LINES_PER_PAGE - 4
    pages = [lines[:first]] + [
        lines[i : i + LINES_PER_PAGE] for i in range(first, len(lines), LINES_PER_PAGE)
    ]
    if len(pages[-1]) > LINES_PER_PAGE - 6:
        pages.append([])
    for number, page in enumerate(pages, start=1):
        top = TOP - (4 * LEADING if number == 1 else 0)
        if number == 1:
            _front(pdf)
        for row, line in enumerate(page):
            _draw_line(pdf, line, top - row * LEADING)
        if number == len(pages) and not _IMPRINT_WRITTEN.search(text):
            _imprint(pdf)
        _page_number(pdf, number)
        pdf.showPage()
    pdf.save()
    return path
