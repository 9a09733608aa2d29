"""PDF files: the text layer via PDFium, and OCR for pages that are only scanned images."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw

from extractor.core.errors import LoadError
from extractor.load.common import Extracted, tidy_extracted_text
from extractor.load.ocr import PAGE_MAX_SIDE_PX, OcrBox
from extractor.load.ocr_run import ocr_pages
from extractor.load.pdf_furniture import without_page_furniture
from extractor.load.pdf_layout import (
    OCR,
    TEXT_LAYER,
    Line,
    ocr_page_lines,
    page_lines,
    rebuild_paragraphs,
)

if TYPE_CHECKING:
    from PIL import Image

# Scans are rendered at their own resolution, within these bounds: below 100 dpi report text
# is too small to read, and above 300 dpi adds pixels without adding legibility; capping the
# long side at the engine's own page limit avoids rendering pixels it would only shrink away.
# A page whose content is not an image (text drawn as paths) is rendered at 200 dpi.
_OCR_DPI = 200
_OCR_MIN_DPI = 100
_OCR_MAX_DPI = 300
NO_TEXT_REASON = "no text layer and OCR found no text"


def load_pdf(data: bytes, *, source: str) -> Extracted:
    """Read a PDF report.

    Guarantees: page texts in page order, one paragraph a line (`pdf_layout`); page numbers
    and running headers/footers left out. A page with no text layer but with drawn content
    (a scan) is rendered and OCRed (`extractor.load.ocr_run`: page and time limits, early stop
    on blank scans); then `ocr` is True and a warning names the pages. Raises LoadError for
    corrupt or password-protected files, for a PDF where neither the text layer nor OCR yields
    text, and for scans over the OCR page or time limit.
    """
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise LoadError("the PDF is password-protected", source=source) from e
        raise LoadError(f"not a readable PDF (corrupt or truncated): {e}", source=source) from e
    try:
        page_texts: list[str] = []
        scanned: list[int] = []  # page numbers (1-based) with no text layer but drawn content
        layouts: list[list[Line]] = []
        sizes: dict[int, tuple[float, float]] = {}  # page number: (points per pixel, height in points)
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                text = _text_layer(page)
                layouts.append(page_lines(page))
                if not text.strip() and _has_drawn_content(page):
                    scanned.append(index + 1)
            finally:
                page.close()
            page_texts.append(text)
        scan = ocr_pages(lambda number: _render_page_for_ocr(pdf, number, sizes), scanned, source=source)
    except pdfium.PdfiumError as e:
        raise LoadError(f"not a readable PDF (damaged page): {e}", source=source) from e
    finally:
        pdf.close()
    for number, page_text, ocr_lines in zip(scanned, scan.texts, scan.lines, strict=False):
        page_texts[number - 1] = page_text
        points_per_pixel, height = sizes[number]
        layouts[number - 1] = ocr_page_lines(ocr_lines, points_per_pixel=points_per_pixel, page_height=height)
    read_by_ocr = [
        number for number, page_text in zip(scanned, scan.texts, strict=False) if page_text.strip()
    ]

    # Paragraphs rebuilt from the lines' positions, OCRed pages' lines placed on the page
    # like the text layer's.
    laid_out = rebuild_paragraphs(layouts, tolerances=OCR if read_by_ocr else TEXT_LAYER)
    text = tidy_extracted_text(laid_out or "\n".join(without_page_furniture(page_texts)))
    if not text.strip():
        stopped = f" ({scan.warnings[0]})" if scan.warnings else ""
        raise LoadError(NO_TEXT_REASON + stopped, source=source)
    warnings: tuple[str, ...] = scan.warnings
    if read_by_ocr:
        warnings = (
            f"scanned pages without a text layer ({_page_list(read_by_ocr)} of {len(page_texts)}): "
            "text read by OCR, check it against the original",
            *warnings,
        )
    return Extracted(text=text, ocr=bool(read_by_ocr), warnings=warnings)


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


def _render_page_for_ocr(
    pdf: pdfium.PdfDocument, number: int, sizes: dict[int, tuple[float, float]]
) -> Image.Image:
    """Page `number` rendered for OCR; `sizes[number]` records the scale (points per pixel)
    and page height that place the OCR lines back on the page."""
    page = pdf[number - 1]
    try:
        image = _render_for_ocr(page)
        width_pt, height_pt = page.get_size()
        sizes[number] = (width_pt / max(image.width, 1), height_pt)
        return image
    finally:
        page.close()


def _render_for_ocr(page: pdfium.PdfPage) -> Image.Image:
    """The page as an RGB image at its scan's own resolution (no resampling of the scanned
    pixels), within `PAGE_MAX_SIDE_PX` on the long side; pages without an image (text
    drawn as paths) at `_OCR_DPI`."""
    width_pt, height_pt = page.get_size()
    scale = _scan_scale(page) or _OCR_DPI / 72
    scale = min(scale, _OCR_MAX_DPI / 72, PAGE_MAX_SIDE_PX / max(width_pt, height_pt, 1.0))
    bitmap = page.render(scale=max(scale, _OCR_MIN_DPI / 72))
    try:
        # to_pil() shares the bitmap's memory; convert() copies it before the bitmap is freed.
        return bitmap.to_pil().convert("RGB")
    finally:
        bitmap.close()


def _scan_scale(page: pdfium.PdfPage) -> float | None:
    """Pixels per point of the page's largest image (the scan), or None without images."""
    best: tuple[float, float] | None = None  # (area in points², pixels per point)
    for image in page.get_objects(filter=(pdfium_raw.FPDF_PAGEOBJ_IMAGE,)):
        left, bottom, right, top = image.get_bounds()
        width_px, _height_px = image.get_px_size()
        if right - left < 1 or top - bottom < 1 or width_px < 1:
            continue
        area = (right - left) * (top - bottom)
        if best is None or area > best[0]:
            best = (area, width_px / (right - left))
    return best[1] if best is not None else None


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


# -- page batches (the distributed queue OCRs a long scan's pages on several workers) --------


def scanned_page_numbers(data: bytes, *, source: str) -> list[int]:
    """The pages (1-based) `load_pdf` would OCR: no text layer, but drawn content."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise LoadError(f"not a readable PDF (corrupt or truncated): {e}", source=source) from e
    try:
        scanned = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                if not _text_layer(page).strip() and _has_drawn_content(page):
                    scanned.append(index + 1)
            finally:
                page.close()
        return scanned
    except pdfium.PdfiumError as e:
        raise LoadError(f"not a readable PDF (damaged page): {e}", source=source) from e
    finally:
        pdf.close()


def read_scanned_pages(data: bytes, pages: list[int], *, source: str) -> dict[int, list[OcrBox]]:
    """OCR lines of the scanned `pages`, rendered and read exactly as `load_pdf` reads them
    (the OCR session's limits apply to these pages): page number → lines. Loading the whole
    file inside `ocr_session(read_pages=...)` with every batch's result gives the text
    `load_pdf` gives on its own."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise LoadError(f"not a readable PDF (corrupt or truncated): {e}", source=source) from e
    try:
        sizes: dict[int, tuple[float, float]] = {}
        scan = ocr_pages(lambda number: _render_page_for_ocr(pdf, number, sizes), pages, source=source)
    except pdfium.PdfiumError as e:
        raise LoadError(f"not a readable PDF (damaged page): {e}", source=source) from e
    finally:
        pdf.close()
    return dict(zip(pages, scan.lines, strict=False))
