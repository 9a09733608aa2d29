"""PDF files: the text layer via PDFium, and OCR for pages that are only scanned images."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pypdfium2 as pdfium

from extractor.core.errors import LoadError
from extractor.load.common import Extracted, tidy_extracted_text
from extractor.load.ocr import recognise_image
from extractor.load.pdf_furniture import without_page_furniture
from extractor.load.pdf_layout import Line, page_lines, rebuild_paragraphs

if TYPE_CHECKING:
    from PIL import Image

# 200 dpi is the usual scanning resolution; capping the long side at RapidOCR's own
# max_side_len (2000 px) avoids rendering pixels the detector would only shrink away.
_OCR_DPI = 200
_OCR_MAX_SIDE_PX = 2000
NO_TEXT_REASON = "no text layer and OCR found no text"


def load_pdf(data: bytes, *, source: str) -> Extracted:
    """Read a PDF report.

    Guarantees: page texts in page order, one paragraph a line (`pdf_layout`); page numbers
    and running headers/footers left out. A page with no text layer but
    with drawn content (a scan) is rendered and OCRed; then `ocr` is True and a warning
    names the pages. Raises LoadError for corrupt or password-protected files and for a PDF
    where neither the text layer nor OCR yields text.
    """
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise LoadError("the PDF is password-protected", source=source) from e
        raise LoadError(f"not a readable PDF (corrupt or truncated): {e}", source=source) from e
    try:
        page_texts: list[str] = []
        ocr_pages: list[int] = []
        layouts: list[list[Line]] = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                text = _text_layer(page)
                layouts.append(page_lines(page))
                if not text.strip() and _has_drawn_content(page):
                    text = recognise_image(_render_for_ocr(page))
                    if text.strip():
                        ocr_pages.append(index + 1)
            finally:
                page.close()
            page_texts.append(text)
    except pdfium.PdfiumError as e:
        raise LoadError(f"not a readable PDF (damaged page): {e}", source=source) from e
    finally:
        pdf.close()

    # Paragraphs rebuilt from the lines' positions; a PDF with OCRed pages has no positions
    # for those, so it keeps the text layer as PDFium joins it.
    laid_out = None if ocr_pages else rebuild_paragraphs(layouts)
    text = tidy_extracted_text(laid_out or "\n".join(without_page_furniture(page_texts)))
    if not text.strip():
        raise LoadError(NO_TEXT_REASON, source=source)
    warnings: tuple[str, ...] = ()
    if ocr_pages:
        warnings = (
            f"scanned pages without a text layer ({_page_list(ocr_pages)} of {len(page_texts)}): "
            "text read by OCR, check it against the original",
        )
    return Extracted(text=text, ocr=bool(ocr_pages), warnings=warnings)


def _text_layer(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range()
    finally:
        textpage.close()


def _has_drawn_content(page: pdfium.PdfPage) -> bool:
    # A truly blank page has no objects; anything else (an image, or text drawn as paths)
    # may hold words that only OCR can read.
    return next(iter(page.get_objects()), None) is not None


def _render_for_ocr(page: pdfium.PdfPage) -> Image.Image:
    width_pt, height_pt = page.get_size()
    scale = min(_OCR_DPI / 72, _OCR_MAX_SIDE_PX / max(width_pt, height_pt, 1.0))
    bitmap = page.render(scale=scale)
    try:
        # to_pil() shares the bitmap's memory; convert() copies it before the bitmap is freed.
        return bitmap.to_pil().convert("RGB")
    finally:
        bitmap.close()


def _page_list(pages: list[int]) -> str:
    """'pages 1-3, 7' style summary of sorted 1-based page numbers."""
    ranges: list[str] = []
    start = previous = pages[0]
    for number in [*pages[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        ranges.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ("page " if len(pages) == 1 else "pages ") + ", ".join(ranges)
