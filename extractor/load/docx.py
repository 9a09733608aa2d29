"""Word .docx files: body paragraphs and table cells, in document order."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import docx
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from extractor.core.errors import LoadError
from extractor.load.common import (
    DEFAULT_MAX_UNPACKED_BYTES,
    UNPACKED_LIMIT_ENV,
    Extracted,
    describe_over_limit,
    resolve_limit,
    tidy_extracted_text,
)
from extractor.load.numbering import ListNumbering


def load_docx(data: bytes, *, source: str) -> Extracted:
    """Read a .docx report.

    Guarantees: one line per body paragraph, one per row of a table of figures
    (「| 行政复议案件 | 35件 |」, a merged cell once) and one per paragraph of a layout table's
    cells (nested tables included), in the order they appear, each automatically numbered paragraph
    with the label Word shows (一、/（二）/1.: `numbering.py`); raises LoadError for a corrupt file,
    something that is not a Word 2007+ document, or a document without text.
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
    numbering = ListNumbering.of(document)
    text = tidy_extracted_text("\n".join(_block_lines(document.iter_inner_content(), numbering)))
    if not text.strip():
        raise LoadError("the Word document contains no text", source=source)
    return Extracted(text=text)


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


def _block_lines(blocks: Iterator[Paragraph | Table], numbering: ListNumbering) -> Iterator[str]:
    for block in blocks:
        if isinstance(block, Paragraph):
            yield numbering.label(block) + block.text
        else:
            yield from _table_lines(block, numbering)


def _table_lines(table: Table, numbering: ListNumbering) -> Iterator[str]:
    if _is_data_table(table):
        yield from (_row_line(cells) for cells in _rows(table))
        return
    # A layout table (the body set in a cell): its paragraphs, each cell once.
    seen: set[object] = set()
    for cells in _rows(table):
        for cell in cells:
            if cell._tc not in seen:
                seen.add(cell._tc)
                yield from _block_lines(cell.iter_inner_content(), numbering)


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
