"""Benchmark OCR of scanned reports: pages per second (one worker, then N) and character accuracy.

Renders pages of seed report text (eval/docs/*.txt) as a clean 150-dpi office scan with a
CJK font, saves them as an image-only PDF (no text layer) and loads it with
`extractor.load.load_document`, as `extractor extract` does:

- one worker: the engine in this process (one inference thread, so one core);
- `--workers N` (default 2): pages OCRed in N worker processes, engines loaded at their start;
- character accuracy: 1 - edit distance / length, on NFKC, whitespace-free text;
- a number-dense page (synthetic report text full of counts, percentages, dates, amounts and
  runs of one digit): its character accuracy and its digit accuracy (the page's digits as one
  sequence, 1 - edit distance / count), so a speed-up that merges or drops digits shows;
- CPU seconds per page in each stage (detection, classifier, recognition, the rest), with text
  lines recognised at full width (before) and narrowed (`REC_TEXT_HEIGHT_AS_WIDTH_PX`, now), back to back
  (at today's 36 px input the cap hardly binds: expect ~1.0 give or take the machine's noise),
  and with the detector on the whole page at its cap (before) and on the printed area shrunk by
  the page's line spacing (`extractor.load.ocr_detect`, now), back to back, and with lines
  reaching the recogniser 48 px high, cut to 1.4 times their print (before), and
  `REC_INPUT_HEIGHT_PX` high, cut to `REC_LINE_HEIGHT_AS_INK` (now), back to back with the
  character accuracy of each;
- the blank-scan guard: a PDF of `--blank-pages` blank page images, time and peak memory
  until it is refused;
- before/after: the previous engine (rapidocr-onnxruntime 1.x, default settings, pages
  rendered at 200 dpi) on the same pages, when it is still importable.

Bars (issue 14, on an otherwise idle 2-core machine): >= 0.5 pages/s with one worker,
>= 0.9 pages/s with 2 workers, character accuracy >= 0.99 (seed pages and the number-dense
page, whose digit accuracy too must be >= 0.99). On a shared machine wall-clock
figures drop with the load; the CPU seconds per page and the ratios are the steadier figures
(with one inference thread, an idle core reads about 1 / (CPU s/page) pages per second).

    python eval/bench_ocr.py [--pages 4] [--number-pages 2] [--workers 2] [--blank-pages 300] [--out DIR]

Needs a CJK font (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from rapidfuzz.distance import Levenshtein

REPO = Path(__file__).resolve().parent.parent
# The page renderer is shared with the tests so the bench measures the pages they check.
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from fixtures_load import find_cjk_font, number_dense_text, render_text_pages, write_image_pdf  # noqa: E402

from extractor.core.errors import LoadError  # noqa: E402
from extractor.core.normalise import matching_key  # noqa: E402
from extractor.load import load_document  # noqa: E402
from extractor.load.ocr import (  # noqa: E402
    REC_INPUT_HEIGHT_PX,
    REC_TEXT_HEIGHT_AS_WIDTH_PX,
    OcrBox,
    boxes_to_text,
    narrow_recogniser_input,
    ocr_engine,
)
from extractor.load.ocr_run import OcrSettings, ocr_session  # noqa: E402


def char_accuracy(ocr_text: str, source_text: str) -> float:
    """1 - character edit distance / source length, compared as the evaluation compares text."""
    source = matching_key(source_text)
    return 1 - Levenshtein.distance(matching_key(ocr_text), source) / max(len(source), 1)


def digit_accuracy(ocr_text: str, source_text: str) -> float:
    """1 - edit distance / count over the texts' digits alone, read as one sequence each."""
    source = re.sub(r"\D", "", matching_key(source_text))
    return 1 - Levenshtein.distance(re.sub(r"\D", "", matching_key(ocr_text)), source) / max(len(source), 1)


