"""OFD files (GB/T 33190, China's fixed-layout format for e-government documents).

The text layer is read with ofdkit (pure Python, maintained, safety limits on the package),
which gives every text run with its position on the page. Runs become lines by baseline;
page numbers and running headers/footers are left out as for PDF; then the page geometry
undoes the typesetting's line wraps (`reflow`), so a paragraph is one line as in the .txt
and .docx paths. A page with no text but with images (a scan packaged as OFD) has its
images OCRed, top to bottom; an OFD of scans only has its paragraphs rebuilt from where the
OCR lines sit on the page, as a scanned PDF's are (`pdf_layout.rebuild_paragraphs`).
"""

from __future__ import annotations

import io
import posixpath
import xml.etree.ElementTree as ET

import ofdkit
from ofdkit.package import Package
from PIL import Image, UnidentifiedImageError

from extractor.core.errors import LoadError
from extractor.load.common import Extracted, tidy_extracted_text
from extractor.load.ocr import recognise_lines
from extractor.load.ofd_layout import Line, page_lines, reflow
from extractor.load.pdf_layout import OCR, rebuild_paragraphs
from extractor.load.pdf_layout import Line as LayoutLine

NO_TEXT_REASON = "no text layer and OCR found no text"


def load_ofd(data: bytes, *, source: str) -> Extracted:
    """Read an OFD report.

    Guarantees: page texts in page order, each in reading order by position, one paragraph
    a line; an image-only page is OCRed (`ocr` True, a warning names the pages). Raises LoadError
    for a file that is not a readable OFD package, or one where neither the text layer nor
    OCR yields text.
    """
    try:
        with ofdkit.open(data) as document, Package(data) as package:
            media = _media_files(package)
            pages: list[list[Line]] = []
            scans: list[list[LayoutLine]] = []
            ocr_pages: list[int] = []
            for page in document.pages:
                lines = page_lines(page.runs)
                if not lines and page.location is not None:
                    scanned = _ocr_page_images(package, page.location, media)
                    if scanned:
                        ocr_pages.append(page.index + 1)
                        lines = [Line(line.text, ocr=True) for line in scanned]
                        scans.append(scanned)
                pages.append(lines)
    except ofdkit.OFDError as e:
        raise LoadError(f"not a readable OFD file ({e})", source=source) from e
    # Scans only: their lines' geometry rebuilds the paragraphs; with a text layer beside
    # them, the OCR lines stay one a line among the text layer's paragraphs.
    only_scans = len(scans) == sum(1 for lines in pages if lines)
    laid_out = rebuild_paragraphs(scans, tolerances=OCR) if scans and only_scans else None
    text = tidy_extracted_text(laid_out or reflow(pages))
    if not text.strip():
        raise LoadError(NO_TEXT_REASON, source=source)
    warnings: tuple[str, ...] = ()
    if ocr_pages:
        shown = ", ".join(str(n) for n in ocr_pages)
        warnings = (
            f"scanned pages without a text layer (page {shown} of {len(pages)}): "
            "text read by OCR, check it against the original",
        )
    return Extracted(text=text, ocr=bool(ocr_pages), warnings=warnings)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _media_files(package: Package) -> dict[str, str]:
    """MultiMedia resource ID -> package entry of its file, from every resource file (Res)."""
    media: dict[str, str] = {}
    for name in package.names:
        if not name.lower().endswith(".xml"):
            continue
        try:
            root = package.read_xml(name)
        except ofdkit.OFDError:
            continue
        if _local(root.tag) != "Res":
            continue
        # MediaFile locations are relative to the Res file's BaseLoc folder.
        base = posixpath.join(posixpath.dirname(name), root.get("BaseLoc") or "", "_")
        for element in root.iter():
            if _local(element.tag) != "MultiMedia":
                continue
            resource_id = (element.get("ID") or "").strip()
            location = next((c.text for c in element if _local(c.tag) == "MediaFile"), None)
            entry = package.resolve(base, location) or package.resolve(name, location)
            if resource_id and entry is not None:
                media.setdefault(resource_id, entry)
    return media


def _ocr_page_images(package: Package, page_location: str, media: dict[str, str]) -> list[LayoutLine]:
    """OCR lines of the page's images, top to bottom, each placed on the page (millimetres
    from the left, y growing upwards as `pdf_layout` reads lines) by its image's Boundary."""
    root = package.read_xml(page_location)
    placed: list[tuple[tuple[float, float, float, float], str]] = []
    for element in root.iter():
        if _local(element.tag) != "ImageObject":
            continue
        entry = media.get((element.get("ResourceID") or "").strip())
        if entry is not None:
            placed.append((_boundary(element), entry))
    lines: list[LayoutLine] = []
    for (x, y, width, _height), entry in sorted(placed, key=lambda item: (item[0][1], item[0][0])):
        try:
            image = Image.open(io.BytesIO(package.read(entry)))
            image.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            continue  # a picture format Pillow cannot read (e.g. JBIG2) holds no readable text here
        # One scale for both axes, the image's own proportions: line heights (the character
        # cell) stay in step with line widths even when the image is stretched to its box.
        scale = width / max(image.width, 1)
        lines.extend(
            LayoutLine(
                line.text.strip(),
                left=x + line.left * scale,
                right=x + line.right * scale,
                bottom=-(y + line.bottom * scale),
                top=-(y + line.top * scale),
            )
            for line in recognise_lines(image)
            if line.text.strip()
        )
    return lines


def _boundary(element: ET.Element) -> tuple[float, float, float, float]:
    """The object's Boundary (x, y, width, height in millimetres); zeros where unreadable."""
    try:
        parts = [float(part) for part in (element.get("Boundary") or "").split()]
    except ValueError:
        parts = []
    x, y, width, height = (*parts, 0.0, 0.0, 0.0, 0.0)[:4]
    return x, y, width, height
