"""Offline OCR of page images with RapidOCR 3.x on OpenVINO (PP-OCRv4 models from its wheel).

The engine is built once per process, on first use, from the model files inside the installed
`rapidocr` wheel (never from a model hub), with one inference thread: on a small machine a
second thread per engine costs more in contention than it gains, and parallelism comes from
worker processes instead (`extractor.load.ocr_run`).
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.core.errors import LoadError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image
    from rapidocr import RapidOCR

# Boxes further apart than this many line heights are separate columns / fields, so a
# space keeps them from running together ("作者：" "来源：本网").
_WORD_GAP_IN_HEIGHTS = 0.5
# Two boxes share a line when their vertical overlap is at least this share of the
# shorter box: tolerant of slight skew, strict enough to keep adjacent lines apart.
_SAME_LINE_OVERLAP = 0.5
#: The text detector sees the page shrunk to at most this many pixels on its long side.
#: Finding where lines are needs far fewer pixels than reading them: recognition still crops
#: each line from the full-resolution page. Measured on A4 report scans: detection 3x cheaper
#: than at 2000 px, same text.
DETECTOR_MAX_SIDE_PX = 960
#: Pages are shrunk to at most this long side before anything else (RapidOCR's own default).
PAGE_MAX_SIDE_PX = 2000
#: A text line reaches the recogniser (`REC_INPUT_HEIGHT_PX` high) narrowed so that one
#: height of its printed characters spans this many pixels of the input's width. Recognition
#: is ~94 % of OCR time and its cost grows linearly with that width (the convolutions
#: dominate, not the attention). The model emits one frame per 8 px: ~3.5 frames a Chinese character, ~2 a
#: digit, enough for CTC to keep runs such as "3333" apart. Measured on rendered number-dense
#: pages at 24, 32 and 40 px type: every digit kept, as at full width (at 26 px one of 2,207
#: merged on 24 px type; a fixed 0.7 shrink of every crop lost four). A 150-dpi page of
#: 32 px type is read at ~0.7 of its width: 0.71x the CPU a page (eval/bench_ocr.py).
#: Lines now reach the recogniser `REC_INPUT_HEIGHT_PX` high, cut to `REC_LINE_HEIGHT_AS_INK`
#: times their print: at their own aspect ratio that is already ~27.7 px per print height, so
#: this cap binds only if either is changed (fewer pixels per character lost digits: 21 px
#: merged 23 of 5,571 on the pages measured below).
REC_TEXT_HEIGHT_AS_WIDTH_PX = 28.0
#: Lines reach the recogniser this many pixels high, not the 48 px PP-OCRv4 was trained at.
#: Its backbone halves the height four times (rounding up) before pooling 3 rows into 1, so
#: from 33 to 48 px it pools features 3 rows high alike; the convolutions' cost, most of
#: recognition, grows with the height, while the frames per character (set by the width)
#: stay about the same. Measured on 59 rendered pages (seed text and number-dense text, 20,
#: 24, 32 and 40 px type, lines 1.2 and 1.5 type sizes apart; 11,205 digits), in two halves:
#: at 36 px with the line cut to 1.3 times its print, seed-page character accuracy 0.9995 and
#: 0.9989 as at 48 px, and 2 digits wrong as at 48 px (36 px: "555" read "55" on 24 px type;
#: 48 px: "3333" read "333" and a 2-character line end misread, which 36 px also misreads),
#: for ~0.78x the CPU of recognition. At 36 px cut to 1.4 times the print: 5 digits wrong;
#: at 34 and 33 px: 10 and 13 on the first half alone.
REC_INPUT_HEIGHT_PX = 36

# PP-OCRv4 mobile models and the recogniser's character list, as shipped in the rapidocr
# 3.4 wheel (rapidocr/models/). Named explicitly so the engine never looks for a download.
_MODEL_FILES = {
    "Det": "ch_PP-OCRv4_det_infer.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "Rec": "ch_PP-OCRv4_rec_infer.onnx",
}
_REC_KEYS_FILE = "ppocr_keys_v1.txt"


@dataclass(frozen=True, slots=True)
class OcrBox:
    """One recognised text box, as an axis-aligned rectangle in image pixels."""

    left: float
    top: float
    right: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)

    @classmethod
    def from_points(cls, points: Sequence[Sequence[float]], text: str) -> OcrBox:
        """Build from a detected quadrilateral (4 corner points) and its text."""
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        return cls(min(xs), min(ys), max(xs), max(ys), str(text))


def model_dir() -> Path:
    """The folder of model files inside the installed rapidocr package."""
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


def engine_params(*, rotated: bool = False) -> dict[str, Any]:
    """RapidOCR 3.x settings: OpenVINO, one thread, local PP-OCRv4 files, classifier on/off.

    Raises LoadError when a model file is missing from the installed package (a broken
    install), instead of letting the engine fall back to downloading it.
    """
    from rapidocr import EngineType

    folder = model_dir()
    missing = [name for name in [*_MODEL_FILES.values(), _REC_KEYS_FILE] if not (folder / name).is_file()]
    if missing:
        raise LoadError(
            f"OCR model files missing from the rapidocr package: {', '.join(missing)} "
            "(reinstall it: pip install --force-reinstall rapidocr)",
            source=str(folder),
        )
    params: dict[str, Any] = {
        # A blank page makes rapidocr warn "detection result is empty"; the loader reports
        # what matters (no text) itself.
        "Global.log_level": "error",
        "Global.max_side_len": PAGE_MAX_SIDE_PX,
        # The angle classifier is for lines printed upside down: on upright pages it only
        # costs time, and it has been seen to flip a correct line and lose it.
        "Global.use_cls": rotated,
        "EngineConfig.openvino.inference_num_threads": 1,
        # OpenVINO pins its inference thread to a core; every worker process would pin to the
        # same one, and two workers then ran no faster than one (eval/bench_ocr.py: 1.00x).
        "EngineConfig.openvino.enable_cpu_pinning": False,
        # One line per recognition pass: a batch pads every line to the widest one, and a
        # report page mixes full lines with short paragraph ends.
        "Rec.rec_batch_num": 1,
        "Rec.rec_keys_path": str(folder / _REC_KEYS_FILE),
    }
    for stage, file_name in _MODEL_FILES.items():
        params[f"{stage}.engine_type"] = EngineType.OPENVINO
        params[f"{stage}.model_path"] = str(folder / file_name)
    return params


def ocr_engine(*, rotated: bool = False) -> RapidOCR:
    """The process-wide RapidOCR engine for upright (or, with `rotated`, any-way-up) pages.

    Built on first use (about a second: three models compiled by OpenVINO) and then reused
    for every page and file the process reads.
    """
    return _build_engine(rotated)


@functools.cache
def _build_engine(rotated: bool) -> RapidOCR:
    # Cached on the one normalised argument, so ocr_engine() and ocr_engine(rotated=False)
    # share an engine. rapidocr 3.4 imports `openvino.runtime`, which OpenVINO 2025 marks deprecated with a
    # filter of its own that forces the warning out: recording swallows it (users can do
    # nothing about it) and the filters are restored afterwards.
    with warnings.catch_warnings(record=True):
        from rapidocr import RapidOCR

        from extractor.load.ocr_detect import install_detector

        engine = RapidOCR(params=engine_params(rotated=rotated))
    install_detector(engine, DETECTOR_MAX_SIDE_PX)
    narrow_recogniser_input(engine, REC_TEXT_HEIGHT_AS_WIDTH_PX)
    return engine


# The cache's controls, where tests and benchmarks look for them (`ocr_engine.cache_clear()`).
ocr_engine.cache_clear = _build_engine.cache_clear  # type: ignore[attr-defined]  # mypy: no attrs on functions
ocr_engine.cache_info = _build_engine.cache_info  # type: ignore[attr-defined]  # mypy: no attrs on functions


def narrow_recogniser_input(
    engine: RapidOCR,
    text_height_as_width_px: float | None,
    *,
    input_height_px: int = REC_INPUT_HEIGHT_PX,
    line_height_as_ink: float | None = None,
) -> None:
    """Make `engine` resize each text line, in one step and unpadded, to `input_height_px` and
    a width at which one height of its printed characters spans `text_height_as_width_px`
    pixels (never wider than its own aspect ratio); None: its own aspect ratio (full width).

    The line is first cut to `line_height_as_ink` (default `REC_LINE_HEIGHT_AS_INK`) times its
    print's height.
    The characters' height is measured on the line (`_ink_rows`), not taken from the crop:
    the detector's margin around a line varies with the type size, and a fixed shrink
    starved small type of frames. rapidocr itself pads every line to at least 320 px: with
    one line per recognition pass (`Rec.rec_batch_num` 1) padding only costs time.
    """
    import cv2
    import numpy as np

    recogniser = engine.text_rec
    if recogniser.rec_batch_num != 1:
        raise ValueError("narrow_recogniser_input needs one line per recognition batch")
    # A plain list instead of the omegaconf ListConfig from rapidocr's settings, which the
    # recogniser indexes once per line at ~0.3 ms a time.
    recogniser.rec_image_shape = [
        *recogniser.rec_image_shape[:1],
        input_height_px,
        *recogniser.rec_image_shape[2:],
    ]
    height = input_height_px
    ink_share = REC_LINE_HEIGHT_AS_INK if line_height_as_ink is None else line_height_as_ink

    def resize_norm_img(line: np.ndarray, _max_wh_ratio: float) -> np.ndarray:
        rows = _ink_rows(line)
        if rows is not None:
            line = _reframe_rows(line, rows, ink_share)
        line_height, line_width = line.shape[:2]
        scale = height / max(line_height, 1)
        width_scale = 1.0
        if text_height_as_width_px is not None:
            ink_height = rows[1] - rows[0] if rows is not None else line_height
            width_scale = min(1.0, text_height_as_width_px / (ink_height * scale))
        # At least one output frame (the model's width stride is 8).
        width = max(8, math.ceil(line_width * scale * width_scale))
        resized = cv2.resize(line, (width, height), interpolation=cv2.INTER_LINEAR)
        # rapidocr's own normalisation, (x / 255 - 0.5) / 0.5, in float32 in one step.
        normalised = resized.astype(np.float32) * np.float32(2 / 255) - np.float32(1)
        return normalised.transpose(2, 0, 1)

    recogniser.resize_norm_img = resize_norm_img


def _ink_height(line: np.ndarray) -> int:
    """Height in pixels of a line crop's printed characters (`_ink_rows`); the crop's height
    when it has no contrast."""
    rows = _ink_rows(line)
    return line.shape[0] if rows is None else rows[1] - rows[0]


def _ink_rows(line: np.ndarray) -> tuple[int, int] | None:
    """The rows [top, bottom) of a line crop's printed characters: the run of consecutive rows
    holding at least 15 % of the busiest row's print pixels (so the thin tails of brackets do
    not count) with the most print (so the edges of the neighbouring lines do not either).
    None when the crop has no contrast."""
    import numpy as np

    # Channel by channel: numpy's min over a 3-long last axis took 2 ms a line, this 0.2 ms.
    gray = (
        line if line.ndim == 2 else functools.reduce(np.minimum, (line[..., c] for c in range(line.shape[2])))
    )
    darkest, lightest = int(gray.min()), int(gray.max())
    if lightest - darkest < _MIN_INK_CONTRAST:
        return None
    dark = gray < (darkest + lightest) / 2
    ink_per_row = np.count_nonzero(dark, axis=1)
    if 2 * int(ink_per_row.sum()) > dark.size:  # light print on a dark band: the print is the light part
        ink_per_row = dark.shape[1] - ink_per_row
    printed = ink_per_row >= 0.15 * ink_per_row.max()
    # The line is the band of consecutive printed rows holding the most print: a crop of small
    # type, closely spaced, also holds the edges of the lines above and below, and spanning
    # them measured 20 px type as 32 px tall (its lines then narrowed to half their frames).
    edges = np.flatnonzero(np.diff(np.concatenate(([0], printed.view(np.int8), [0]))))
    starts, ends = edges[::2], edges[1::2]
    ink_so_far = np.concatenate(([0], np.cumsum(ink_per_row)))
    best = int(np.argmax(ink_so_far[ends] - ink_so_far[starts]))
    return int(starts[best]), int(ends[best])


#: A line reaches the recogniser cut (or padded) to this many times its print's height,
#: centred on the print, whatever margin the detector left around it: a detector run at lower
#: resolution leaves wider margins, and the characters then filled less of the model's input
#: (24 px type: one "5555" read as "555"). The detector's own crops at its cap: 1.2-1.4.
#: At the 36 px input, 1.4 left the print 25.7 px and merged a "4444"; 1.3 (27.7 px) did not.
REC_LINE_HEIGHT_AS_INK = 1.3


def _reframe_rows(line: np.ndarray, rows: tuple[int, int], line_height_as_ink: float) -> np.ndarray:
    import cv2

    top, bottom = rows
    wanted = max(round((bottom - top) * line_height_as_ink), bottom - top)
    new_top = (top + bottom - wanted) // 2
    new_bottom = new_top + wanted
    cut = line[max(new_top, 0) : min(new_bottom, line.shape[0])]
    pad_top, pad_bottom = max(-new_top, 0), max(new_bottom - line.shape[0], 0)
    if pad_top or pad_bottom:
        cut = cv2.copyMakeBorder(cut, pad_top, pad_bottom, 0, 0, cv2.BORDER_REPLICATE)
    return cut


# Grey levels between a line's darkest and lightest pixel below which it holds no print.
_MIN_INK_CONTRAST = 32


# One engine holds one OpenVINO inference request, which is not safe to share between
# threads (`extract --concurrency` loads several reports at once in threads).
_ENGINE_LOCK = threading.Lock()


def recognise_boxes(image: Image.Image, *, rotated: bool | None = None) -> list[OcrBox]:
    """OCR one page image into text boxes (empty when nothing legible is found).

    `rotated` None: as the running OCR settings say (`extractor.load.ocr_run`).
    """
    import numpy as np

    if rotated is None:
        from extractor.load.ocr_run import current_settings

        rotated = current_settings().rotated
    pixels = np.asarray(image.convert("RGB"))
    engine = ocr_engine(rotated=rotated)
    with _ENGINE_LOCK:
        output = engine(pixels)
    if output.boxes is None or output.txts is None:
        return []
    return [OcrBox.from_points(points, text) for points, text in zip(output.boxes, output.txts, strict=True)]


def recognise_image(image: Image.Image, *, rotated: bool | None = None) -> str:
    """OCR one page image; return its text, one line per visual line, top to bottom.

    Returns "" when nothing legible is found. Never downloads anything: the models ship
    inside the rapidocr wheel. `rotated` turns on the angle classifier (lines upside down);
    None follows the running OCR settings (`--ocr-rotated`, EXTRACTOR_OCR_ROTATED).
    """
    return boxes_to_text(recognise_boxes(image, rotated=rotated))


def recognise_lines(image: Image.Image, *, rotated: bool | None = None) -> list[OcrBox]:
    """OCR one page image into its visual lines with their rectangles, top to bottom
    (`boxes_to_lines`); `rotated` as for `recognise_image`."""
    return boxes_to_lines(recognise_boxes(image, rotated=rotated))


def boxes_to_text(boxes: Sequence[OcrBox]) -> str:
    """Arrange boxes into reading order: lines by y (top to bottom), boxes by x within a line.

    Guarantees: every non-empty box text appears exactly once; lines are joined with \\n.
    """
    return "\n".join(line.text for line in boxes_to_lines(boxes))


def boxes_to_lines(boxes: Sequence[OcrBox]) -> list[OcrBox]:
    """The visual lines of a page, top to bottom: each the union of its boxes' rectangles,
    its text theirs left to right (a space where a gap separates two fields).

    The lines keep their geometry so a caller can tell a wrapped line (reaching the right
    margin) from a paragraph's last one (`extractor.load.pdf_layout.rebuild_paragraphs`).
    """
    lines: list[list[OcrBox]] = []
    for box in sorted((b for b in boxes if b.text.strip()), key=lambda b: (b.top, b.left)):
        if lines and _on_line(box, lines[-1]):
            lines[-1].append(box)
        else:
            lines.append([box])
    return [_merge_line(sorted(line, key=lambda b: b.left)) for line in lines]


def _on_line(box: OcrBox, line: list[OcrBox]) -> bool:
    top = min(b.top for b in line)
    bottom = max(b.bottom for b in line)
    overlap = min(bottom, box.bottom) - max(top, box.top)
    return overlap >= _SAME_LINE_OVERLAP * min(box.height, bottom - top)


def _merge_line(line: list[OcrBox]) -> OcrBox:
    parts = [line[0].text]
    for previous, box in itertools.pairwise(line):
        gap = box.left - previous.right
        parts.append(" " if gap > _WORD_GAP_IN_HEIGHTS * box.height else "")
        parts.append(box.text)
    return OcrBox(
        left=min(b.left for b in line),
        top=min(b.top for b in line),
        right=max(b.right for b in line),
        bottom=max(b.bottom for b in line),
        text="".join(parts),
    )
