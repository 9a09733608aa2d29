"""Finding a page's text lines for the OCR engine (`extractor.load.ocr`) with less work than
rapidocr 3.4 does by itself, on the page's own measurements.

- The detector sees the page shrunk to at most `max_side` pixels on its long side, and only the
  printed area of it: the blank margins around the print (a fifth to two fifths of an A4 report
  page) hold no text, and the detector's cost grows with its input's area.
- A page whose lines are tall and far apart is shrunk further (`line_spacing`,
  `detector_shrink`): down to 0.7 of that, about half the area, for 16 pt type.
  Lines found at lower resolution come with looser margins, which the recogniser cuts back
  (`extractor.load.ocr.REC_LINE_HEIGHT_AS_INK`).
- Its input is normalised in float32 straight into the model's planar layout.
- Lines detected as upright rectangles are sliced out of the page rather than warped.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from rapidocr import RapidOCR
    from rapidocr.ch_ppocr_det import TextDetector, TextDetOutput

# Grey levels between a pixel and the page's background (its median) from which it is print.
INK_CONTRAST = 32
# The detector's network takes sides in multiples of this.
_DETECTOR_STRIDE = 32
#: The detector's input is shrunk below its cap while a page's printed lines keep at least
#: this height and these blank rows between them (`line_spacing`, in the detector's pixels).
#: Measured on rendered number-dense pages of 24 to 40 px type at 150 dpi, lines 1.5 type
#: sizes apart: lines of 9.5 px or gaps of 4.4 px lost characters and digits (lines merged or
#: cropped too loosely to read), 10 px and 4.7 px none; these leave a third more.
MIN_DETECTED_LINE_PX = 13.0
MIN_DETECTED_GAP_PX = 6.5
#: Never below this share of the capped size, whatever the measurements say.
MIN_DETECTOR_SHRINK = 0.7
# Strips this wide (in the detector's pixels) hold several characters of body text.
_STRIP_PX = 128
# Fewer blank runs between lines than this: too little text to measure the page by.
_MIN_GAPS_MEASURED = 12
# A smaller shrink than this is not worth a second resize of the page.
_WORTH_SHRINKING = 0.95


@dataclass(frozen=True, slots=True)
class PrintedArea:
    """The part of an image (rows top:bottom, columns left:right) holding every pixel that
    differs from its background by at least `INK_CONTRAST` grey levels."""

    top: int
    bottom: int
    left: int
    right: int


def printed_area(image: np.ndarray) -> PrintedArea | None:
    """The smallest rectangle around the image's print; None when nothing is printed.

    The background is the median grey level (most of a page is paper), so dark print on light
    paper, light print on dark bands and faint print on grey paper all count; specks count
    too, which can only make the area larger.
    """
    found = _print_mask(image)
    return found[0] if found else None


def _print_mask(image: np.ndarray) -> tuple[PrintedArea, np.ndarray] | None:
    """`printed_area` and, within it, which pixels are print."""
    import cv2
    import numpy as np

    gray = (
        image
        if image.ndim == 2
        else functools.reduce(np.minimum, (image[..., c] for c in range(image.shape[2])))
    )
    levels = np.bincount(gray.ravel(), minlength=256)
    background = int(np.searchsorted(np.cumsum(levels), gray.size / 2))
    ink = cv2.absdiff(gray, np.full_like(gray, background)) >= INK_CONTRAST
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    area = PrintedArea(int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1)
    return area, ink[area.top : area.bottom, area.left : area.right]


@dataclass(frozen=True, slots=True)
class LineSpacing:
    """How tall a page's printed lines are and how many blank rows part them, in pixels."""

    height: float
    gap: float


def line_spacing(ink: np.ndarray) -> LineSpacing | None:
    """The spacing of the lines printed in `ink` (True where print), measured in vertical strips
    `_STRIP_PX` wide (so columns side by side, and a slight skew, do not blur the lines
    together): a low percentile of the runs of rows holding print in a strip (a strip holding
    only a comma or the tail of a short line makes a shorter run), and of the blank runs
    between them. None when too few lines are printed to tell.
    """
    import numpy as np

    heights, gaps = [], []
    for left in range(0, ink.shape[1], _STRIP_PX):
        printed_rows = ink[:, left : left + _STRIP_PX].any(axis=1).astype(np.int8)
        edges = np.flatnonzero(np.diff(printed_rows, prepend=0, append=0))
        starts, ends = edges[0::2], edges[1::2]
        heights.append(ends - starts)
        gaps.append(starts[1:] - ends[:-1])
    all_gaps = np.concatenate(gaps)
    if all_gaps.size < _MIN_GAPS_MEASURED:
        return None
    return LineSpacing(
        height=float(np.percentile(np.concatenate(heights), 10)), gap=float(np.percentile(all_gaps, 25))
    )


def detector_shrink(spacing: LineSpacing | None) -> float:
    """How much further than the detector's cap a page with this line spacing can be shrunk
    (1.0: not at all) and keep its lines apart and legible to the detector."""
    if spacing is None:
        return 1.0
    needed = max(MIN_DETECTED_LINE_PX / spacing.height, MIN_DETECTED_GAP_PX / spacing.gap)
    return min(1.0, max(needed, MIN_DETECTOR_SHRINK))