def timed(action: Callable[[], str]) -> tuple[str, float, float]:
    """(result, wall seconds, CPU seconds of this process and its finished children)."""
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = action()
    return result, time.perf_counter() - wall, _cpu_seconds() - cpu


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def old_engine_text(pdf_path: Path) -> Callable[[], str] | None:
    """The previous pipeline (rapidocr-onnxruntime, pages at 200 dpi within 2000 px), if installed."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    import pypdfium2 as pdfium

    from extractor.load.ocr import OcrBox

    engine = RapidOCR(rec_batch_num=1)

    def run() -> str:
        pdf = pdfium.PdfDocument(str(pdf_path))
        texts = []
        try:
            for page in pdf:
                width, height = page.get_size()
                image = page.render(scale=min(200 / 72, 2000 / max(width, height))).to_pil().convert("RGB")
                result, _ = engine(image)
                texts.append(boxes_to_text([OcrBox.from_points(item[0], item[1]) for item in result or []]))
        finally:
            pdf.close()
        return "\n".join(texts)

    return run


def report(label: str, pages: int, wall: float, cpu: float | None, accuracy: float) -> float:
    """Print one engine's figures; CPU is None where it runs in processes not yet reaped."""
    rate = pages / wall
    cpu_figure = f"{cpu / pages:5.2f} CPU s/page" if cpu is not None else "  (CPU in workers)"
    print(
        f"{label:<34} {rate:6.3f} pages/s  {wall / pages:5.2f} s/page wall  {cpu_figure}  "
        f"char accuracy {accuracy:.4f}"
    )
    return rate


def stage_cpu(pages: list[Image.Image], label: str) -> float:
    """CPU seconds per page in each stage of the in-process engine (one inference thread, so
    the calling thread's CPU time is the stage's), how many lines went to recognition and the
    character accuracy of what it read; returns the total per page."""
    import numpy as np

    engine = ocr_engine()
    spent = {"detection": 0.0, "classifier": 0.0, "recognition": 0.0}
    lines = 0
    texts: list[str] = []

    def timed_stage(name: str, stage: Callable[..., object]) -> Callable[..., object]:
        def run(*args: object) -> object:
            started = time.thread_time()
            try:
                return stage(*args)
            finally:
                spent[name] += time.thread_time() - started

        return run

    stages = {"detection": "text_det", "classifier": "text_cls", "recognition": "text_rec"}
    originals = {name: getattr(engine, attribute) for name, attribute in stages.items()}
    for name, attribute in stages.items():
        setattr(engine, attribute, timed_stage(name, originals[name]))
    total = time.thread_time()
    try:
        for page in pages:
            output = engine(np.asarray(page.convert("RGB")))
            lines += len(output.txts or ())
            boxes = zip(output.boxes if output.txts else (), output.txts or (), strict=True)
            texts.append(boxes_to_text([OcrBox.from_points(points, text) for points, text in boxes]))
    finally:
        for name, attribute in stages.items():
            setattr(engine, attribute, originals[name])
    total = time.thread_time() - total
    rest = total - sum(spent.values())
    accuracy = char_accuracy("\n".join(texts), "\n".join(page.info["source_text"] for page in pages))
    parts = ", ".join(f"{name} {seconds / len(pages):.2f}" for name, seconds in spent.items())
    print(
        f"{label}: CPU s/page by stage: {parts}, rest (resize, crops, filtering) {rest / len(pages):.2f}; "
        f"total {total / len(pages):.2f}; {lines / len(pages):.0f} lines/page; inference threads 1; "
        f"char accuracy {accuracy:.4f}"
    )
    return total / len(pages)


def detector_before_after(pages: list[Image.Image]) -> None:
    """Stage CPU with the detector on the whole page at its cap, then on the printed area
    shrunk as far as the page's line spacing allows (`extractor.load.ocr_detect`)."""
    detector = ocr_engine().text_det
    try:
        detector.fit_to_print = False
        before = stage_cpu(pages, "detector on the whole page (before)")
    finally:
        detector.fit_to_print = True
    after = stage_cpu(pages, "detector on the print, by line spacing (now)")
    print(f"  CPU per page now / before: {after / before:.2f}")


def line_width_before_after(pages: list[Image.Image]) -> None:
    """Stage CPU with text lines recognised at full width, then narrowed as configured."""
    engine = ocr_engine()
    try:
        narrow_recogniser_input(engine, None)
        before = stage_cpu(pages, "lines at full width (before)")
    finally:
        narrow_recogniser_input(engine, REC_TEXT_HEIGHT_AS_WIDTH_PX)
    after = stage_cpu(pages, "lines narrowed (now)")
    print(f"  CPU per page now / before: {after / before:.2f}")


def input_height_before_after(pages: list[Image.Image]) -> None:
    """Stage CPU with lines reaching the recogniser 48 px high (PP-OCRv4's training height) and
    cut to 1.4 times their print, then as configured (`REC_INPUT_HEIGHT_PX`)."""
    engine = ocr_engine()
    try:
        narrow_recogniser_input(
            engine, REC_TEXT_HEIGHT_AS_WIDTH_PX, input_height_px=48, line_height_as_ink=1.4
        )
        before = stage_cpu(pages, "lines 48 px high (before)")
    finally:
        narrow_recogniser_input(engine, REC_TEXT_HEIGHT_AS_WIDTH_PX)
    after = stage_cpu(pages, f"lines {REC_INPUT_HEIGHT_PX} px high (now)")
    print(f"  CPU per page now / before: {after / before:.2f}")


