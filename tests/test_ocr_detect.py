"""Text detection on the page's printed area, shrunk by its own line spacing: lines are found
where they are printed, none is lost, and upright line crops are the pixels rapidocr cuts."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from fixtures_load import NOTO_CJK_SC_INDEX, find_cjk_font, number_dense_text, render_text_pages
from PIL import Image, ImageDraw, ImageFont
from rapidocr.utils.process_img import get_rotate_crop_image

from extractor.core.normalise import matching_key
from extractor.load.ocr import ocr_engine, recognise_lines
from extractor.load.ocr_detect import (
    MIN_DETECTOR_SHRINK,
    LineSpacing,
    PrintedArea,
    _crop_text_regions,
    detector_shrink,
    line_spacing,
    printed_area,
)

CJK_FONT = find_cjk_font()
needs_font = pytest.mark.skipif(CJK_FONT is None, reason="no CJK font (apt-get install fonts-noto-cjk)")


def test_printed_area_is_the_print_whatever_the_paper() -> None:
    page = np.full((400, 300, 3), 255, np.uint8)
    assert printed_area(page) is None  # blank paper
    page[120:140, 50:210] = 0
    page[300:302, 250:260] = 0  # a speck far from the text counts: the area can only grow
    assert printed_area(page) == PrintedArea(top=120, bottom=302, left=50, right=260)

    grey_paper = np.full((400, 300), 200, np.uint8)
    grey_paper[10:20, 30:40] = 150  # faint print on grey paper
    assert printed_area(grey_paper) == PrintedArea(10, 20, 30, 40)
    dark_band = np.full((400, 300), 255, np.uint8)
    dark_band[200:240, :] = 20
    dark_band[210:230, 100:150] = 255  # light print on a dark band: the band is print too
    assert printed_area(dark_band) == PrintedArea(200, 240, 0, 300)


def lines_mask(*, height: int, gap: int, lines: int, width: int = 600, offset: int = 0) -> np.ndarray:
    ink = np.zeros((offset + lines * (height + gap), width), bool)
    for row in range(lines):
        top = offset + row * (height + gap)
        ink[top : top + height, ::3] = True
    return ink


def test_line_spacing_is_measured_per_column_of_print() -> None:
    assert line_spacing(lines_mask(height=14, gap=8, lines=20)) == LineSpacing(height=14, gap=8)
    # Two columns whose lines do not line up: measured apart, the lines keep their spacing
    # (across the page they would run together into one block).
    left, right = (
        lines_mask(height=14, gap=8, lines=20, width=256),
        lines_mask(height=14, gap=8, lines=20, width=256, offset=11),
    )
    columns = np.zeros((right.shape[0], 512), bool)
    columns[: left.shape[0], :256], columns[:, 256:] = left, right
    assert line_spacing(columns) == LineSpacing(height=14, gap=8)
    assert line_spacing(lines_mask(height=14, gap=8, lines=2, width=128)) is None  # too little to tell


def test_only_roomy_lines_shrink_the_detector_further() -> None:
    assert detector_shrink(None) == 1.0
    assert detector_shrink(LineSpacing(height=13, gap=6)) == 1.0  # small type, tight lines
    assert detector_shrink(LineSpacing(height=26, gap=6)) == 1.0  # large type, tight lines
    roomy = detector_shrink(LineSpacing(height=17, gap=10))
    assert MIN_DETECTOR_SHRINK <= roomy < 1.0
    assert detector_shrink(LineSpacing(height=200, gap=200)) == MIN_DETECTOR_SHRINK


def test_upright_boxes_are_sliced_as_rapidocr_warps_them_and_tilted_ones_warped() -> None:
    page = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    upright = np.array([[20, 30], [220, 30], [220, 70], [20, 70]], np.float32)
    tilted = np.array([[20, 100], [220, 104], [220, 144], [20, 140]], np.float32)
    sliced, warped = _crop_text_regions(page, np.stack([upright, tilted]))
    assert np.array_equal(sliced, get_rotate_crop_image(page, copy.deepcopy(upright)))
    assert np.array_equal(warped, get_rotate_crop_image(page, copy.deepcopy(tilted)))


@needs_font
def test_lines_anywhere_on_the_page_are_found_where_they_are_printed() -> None:
    assert CJK_FONT is not None
    font = ImageFont.truetype(str(CJK_FONT), 32, index=NOTO_CJK_SC_INDEX)
    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    draw.text((90, 80), "第一行在左上角", font=font, fill=0)
    draw.text((700, 1600), "第二行在右下角2024年", font=font, fill=0)
    lines = recognise_lines(page)
    assert [matching_key(line.text) for line in lines] == [
        matching_key("第一行在左上角"),
        "第二行在右下角2024年",
    ]
    for line, (left, top) in zip(lines, [(90, 80), (700, 1600)], strict=True):
        assert abs(line.left - left) <= 12 and top - 4 <= line.top <= top + 12


@needs_font
@pytest.mark.parametrize("font_px", [24, 32, 40])
def test_detector_is_shrunk_only_as_far_as_the_lines_allow(font_px: int) -> None:
    assert CJK_FONT is not None
    page = render_text_pages(number_dense_text(paragraphs=40, seed=font_px), CJK_FONT, font_px=font_px)[0]
    detector = ocr_engine().text_det
    seen: list[tuple[int, int]] = []
    session = detector.detector.session
    detector.detector.session = lambda planes: (seen.append(planes.shape[2:]), session(planes))[1]
    try:
        boxes = detector(np.asarray(page.convert("RGB"))).boxes
    finally:
        detector.detector.session = session
    # Every printed line found once (none merged with its neighbour, none split)...
    assert len(boxes) == len(page.info["source_text"].splitlines())
    # ...by a detector that saw less than the capped page when the lines are roomy.
    (height, width), capped = seen[0], (960 * 1240 / 1754) * 960
    if font_px >= 32:
        assert height * width < 0.7 * capped