def _span_around(start: int, end: int, margin: int, limit: int) -> tuple[int, int]:
    """[start, end) widened by `margin` on both sides and to a multiple of the detector's
    stride, within [0, limit) (limit itself a multiple of the stride)."""
    start, end = max(start - margin, 0), min(end + margin, limit)
    size = min(-(-(end - start) // _DETECTOR_STRIDE) * _DETECTOR_STRIDE, limit)
    start = min(start, limit - size)
    return start, start + size


def install_detector(engine: RapidOCR, max_side: int) -> None:
    """Make `engine` detect text on the page shrunk to at most `max_side` pixels on its long
    side (rapidocr 3.4 sizes it from the page alone, up to 2000 px, and ignores
    Det.limit_side_len in "max" mode) and further as its line spacing allows, cropped to its
    printed area with a margin of half a detector stride, and cut upright line boxes out by
    slicing."""
    engine.text_det = _PrintedAreaDetector(engine.text_det, max_side)
    engine.crop_text_regions = _crop_text_regions


class _PrintedAreaDetector:
    """A rapidocr TextDetector run on the printed area of the shrunk page; its other
    attributes (thresholds read by `RapidOCR.update_params`) are the wrapped detector's."""

    def __init__(self, detector: TextDetector, max_side: int) -> None:
        self.detector = detector
        self.max_side = max_side
        #: False: the whole page at the cap, as before (eval/bench_ocr.py's before/after).
        self.fit_to_print = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.detector, name)

    @staticmethod
    def _shrink(page: np.ndarray, ratio: float) -> tuple[np.ndarray, tuple[PrintedArea, np.ndarray] | None]:
        import cv2

        height, width = page.shape[:2]
        # As rapidocr rounds: each side scaled, then to the nearest multiple of the stride.
        shrunk_width = max(round(int(width * ratio) / _DETECTOR_STRIDE), 1) * _DETECTOR_STRIDE
        shrunk_height = max(round(int(height * ratio) / _DETECTOR_STRIDE), 1) * _DETECTOR_STRIDE
        shrunk = cv2.resize(page, (shrunk_width, shrunk_height))
        return shrunk, _print_mask(shrunk)

    def __call__(self, page: np.ndarray) -> TextDetOutput:
        import numpy as np
        from rapidocr.ch_ppocr_det import TextDetOutput

        height, width = page.shape[:2]
        ratio = min(1.0, self.max_side / max(height, width))
        shrunk, found = self._shrink(page, ratio)
        if not self.fit_to_print:
            found = None
        elif found is not None:
            shrink = detector_shrink(line_spacing(found[1]))
            if shrink < _WORTH_SHRINKING:
                shrunk, found = self._shrink(page, ratio * shrink)
        shrunk_height, shrunk_width = shrunk.shape[:2]
        area = found[0] if found else PrintedArea(0, shrunk_height, 0, shrunk_width)
        top, bottom = _span_around(area.top, area.bottom, _DETECTOR_STRIDE // 2, shrunk_height)
        left, right = _span_around(area.left, area.right, _DETECTOR_STRIDE // 2, shrunk_width)
        scale_x, scale_y = width / shrunk_width, height / shrunk_height
        preds = self.detector.session(_planar_float32(shrunk[top:bottom, left:right], self.detector))
        # Boxes straight into page pixels: the crop's size there, then its offset.
        boxes, scores = self.detector.postprocess_op(
            preds, ((bottom - top) * scale_y, (right - left) * scale_x)
        )
        if len(boxes) == 0:
            return TextDetOutput()
        boxes = boxes.astype(np.float32)
        boxes[..., 0] = np.clip(np.round(boxes[..., 0] + left * scale_x), 0, width - 1)
        boxes[..., 1] = np.clip(np.round(boxes[..., 1] + top * scale_y), 0, height - 1)
        return TextDetOutput(page, self.detector.sorted_boxes(boxes), scores)


def _planar_float32(image: np.ndarray, detector: TextDetector) -> np.ndarray:
    # rapidocr normalises with float64 mean/std arrays and then permutes and copies the page
    # twice more: 13 ms a page at 960 px. Written channel by channel, in float32, straight
    # into the model's planar layout: 2 ms, the same values.
    import numpy as np

    scale = np.float32(1 / 255)
    planes = np.empty((1, image.shape[2], *image.shape[:2]), dtype=np.float32)
    for channel, (mean, std) in enumerate(zip(detector.mean, detector.std, strict=True)):
        plane = planes[0, channel]
        np.multiply(image[..., channel], np.float32(scale / std), out=plane, dtype=np.float32)
        plane -= np.float32(mean / std)
    return planes


def _crop_text_regions(img: np.ndarray, det_boxes: np.ndarray) -> list[np.ndarray]:
    # rapidocr cuts every detected box out of the page with a perspective warp (bicubic): on a
    # box that is an upright rectangle with whole-pixel corners, as most lines of an upright
    # scan are, that warp is an exact shift, so a slice of the page gives the same pixels
    # without the ~0.7 ms a line. Tilted boxes keep the warp.
    import numpy as np
    from rapidocr.utils.process_img import get_rotate_crop_image

    crops = []
    for box in det_boxes:
        # Corners clockwise from the top left (rapidocr's order).
        (left, top), (right, top_of_right), (right_of_bottom, bottom), (left_of_bottom, bottom_of_left) = box
        upright = (top, bottom, left, right) == (
            top_of_right,
            bottom_of_left,
            left_of_bottom,
            right_of_bottom,
        )
        whole_pixels = bool((box == np.round(box)).all())
        # get_rotate_crop_image turns crops at least 1.5 times taller than wide.
        if upright and whole_pixels and bottom - top < 1.5 * (right - left):
            crops.append(img[int(top) : int(bottom), int(left) : int(right)])
        else:
            crops.append(get_rotate_crop_image(img, copy.deepcopy(box)))
    return crops
