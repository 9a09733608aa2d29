"""Word .docx files: body paragraphs and table cells, in document order."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import docx
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from extractor.core.document import HeadingHint, LayoutHints
from extractor.core.errors import LoadError
from extractor.load.common import (
    DEFAULT_MAX_UNPACKED_BYTES,
    UNPACKED_LIMIT_ENV,
    Extracted,
    describe_over_limit,
    map_span,
    resolve_limit,
    tidy_extracted_text,
    tidy_extracted_text_with_origin,
)
from extractor.load.docx_styles import HeadingLevels
from extractor.load.numbering import ListNumbering

#: A line of the text, with its heading level if the file styles it as a heading.
_Line = tuple[str, int | None]


def load_docx(data: bytes, *, source: str) -> Extracted:
    """Read a .docx report.

    Guarantees: one line per body paragraph, one per row of a table of figures
    (「| 行政复议案件 | 35件 |」, a merged cell once) and one per paragraph of a layout table's
    cells (nested tables included), in the order they appear, each automatically numbered paragraph
    with the label Word shows (一、/（二）/1.: `numbering.py`); the paragraphs Word shows as headings
    (heading styles, outline levels: `docx_styles.py`) as `layout_hints`, spans of the text;
    raises LoadError for a corrupt file, something that is not a Word 2007+ document, or a
    document without text.
    """
    _check_unpacked_size(data, source=source)
    try:
        document = docx.Document(io.BytesIO(data))
    # python-docx surfaces corruption as whatever its zip / XML / packaging layer raised
    # (BadZipFile, KeyError, ValueError, lxml errors...): all mean "cannot read this file".
    except Exception as e:
        raise LoadError(
            "cannot open as a Word .docx file (corrupt, or not a Word 2007+ document)", source=source
        ) from e
    reader = _Reader(ListNumbering.of(document), HeadingLevels())
    lines = list(reader.block_lines(document.iter_inner_content()))
    raw = "\n".join(line for line, _ in lines)
    text = tidy_extracted_text(raw)
    if not text.strip():
        raise LoadError("the Word document contains no text", source=source)
    return Extracted(text=text, layout_hints=_heading_hints(lines, raw))


def _heading_hints(lines: list[_Line], raw: str) -> LayoutHints | None:
    """The heading lines as spans of the tidied text (None when the file styles none)."""
    if all(level is None for _, level in lines):
        return None
    tidied, origin = tidy_extracted_text_with_origin(raw)
    headings: list[HeadingHint] = []
    start = 0
    for line, level in lines:
        end = start + len(line)
        if level is not None:
            a, b = map_span(origin, start, end)
            while a < b and tidied[a].isspace():
                a += 1
            while b > a and tidied[b - 1].isspace():
                b -= 1
            if a < b:
                headings.append(HeadingHint(start=a, end=b, level=level))
        start = end + 1
    return LayoutHints(headings=tuple(headings)) if headings else None


def _check_unpacked_size(data: bytes, *, source: str) -> None:
    """Refuse, from the zip's directory alone, a .docx whose parts unpack beyond the limit.

    The sizes the directory declares bound what is inflated: zipfile stops reading a part at
    its declared size (and fails its CRC check if the data goes on), so a lying header
    cannot make the parser inflate more.
    """
    limit = resolve_limit(None, UNPACKED_LIMIT_ENV, DEFAULT_MAX_UNPACKED_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise LoadError(
            "cannot open as a Word .docx file (corrupt, or not a Word 2007+ document)", source=source
        ) from e
    if unpacked > limit:
        raise LoadError(
            f"the .docx unpacks to {describe_over_limit(unpacked, limit)} (raise it with {UNPACKED_LIMIT_ENV})",
            source=source,
        )


class _Reader:
    """The document's lines in order, each paragraph with its list label and heading level."""

    def __init__(self, numbering: ListNumbering, levels: HeadingLevels) -> None:
        self.numbering = numbering
        self.levels = levels

    def block_lines(self, blocks: Iterator[Paragraph | Table]) -> Iterator[_Line]:
        for block in blocks:
            if isinstance(block, Paragraph):
                yield self.numbering.label(block) + block.text, self.levels.level(block)
            else:
                yield from self.table_lines(block)

    def table_lines(self, table: Table) -> Iterator[_Line]:
        if _is_data_table(table):
            yield from ((_row_line(cells), None) for cells in _rows(table))
            return
        # A layout table (the body set in a cell): its paragraphs, each cell once.
        seen: set[object] = set()
        for cells in _rows(table):
            for cell in cells:
                if cell._tc not in seen:
                    seen.add(cell._tc)
                    yield from self.block_lines(cell.iter_inner_content())


def _rows(table: Table) -> Iterator[list[_Cell]]:
    """Each row's cells, a cell merged across columns once. (python-docx returns a merged cell
    once per grid position; holding the XML elements keeps lxml's proxies alive, so identity
    comparison is reliable.)"""
    for row in table.rows:
        cells: list[_Cell] = []
        for cell in row.cells:
            if all(cell._tc is not kept._tc for kept in cells):
                cells.append(cell)
        yield cells


#: A cell of a data table holds a figure or a short label, never the report's paragraphs.
_DATA_CELL_CHARS = 40


def _is_data_table(table: Table) -> bool:
    """A table of figures (several short cells a row), not a layout table holding the text."""
    rows = list(_rows(table))
    if not rows or max(len(cells) for cells in rows) < 2:
        return False
    return all(
        not cell.tables
        and sum(1 for p in cell.paragraphs if p.text.strip()) <= 1
        and len(cell.text.strip()) <= _DATA_CELL_CHARS
        for cells in rows
        for cell in cells
    )


def _row_line(cells: list[_Cell]) -> str:
    """A row as one text line, 「| 行政复议案件 | 35件 |」: the form a table copied into text takes,
    so a row's label and figure stay together."""
    return "| " + " | ".join(" ".join(cell.text.split()) for cell in cells) + " |"
