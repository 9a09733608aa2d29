"""Benchmark OCR of scanned reports: pages per second through `load_document`.

Renders pages of seed report text (eval/docs/*.txt) to 150 dpi page images with a CJK font,
saves them as an image-only PDF (a scanned report, no text layer), loads it with
`extractor.load.load_document` and prints throughput and how close the OCR text is to the
source text (rapidfuzz ratio on NFKC, whitespace-free text).

    python eval/bench_ocr.py [--pages 10] [--out DIR]

Needs a CJK font (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rapidfuzz import fuzz

REPO = Path(__file__).resolve().parent.parent
# The page renderer is shared with the tests so the bench measures the pages they check.
sys.path.insert(0, str(REPO / "tests"))

from fixtures_load import find_cjk_font, render_text_pages, write_image_pdf  # noqa: E402

from extractor.core.normalise import matching_key  # noqa: E402
from extractor.load import load_document  # noqa: E402
from extractor.load.ocr import ocr_engine  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10, help="pages to render and OCR (default 10)")
    parser.add_argument("--out", type=Path, help="keep the scanned PDF in this folder")
    args = parser.parse_args(argv)

    font = find_cjk_font()
    if font is None:
        print("no CJK font found: apt-get install fonts-noto-cjk", file=sys.stderr)
        return 2
    seed_text = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((REPO / "eval" / "docs").glob("*.txt"))
    )
    pages = render_text_pages(seed_text, font, max_pages=args.pages)
    if len(pages) < args.pages:
        print(f"seed text fills only {len(pages)} pages", file=sys.stderr)
    source_text = "\n".join(page.info["source_text"] for page in pages)

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        pdf_path = write_image_pdf(folder / "bench-scan.pdf", pages)

        started = time.perf_counter()
        ocr_engine()  # model loading is once per process; report it apart from per-page cost
        engine_seconds = time.perf_counter() - started
        doc = load_document(pdf_path)
        ocr_seconds = time.perf_counter() - started - engine_seconds

    similarity = fuzz.ratio(matching_key(doc.text), matching_key(source_text))
    print(f"pages:              {len(pages)} (150 dpi A4, {len(matching_key(source_text))} characters)")
    print(f"engine load:        {engine_seconds:.2f} s")
    print(f"load_document:      {ocr_seconds:.2f} s")
    print(f"total seconds:      {engine_seconds + ocr_seconds:.2f} s")
    print(f"pages per second:   {len(pages) / ocr_seconds:.3f} ({ocr_seconds / len(pages):.2f} s/page)")
    print(f"similarity:         {similarity:.1f} (rapidfuzz ratio, NFKC, no whitespace)")
    print(f"ocr flag, warnings: {doc.ocr}, {list(doc.warnings)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
