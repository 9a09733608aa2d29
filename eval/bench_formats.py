"""Each report format against its .txt twin: macro F1 of the rules backend on the five
bundled reports, every format made from the same seed text (tests/fixtures_formats.py).

Columns: .txt (the reference), .doc/.odt/.wps (auto-numbered Word text converted by
LibreOffice), .rtf (typed markers; see fixtures_formats), .ofd (typeset A4 pages, page
numbers at the foot), .zip (the report as a .docx inside a GBK-named folder of an archive),
and, with --ocr, .tif (the report rendered to 150 dpi page images, one multi-page TIFF, read
by OCR; slow: several seconds a page). Each cell is macro F1 and its difference from .txt;
the last lines give each format's largest loss and whether it is within the 0.01 bar.

    python eval/bench_formats.py [--ocr] [--formats txt ofd ...] [--docs heping-2024 ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fixtures_formats import (  # noqa: E402
    DOCS,
    SEED_IDS,
    macro_f1,
    office_twins,
    seed_text,
    soffice,
    write_gbk_zip,
    write_text_ofd,
    write_tiff,
)
from fixtures_load import find_cjk_font, render_text_pages, seed_paragraphs, write_docx  # noqa: E402

BAR = 0.01


OFFICE = ("doc", "odt", "rtf", "wps")
FORMATS = ("txt", *OFFICE, "ofd", "zip", "tif")


def build(folder: Path, doc_ids: list[str], formats: set[str]) -> dict[str, dict[str, Path]]:
    """{format: {doc_id: file}} for the formats asked for (.txt always)."""
    files: dict[str, dict[str, Path]] = {"txt": {i: DOCS / f"{i}.txt" for i in doc_ids}}
    office = [fmt for fmt in OFFICE if fmt in formats]
    if office and soffice() is not None:
        files.update(office_twins(doc_ids, folder / "office", office))
    elif office:
        print("LibreOffice not installed: .doc/.odt/.rtf/.wps left out", file=sys.stderr)
    if "ofd" in formats:
        (folder / "ofd").mkdir()
        files["ofd"] = {i: write_text_ofd(folder / "ofd" / f"{i}.ofd", seed_text(i)) for i in doc_ids}
    if "zip" in formats:
        zipped = {}
        for doc_id in doc_ids:
            word = write_docx(folder / f"{doc_id}.docx", seed_paragraphs(seed_text(doc_id)))
            archive = write_gbk_zip(folder / f"{doc_id}.zip", {f"县区报告/{doc_id}.docx": word.read_bytes()})
            zipped[doc_id] = archive / "县区报告" / f"{doc_id}.docx"
        files["zip"] = zipped
    if "tif" in formats:
        font = find_cjk_font()
        if font is None:
            print("no CJK font (apt-get install fonts-noto-cjk): .tif left out", file=sys.stderr)
        else:
            (folder / "tif").mkdir()
            files["tif"] = {
                i: write_tiff(folder / "tif" / f"{i}.tif", render_text_pages(seed_text(i), font))
                for i in doc_ids
            }
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ocr", action="store_true", help="also score page images read by OCR (slow)")
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=FORMATS,
        help="only these formats (default: all but tif; --ocr adds it)",
    )
    parser.add_argument("--docs", nargs="+", default=SEED_IDS, help="report ids (default: all five)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        wanted = set(args.formats or [fmt for fmt in FORMATS if fmt != "tif"]) | (
            {"tif"} if args.ocr else set()
        )
        files = build(Path(tmp), list(args.docs), wanted)
        formats = list(files)
        scores: dict[tuple[str, str], float] = {}
        seconds: dict[str, float] = dict.fromkeys(formats, 0.0)
        for fmt in formats:
            for doc_id, path in files[fmt].items():
                begun = time.perf_counter()
                scores[(fmt, doc_id)] = macro_f1(path, doc_id)
                seconds[fmt] += time.perf_counter() - begun
        total = time.perf_counter() - started

    print(f"{'report':16}" + "".join(f"{'.' + fmt:>17}" for fmt in formats))
    for doc_id in args.docs:
        plain = scores[("txt", doc_id)]
        cells = [f"{scores[(fmt, doc_id)]:.4f} ({scores[(fmt, doc_id)] - plain:+.4f})" for fmt in formats]
        print(f"{doc_id:16}" + "".join(f"{cell:>17}" for cell in cells))
    print(f"{'load+extract s':16}" + "".join(f"{seconds[fmt]:>17.1f}" for fmt in formats))
    worst = {fmt: max(scores[("txt", d)] - scores[(fmt, d)] for d in args.docs) for fmt in formats}
    print(f"{'largest loss':16}" + "".join(f"{worst[fmt]:>17.4f}" for fmt in formats))
    within = [fmt for fmt in formats if worst[fmt] <= BAR]
    print(f"within {BAR} macro F1 of .txt: {', '.join(within)}")
    missing = [fmt for fmt in formats if fmt not in within]
    if missing:
        print(f"NOT within the bar: {', '.join(missing)}")
    print(f"total {total:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
