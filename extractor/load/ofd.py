"""OFD files (GB/T 33190, China's fixed-layout format for e-government documents).

The text layer is read with ofdkit (pure Python, maintained, safety limits on the package),
which gives every text run with its position on the page. Runs become lines by baseline;
page numbers and running headers/footers are left out as for PDF; then the page geometry
undoes the typesetting's line wraps (`reflow`), so a paragraph is one line as in the .txt
and .docx paths. A page with no text but with images (a scan packaged as OFD) has its
images OCRed, top to bottom.
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
from extractor.load.ocr import recognise_image
from extractor.load.ofd_layout import Line, page_lines, reflow

NO_TEXT_REASON = "no text layer and OCR found no text"


def load_ofd(data: bytes, *, source: str) -> Extracted:
    """Read an OFD report.

    Guarantees: page texts in page order joined with \\n, each in reading order by position;
    an image-only page is OCRed (`ocr` True, a warning names the pages). Raises LoadError
    for a file that is not a readable OFD package, or one where neither the text layer nor
    OCR yields text.
    """
    try:
        with ofdkit.open(data) as document, Package(data) as package:
            media = _media_files(package)
            pages: list[list[Line]] = []
            ocr_pages: list[int] = []
            for page in document.pages:
                lines = page_lines(page.runs)
                if not lines and page.location is not None:
                    scanned = _ocr_page_images(package, page.location, media)
                    if scanned.strip():
                        ocr_pages.append(page.index + 1)
                        lines = [Line(text, ocr=True) for text in scanned.splitlines()]
                pages.append(lines)
    except ofdkit.OFDError as e:
        raise LoadError(f"not a readable OFD file ({e})", source=source) from e
    text = tidy_extracted_text(reflow(pages))
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


def _ocr_page_images(package: Package, page_location: str, media: dict[str, str]) -> str:
    """OCR text of the page's images, top to bottom then left to right."""
    root = package.read_xml(page_location)
    placed: list[tuple[float, float, str]] = []
    for element in root.iter():
        if _local(element.tag) != "ImageObject":
            continue
        entry = media.get((element.get("ResourceID") or "").strip())
        if entry is not None:
            x, y = _origin(element)
            placed.append((y, x, entry))
    texts = []
    for _, _, entry in sorted(placed):
        try:
            image = Image.open(io.BytesIO(package.read(entry)))
            image.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            continue  # a picture format Pillow cannot read (e.g. JBIG2) holds no readable text here
        texts.append(recognise_image(image))
    return "\n".join(text for text in texts if text.strip())


def _origin(element: ET.Element) -> tuple[float, float]:
    try:
        x, y, *_ = (float(part) for part in (element.get("Boundary") or "0 0").split())
    except ValueError:
        return 0.0, 0.0
    return x, y
