"""Recognition of text lines narrowed to save time: digits and characters are kept."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from fixtures_load import NOTO_CJK_SC_INDEX, find_cjk_font, number_dense_text, render_text_pages
from PIL import Image, ImageDraw, ImageFont
from rapidfuzz.distance import Levenshtein

from extractor.core.normalise import matching_key
from extractor.load.ocr import (
    REC_INPUT_HEIGHT_PX,
    REC_TEXT_HEIGHT_AS_WIDTH_PX,
    _ink_height,
    ocr_engine,
    recognise_image,
)

CJK_FONT = find_cjk_font()
pytestmark = pytest.mark.skipif(
    CJK_FONT is None, reason="no CJK font to render scanned pages (apt-get install fonts-noto-cjk)"
)
LINE = "受理行政复议案件37件，同比增长12.5%"


def line_crop(text: str, *, font_px: int, margin: int) -> np.ndarray:
    """A line as the detector crops it: `text` with `margin` white pixels above and below."""
    assert CJK_FONT is not None
    font = ImageFont.truetype(str(CJK_FONT), font_px, index=NOTO_CJK_SC_INDEX)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 8, bottom - top + 2 * margin), "white")
    ImageDraw.Draw(image).text((4 - left, margin - top), text, font=font, fill="black")
    return np.asarray(image)


def digits(text: str) -> str:
    return re.sub(r"\D", "", matching_key(text))


def test_ink_height_is_the_printed_characters_not_the_crop() -> None:
    tight, loose = line_crop(LINE, font_px=32, margin=2), line_crop(LINE, font_px=32, margin=14)
    assert abs(_ink_height(tight) - _ink_height(loose)) <= 1
    assert 26 <= _ink_height(loose) <= 34 < loose.shape[0]
    assert _ink_height(np.full((30, 200, 3), 255, np.uint8)) == 30  # nothing printed: the crop
    assert _ink_height(255 - loose) == _ink_height(loose)  # white print on a dark band


def test_lines_are_narrowed_by_their_type_size_not_by_the_detectors_margin() -> None:
    recogniser = ocr_engine().text_rec
    tight, loose = line_crop(LINE, font_px=32, margin=2), line_crop(LINE, font_px=32, margin=6)
    tight_input, loose_input = (recogniser.resize_norm_img(line, 0.0) for line in (tight, loose))
    assert tight_input.shape[:2] == loose_input.shape[:2] == (3, REC_INPUT_HEIGHT_PX)
    # The same printed line reaches the model at (about) the same width whatever its margin...
    assert abs(tight_input.shape[2] - loose_input.shape[2]) <= 0.02 * tight_input.shape[2]
    # ...narrower than its crop's own aspect ratio: one character height spans the set width.
    assert tight_input.shape[2] < math.ceil(REC_INPUT_HEIGHT_PX * tight.shape[1] / tight.shape[0])
    per_character_height = tight_input.shape[2] * _ink_height(tight) / tight.shape[1]
    assert abs(per_character_height - REC_TEXT_HEIGHT_AS_WIDTH_PX) <= 1
    # A crop with wide margins (a detector run at low resolution) is cut to its print: the
    # characters fill as much of the model's height as in a tight crop, not a third of it.
    roomy = line_crop(LINE, font_px=32, margin=20)
    roomy_input = recogniser.resize_norm_img(roomy, 0.0)
    assert abs(roomy_input.shape[2] - tight_input.shape[2]) <= 0.02 * tight_input.shape[2]
    printed_rows = (roomy_input.min(axis=(0, 2)) < 0).nonzero()[0]
    assert printed_rows[-1] - printed_rows[0] + 1 >= 0.7 * REC_INPUT_HEIGHT_PX


@pytest.mark.parametrize("line_spacing", [1.5, 1.2])
@pytest.mark.parametrize("font_px", [24, 32, 40])
def test_number_dense_page_keeps_every_digit(font_px: int, line_spacing: float) -> None:
    assert CJK_FONT is not None
    page = render_text_pages(
        number_dense_text(paragraphs=12, seed=font_px), CJK_FONT, font_px=font_px, line_spacing=line_spacing
    )[0]
    # The top of the page: enough lines of figures (runs like "3333", decimals, dates) for a
    # merged or dropped digit to show, without reading a whole page.
    lines = page.info["source_text"].splitlines()[:14]
    # Cut where the 15th line starts (none of it shows), on white paper below as on the page.
    cut = page.crop((0, 0, page.width, 100 + len(lines) * int(font_px * line_spacing)))
    top = Image.new(page.mode, (page.width, cut.height + 2 * font_px), 255)
    top.paste(cut)
    text = recognise_image(top)
    assert digits(text) == digits("\n".join(lines))
    source = matching_key("\n".join(lines))
    assert Levenshtein.distance(matching_key(text), source) <= 0.01 * len(source)


def test_ink_height_is_the_line_not_the_edges_of_its_neighbours() -> None:
    # Closely spaced small type: the crop also holds the feet of the line above and the heads
    # of the line below, apart from the line by blank rows.
    line = line_crop(LINE, font_px=20, margin=8)
    crop = line.copy()
    crop[:3, 20:400] = 0
    crop[-3:, 20:400] = 0
    assert abs(_ink_height(crop) - _ink_height(line)) <= 1 < _ink_height(line) <= 20


def test_small_type_page_keeps_every_digit() -> None:
    """20 px type (a 150-dpi scan of 10 pt), lines 1.5 type sizes apart: a whole page of figures."""
    assert CJK_FONT is not None
    page = render_text_pages(number_dense_text(paragraphs=200, seed=120), CJK_FONT, font_px=20, max_pages=1)[
        0
    ]
    source = page.info["source_text"]
    text = recognise_image(page)
    assert digits(text) == digits(source)
    assert Levenshtein.distance(matching_key(text), matching_key(source)) <= 0.005 * len(source)
