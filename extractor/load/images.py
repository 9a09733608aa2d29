"""Page images (.jpg/.jpeg/.png/.tif/.tiff, multi-page TIFF included): scans and photos, OCRed."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from extractor.core.errors import LoadError
from extractor.load.common import Extracted, tidy_extracted_text
from extractor.load.ocr import boxes_to_lines, recognise_boxes
from extractor.load.pdf import without_page_furniture
from extractor.load.pdf_layout import OCR, Line, ocr_page_lines, rebuild_paragraphs

# A 600 dpi A4 scan is about 7000 px tall; anything past this is scaled down first, which
# keeps one page's pixels (and the OCR engine's working copies) to tens of megabytes.
_OCR_MAX_SIDE_PX = 3500
#: More pages than a report ever has: a TIFF claiming more is refused, not OCRed for hours.
MAX_PAGES = 300


def load_image(data: bytes, *, source: str) -> Extracted:
    """Read a page image, or every page of a multi-page TIFF, through OCR.

    Guarantees: page texts in page order, one paragraph a line (wrapped lines rejoined from
    the page geometry, `pdf_layout.rebuild_paragraphs`), page numbers and running
    headers/footers left out as for PDF; `ocr` is True with a warning to check the text.
    Raises LoadError for a file that is not a readable image, one over Pillow's
    decompression-bomb pixel limit, more than MAX_PAGES pages, or pages where OCR finds no text.
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its pixel limit and twice that; both mean a bomb here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_page_count(image, source)
            # One page at a time: a long TIFF never has all its pages decoded at once.
            page_lines = [_page_lines(page) for page in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise LoadError(f"not a readable image ({e})", source=source) from e
    except (OSError, SyntaxError) as e:  # Pillow's words for a truncated or damaged file
        raise LoadError(f"damaged image file ({e})", source=source) from e
    # Paragraphs rebuilt from where the lines end on the page, as for a PDF's text layer;
    # too few lines to read a margin from: one line each.
    laid_out = rebuild_paragraphs(page_lines, tolerances=OCR)
    page_texts = ["\n".join(line.text for line in lines) for lines in page_lines]
    text = tidy_extracted_text(laid_out or "\n".join(without_page_furniture(page_texts)))
    if not text.strip():
        raise LoadError("OCR found no text in this image", source=source)
    pages = len(page_lines)
    return Extracted(
        text=text,
        ocr=True,
        warnings=(
            f"text read by OCR from {pages} page image{'s' if pages > 1 else ''}: check it against the original",
        ),
    )


def _check_page_count(image: Image.Image, source: str) -> None:
    frames = getattr(image, "n_frames", 1)
    if frames > MAX_PAGES:
        raise LoadError(f"the image file has {frames} pages, over the {MAX_PAGES} page limit", source=source)


def _page_lines(page: Image.Image) -> list[Line]:
    # A phone photo is stored sideways with an EXIF note saying how to turn it.
    upright = ImageOps.exif_transpose(page).convert("RGB")
    if max(upright.size) > _OCR_MAX_SIDE_PX:
        upright.thumbnail((_OCR_MAX_SIDE_PX, _OCR_MAX_SIDE_PX))
    return ocr_page_lines(boxes_to_lines(recognise_boxes(upright)))