def blank_scan_guard(folder: Path, pages: int) -> None:
    """Time and peak memory until a PDF of `pages` blank page images is refused."""
    path = write_image_pdf(folder / f"blank-scan-{pages}.pdf", [Image.new("L", (1240, 1754), 255)] * pages)
    started = time.perf_counter()
    try:
        load_document(path)
        outcome = "read (unexpected)"
    except LoadError as error:
        outcome = error.message
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"blank scan, {pages} pages ({path.stat().st_size // 1024} KB): {seconds:.1f} s, peak RSS {peak_mb:.0f} MB"
    )
    print(f"  -> {outcome}")


def number_dense_accuracy(folder: Path, font: Path, pages: int) -> None:
    """Character and digit accuracy on number-dense pages, read as `extractor extract` reads them."""
    rendered = render_text_pages(number_dense_text(paragraphs=30 * pages), font, max_pages=pages)
    source = "\n".join(page.info["source_text"] for page in rendered)
    with ocr_session(OcrSettings(workers=1)):
        text = load_document(write_image_pdf(folder / "number-dense.pdf", rendered)).text
    digits = len(re.sub(r"\D", "", source))
    print(
        f"number-dense pages ({len(rendered)}, {digits} digits): char accuracy "
        f"{char_accuracy(text, source):.4f}, digit accuracy {digit_accuracy(text, source):.4f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4, help="pages to render and OCR (default 4)")
    parser.add_argument(
        "--number-pages", type=int, default=2, help="number-dense pages to render and OCR (default 2)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the parallel run")
    parser.add_argument(
        "--blank-pages", type=int, default=300, help="pages of the blank scan refused by the page limit"
    )
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
    source_text = "\n".join(page.info["source_text"] for page in pages)
    print(
        f"{len(pages)} pages, 150 dpi A4, {len(matching_key(source_text))} characters; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"
    )

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        pdf_path = write_image_pdf(folder / "bench-scan.pdf", pages)

        _, engine_seconds, _ = timed(lambda: (ocr_engine(), "")[1])
        print(f"engine load (once per process): {engine_seconds:.2f} s")
        # The blank-scan guards first, so the peak memory they report is not the page runs'.
        blank_scan_guard(folder, args.blank_pages)
        blank_scan_guard(folder, min(150, OcrSettings.from_env().max_pages))
        input_height_before_after(pages)
        line_width_before_after(pages)
        detector_before_after(pages)
        with ocr_session(OcrSettings(workers=1)):
            text, wall, cpu = timed(lambda: load_document(pdf_path).text)
        one = report(
            "rapidocr 3 + OpenVINO, 1 worker", len(pages), wall, cpu, char_accuracy(text, source_text)
        )
        number_dense_accuracy(folder, font, args.number_pages)

        with ocr_session(OcrSettings(workers=args.workers)):
            # Workers start, and load their engines, with a file's first scanned page: once
            # per batch. Timed apart on a scan of one page per worker (a fresh engine's first
            # page has been seen to take ~0.6 CPU s more than later ones), then the pages with
            # warm workers, as the one-worker run above had a warm engine.
            warm_pages = [pages[i % len(pages)] for i in range(args.workers)]
            _, start_wall, _ = timed(
                lambda: load_document(write_image_pdf(folder / "warm.pdf", warm_pages)).text
            )
            text, wall, _ = timed(lambda: load_document(pdf_path).text)
        many = report(
            f"rapidocr 3 + OpenVINO, {args.workers} workers",
            len(pages),
            wall,
            None,
            char_accuracy(text, source_text),
        )
        print(f"  worker start-up and a first page each: {start_wall:.1f} s (once per batch)")
        print(f"speed-up with {args.workers} workers: {many / one:.2f}x")

        old = old_engine_text(pdf_path)
        if old is None:
            print("previous engine (rapidocr-onnxruntime): not installed, no before/after")
        else:
            text, wall, cpu = timed(old)
            before = report(
                "before: rapidocr-onnxruntime 1.x", len(pages), wall, cpu, char_accuracy(text, source_text)
            )
            print(f"one worker vs before: {one / before:.2f}x pages/s")

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
