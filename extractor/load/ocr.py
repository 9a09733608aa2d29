"""Offline OCR of page images with RapidOCR (PP-OCRv4 Chinese models shipped in its wheel)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image
    from rapidocr_onnxruntime import RapidOCR

# Boxes further apart than this many line heights are separate columns / fields, so a
# space keeps them from running together ("作者：" "来源：本网").
_WORD_GAP_IN_HEIGHTS = 0.5
# Two boxes share a line when their vertical overlap is at least this share of the
# shorter box: tolerant of slight skew, strict enough to keep adjacent lines apart.
_SAME_LINE_OVERLAP = 0.5


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
    def from_rapidocr(cls, item: Sequence[Any]) -> OcrBox:
        """Build from RapidOCR's `[[4 corner points], text, score]`."""
        points, text = item[0], item[1]
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        return cls(min(xs), min(ys), max(xs), max(ys), str(text))


@functools.cache
def ocr_engine() -> RapidOCR:
    """The process-wide RapidOCR engine, created on first use.

    Loading the three ONNX models takes about a second, so it is done once per process and
    only when a scanned page actually needs it (the import pulls in onnxruntime and cv2).
    """
    from rapidocr_onnxruntime import RapidOCR

    # One text line per recognition pass: batches pad every line to the widest one, and a
    # report page mixes full lines with short paragraph ends (measured: 4.8 s/page instead
    # of 8.2 s/page on a 2-core machine, same text).
    return RapidOCR(rec_batch_num=1)


def recognise_image(image: Image.Image) -> str:
    """OCR one page image; return its text, one line per visual line, top to bottom.

    Returns "" when nothing legible is found. Never downloads anything: the models ship
    inside the rapidocr-onnxruntime wheel.
    """
    result, _elapsed = ocr_engine()(image.convert("RGB"))
    if not result:
        return ""
    return boxes_to_text([OcrBox.from_rapidocr(item) for item in result])


def boxes_to_text(boxes: Sequence[OcrBox]) -> str:
    """Arrange boxes into reading order: lines by y (top to bottom), boxes by x within a line.

    Guarantees: every non-empty box text appears exactly once; lines are joined with \\n.
    """
    lines: list[list[OcrBox]] = []
    for box in sorted((b for b in boxes if b.text.strip()), key=lambda b: (b.top, b.left)):
        if lines and _on_line(box, lines[-1]):
            lines[-1].append(box)
        else:
            lines.append([box])
    return "\n".join(_join_line(sorted(line, key=lambda b: b.left)) for line in lines)


def _on_line(box: OcrBox, line: list[OcrBox]) -> bool:
    top = min(b.top for b in line)
    bottom = max(b.bottom for b in line)
    overlap = min(bottom, box.bottom) - max(top, box.top)
    return overlap >= _SAME_LINE_OVERLAP * min(box.height, bottom - top)


def _join_line(line: list[OcrBox]) -> str:
    parts = [line[0].text]
    for previous, box in itertools.pairwise(line):
        gap = box.left - previous.right
        parts.append(" " if gap > _WORD_GAP_IN_HEIGHTS * box.height else "")
        parts.append(box.text)
    return "".join(parts)
