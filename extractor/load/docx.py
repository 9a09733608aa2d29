"""Word .docx files: body paragraphs and table cells, in document order."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import docx
from docx.table import Table
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

    Guarantees: one line per body paragraph and one per table cell (a merged cell once,
    nested tables included), in the order they appear, each automatically numbered paragraph
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
    # A merged cell is returned once per grid position it spans; holding the XML elements
    # in the set keeps lxml's proxies alive, so identity comparison is reliable.
    seen: set[object] = set()
    for row in table.rows:
        for cell in row.cells:
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            yield from _block_lines(cell.iter_inner_content(), numbering)
