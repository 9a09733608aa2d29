"""Builders for the office, OFD, image and archive formats, all made from seed text.

Shared by tests/test_load_formats.py and eval/bench_formats.py, so the bench measures the
files the tests check.

- .doc/.odt/.rtf/.wps: the report as an auto-numbered .docx (test_docx_numbering), converted
  by LibreOffice (a private profile, like the loader). LibreOffice's RTF export writes a
  list level text it cannot encode in the document's ANSI code page as "?" (「%1、」 becomes
  「%1?」, measured with LibreOffice 7.4), so the .rtf twin types its markers into the text.
- .ofd: written here (no PyPI package writes OFD without PyMuPDF): GB/T 33190's minimal
  package (OFD.xml, Document.xml, resources, one Content.xml per page), text as TextObjects
  placed line by line on A4 pages with a page number at the foot, or one scanned image per
  page as an ImageObject.
- page images: `fixtures_load.render_text_pages`, saved as PNG/JPEG or one multi-page TIFF.
- .zip: member names stored as GBK without the UTF-8 flag, as Chinese Windows tools do.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import unicodedata
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import docx
from fixtures_load import _wrap, seed_paragraphs
from PIL import Image
from test_docx_numbering import auto_numbered_docx

from extractor.core.normalise import matching_key
from extractor.core.schema import Record
from extractor.evaluation.scoring import score_document
from extractor.load import load_document
from extractor.pipeline.run import extract_document

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "eval" / "docs"
GOLD = REPO / "eval" / "gold"
SEED_IDS = sorted(p.stem for p in DOCS.glob("*.txt"))


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(sources: Sequence[Path], target: str, out_dir: Path) -> list[Path]:
    """`sources` converted to `target` ("doc", "odt", "rtf") by one LibreOffice run."""
    program = soffice()
    if program is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                program,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                target,
                "--outdir",
                str(out_dir),
                *map(str, sources),
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    made = [out_dir / f"{source.stem}.{target}" for source in sources]
    missing = [p for p in made if not p.is_file()]
    if missing:
        raise RuntimeError(f"LibreOffice made no {missing}")
    return made


def office_twins(doc_ids: Sequence[str], folder: Path, targets: Sequence[str]) -> dict[str, dict[str, Path]]:
    """{target: {doc_id: file}}: each seed report as .doc/.odt (auto-numbered) and .rtf
    (typed markers), plus .wps (a Word binary under the WPS suffix, as WPS Office saves it)."""
    (folder / "numbered").mkdir(parents=True, exist_ok=True)
    numbered = [auto_numbered_docx(seed_text(i), folder / "numbered" / f"{i}.docx") for i in doc_ids]
    typed = folder / "typed"
    typed.mkdir(parents=True, exist_ok=True)
    plain = []
    for doc_id in doc_ids:
        document = docx.Document()
        for paragraph in seed_paragraphs(seed_text(doc_id)):
            document.add_paragraph(paragraph)
        document.save(str(typed / f"{doc_id}.docx"))
        plain.append(typed / f"{doc_id}.docx")
    out: dict[str, dict[str, Path]] = {}
    for target in targets:
        if target == "wps":
            docs = out.get("doc") or dict(
                zip(doc_ids, convert_with_libreoffice(numbered, "doc", folder / "doc"), strict=True)
            )
            wps_dir = folder / "wps"
            wps_dir.mkdir(exist_ok=True)
            out["wps"] = {i: Path(shutil.copy(p, wps_dir / f"{i}.wps")) for i, p in docs.items()}
            continue
        sources = plain if target == "rtf" else numbered
        made = convert_with_libreoffice(sources, target, folder / target)
        out[target] = dict(zip(doc_ids, made, strict=True))
    return out


def seed_text(doc_id: str) -> str:
    return (DOCS / f"{doc_id}.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# OFD

_NS = "http://www.ofdspec.org/2016"
_PAGE_W, _PAGE_H, _MARGIN = 210.0, 297.0, 25.0
_FONT_MM, _LEADING_MM = 4.2, 7.0


def _char_mm(char: str) -> float:
    return _FONT_MM if unicodedata.east_asian_width(char) in ("W", "F") else _FONT_MM / 2


def _xml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'


def _ofd_package(path: Path, pages: list[str], *, media: dict[str, bytes] | None = None) -> Path:
    """Write an OFD: `pages` are the Content.xml bodies (inside <ofd:Content>), `media` the
    image files of DocumentRes (name -> bytes, IDs 100, 101, ... in order)."""
    media = media or {}
    page_refs = "".join(
        f'<ofd:Page ID="{10 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages))
    )
    multimedia = "".join(
        f'<ofd:MultiMedia ID="{100 + i}" Type="Image"><ofd:MediaFile>{escape(name)}</ofd:MediaFile></ofd:MultiMedia>'
        for i, name in enumerate(media)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "OFD.xml",
            _xml(
                f'<ofd:OFD xmlns:ofd="{_NS}" Version="1.0" DocType="OFD"><ofd:DocBody>'
                f"<ofd:DocInfo><ofd:DocID>{path.stem.encode().hex()[:32]}</ofd:DocID></ofd:DocInfo>"
                "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
            ),
        )
        package.writestr(
            "Doc_0/Document.xml",
            _xml(
                f'<ofd:Document xmlns:ofd="{_NS}"><ofd:CommonData><ofd:MaxUnitID>999</ofd:MaxUnitID>'
                f"<ofd:PageArea><ofd:PhysicalBox>0 0 {_PAGE_W:g} {_PAGE_H:g}</ofd:PhysicalBox></ofd:PageArea>"
                "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>"
                f"</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"
            ),
        )
        package.writestr(
            "Doc_0/PublicRes.xml",
            _xml(
                f'<ofd:Res xmlns:ofd="{_NS}" BaseLoc="Res"><ofd:Fonts>'
                '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'
            ),
        )
        package.writestr(
            "Doc_0/DocumentRes.xml",
            _xml(
                f'<ofd:Res xmlns:ofd="{_NS}" BaseLoc="Res"><ofd:MultiMedias>{multimedia}</ofd:MultiMedias></ofd:Res>'
            ),
        )
        for name, data in media.items():
            package.writestr(f"Doc_0/Res/{name}", data)
        for i, content in enumerate(pages):
            package.writestr(
                f"Doc_0/Pages/Page_{i}/Content.xml",
                _xml(
                    f'<ofd:Page xmlns:ofd="{_NS}"><ofd:Content><ofd:Layer ID="{500 + i}">{content}'
                    "</ofd:Layer></ofd:Content></ofd:Page>"
                ),
            )
    return path


def _text_object(object_id: int, x: float, y: float, text: str) -> str:
    width = sum(_char_mm(c) for c in text)
    deltas = " ".join(f"{_char_mm(c):g}" for c in text[:-1])
    return (
        f'<ofd:TextObject ID="{object_id}" Boundary="{x:g} {y:g} {width:g} {_LEADING_MM:g}" '
        f'Font="2" Size="{_FONT_MM:g}"><ofd:FillColor Value="0 0 0"/>'
        f'<ofd:TextCode X="0" Y="{_FONT_MM:g}" DeltaX={quoteattr(deltas)}>{escape(text)}</ofd:TextCode>'
        "</ofd:TextObject>"
    )


def write_text_ofd(path: Path, text: str) -> Path:
    """The report typeset on A4 OFD pages: each paragraph's first line indented two
    characters (by position, as typesetting does), wrapped at the text width (CJK breaks
    anywhere), and a 「— n —」 page number centred at each foot."""
    width = _PAGE_W - 2 * _MARGIN
    indent = 2 * _FONT_MM
    lines: list[tuple[float, str]] = []
    for paragraph in seed_paragraphs(text):
        first, *_ = _wrap(paragraph, lambda s: sum(map(_char_mm, s)), width - indent)
        lines.append((_MARGIN + indent, first))
        rest = paragraph[len(first) :]
        lines.extend((_MARGIN, line) for line in _wrap(rest, lambda s: sum(map(_char_mm, s)), width))
    per_page = int((_PAGE_H - 2 * _MARGIN) // _LEADING_MM)
    pages = []
    object_id = 1000
    for number, start in enumerate(range(0, len(lines), per_page), start=1):
        objects = []
        for row, (x, line) in enumerate(lines[start : start + per_page]):
            object_id += 1
            objects.append(_text_object(object_id, x, _MARGIN + row * _LEADING_MM, line))
        folio = f"— {number} —"
        object_id += 1
        folio_x = (_PAGE_W - sum(map(_char_mm, folio))) / 2
        objects.append(_text_object(object_id, folio_x, _PAGE_H - _MARGIN / 2, folio))
        pages.append("".join(objects))
    return _ofd_package(path, pages)


def write_image_ofd(path: Path, pages: Sequence[Image.Image]) -> Path:
    """A scanned report packaged as OFD: one full-page PNG image per page, no text layer."""
    media: dict[str, bytes] = {}
    contents = []
    for i, page in enumerate(pages):
        buffer = io.BytesIO()
        page.save(buffer, "PNG")
        media[f"page_{i}.png"] = buffer.getvalue()
        contents.append(
            f'<ofd:ImageObject ID="{2000 + i}" Boundary="0 0 {_PAGE_W:g} {_PAGE_H:g}" '
            f'CTM="{_PAGE_W:g} 0 0 {_PAGE_H:g} 0 0" ResourceID="{100 + i}"/>'
        )
    return _ofd_package(path, contents, media=media)


# ---------------------------------------------------------------------------------------------
# Images and archives


def top_of_page(page: Image.Image, lines: int = 8) -> Image.Image:
    """The top `lines` text lines of a page from `render_text_pages` (margin 100 px, 48 px a
    line at its default size), with their text in info["source_text"]: OCR tests that need
    a few lines, not a page, run several times faster."""
    cropped = page.crop((0, 0, page.width, 100 + lines * 48 + 20))
    cropped.info["source_text"] = "\n".join(page.info["source_text"].splitlines()[:lines])
    return cropped


def write_tiff(path: Path, pages: Sequence[Image.Image]) -> Path:
    first, *rest = pages
    first.save(str(path), "TIFF", save_all=True, append_images=rest, compression="tiff_deflate")
    return path


class _LegacyNameInfo(zipfile.ZipInfo):
    """A member whose name is stored in GBK bytes with the UTF-8 flag unset."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's hook for the stored name
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def write_gbk_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A zip whose member names ("报告/和平.docx") are GBK bytes without the UTF-8 flag."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = _LegacyNameInfo(name, date_time=(2025, 1, 20, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


# ---------------------------------------------------------------------------------------------
# Scoring a format against its .txt twin


def read_gold(doc_id: str) -> Record:
    return Record.model_validate_json((GOLD / f"{doc_id}.json").read_text(encoding="utf-8"))


def macro_f1(path: Path, doc_id: str) -> float:
    """Macro F1 (three lists and metrics) of the rules backend on the report in `path`,
    scored against the gold of `doc_id` on the text as loaded."""
    doc = load_document(path)
    score = score_document(extract_document(doc), read_gold(doc_id), doc.text)
    value = score.figures()["macro_f1"]
    assert value is not None
    return value


def same_characters(a: str, b: str) -> bool:
    """Whether two texts hold the same characters once NFKC-normalised and without whitespace."""
    return matching_key(a) == matching_key(b)
