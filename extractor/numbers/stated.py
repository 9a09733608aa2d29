"""Which numbers a Chinese text states: the one check that a metric's value is in its evidence.

Used by validation (flags), the LLM response models (re-ask), the gold validator and the
review app. Understands Arabic numerals (thousands separators, decimals, full-width forms),
Chinese numerals (三, 二十三, 一百零五, 两千, 一万二千), the multipliers 十/百/千/万/亿 after a
number (4万, 1.2亿, 340余万), percentages (86％, 百分之九十) and the approximators
余/多/逾/近/约 (dropped from the value, as the spec says). Candidates are generous on purpose
(both 4 and 40000 for 4万): the check guards against invented numbers, not unit conventions.
"""

from __future__ import annotations

import math
import re

from extractor.core.normalise import matching_key
from extractor.core.script import to_simplified
from extractor.numbers.metrics import find_metrics
from extractor.numbers.numerals import (
    CN_DIGIT_CHARS,
    CN_NUMERAL_CHARS,
    multiplier_value,
    parse_chinese_number,
)

_ARABIC = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)([余多逾]?)((?:十|百|千)?(?:万亿|万|亿)|千)?")
_CHINESE = re.compile(rf"[{CN_NUMERAL_CHARS}]+")
_CN_DIGIT = re.compile(rf"[{CN_DIGIT_CHARS}]|^十")


def numbers_in(text: str) -> set[float]:
    """Every value `text` can be read as stating (see module doc), after NFKC normalisation."""
    return _plain_numbers(text) | {float(m.value) for m in find_metrics(text)}


def _plain_numbers(text: str) -> set[float]:
    key = matching_key(to_simplified(text))  # 兩千餘 and 四十二萬 read as 两千余, 四十二万
    found: set[float] = set()
    for match in _ARABIC.finditer(key):
        digits = match.group(1)
        base = float(digits.replace(",", ""))
        found.add(base)
        found.add(base * multiplier_value(match.group(3) or ""))
        if "," in digits:
            # NFKC turns the Chinese comma into ","; "37，310" may be two numbers, not one.
            found.update(float(part) for part in digits.split(",") if part)
    for match in _CHINESE.finditer(key):
        token = match.group(0)
        if not _CN_DIGIT.search(token):
            continue  # 百 in 百分之, 千万 as an adverb: no digit, no amount
        value = parse_chinese_number(token)
        if value is not None:
            found.add(float(value))
    return found


def _stands_alone(digits: str, text: str) -> bool:
    """Whether `digits` occurs in `text` not inside a longer number: no digit or point just
    before it, no digit (nor a point and a digit) just after. The same test as the regex
    `(?<![\\d.])DIGITS(?![\\d]|\\.\\d)` (\\d: any Unicode decimal digit, str.isdecimal), without
    compiling a pattern per value: every report states different values."""
    end_of_text = len(text)
    start = text.find(digits)
    while start >= 0:
        end = start + len(digits)
        before = text[start - 1] if start else ""
        after = text[end : end + 2]
        if not (before == "." or before.isdecimal()) and not (
            after[:1].isdecimal() or (after[:1] == "." and after[1:2].isdecimal())
        ):
            return True
        if end >= end_of_text:
            return False
        start = text.find(digits, start + 1)
    return False


def value_in_text(value: float, text: str) -> bool:
    """True if `text` states `value` (relative tolerance 1e-6)."""

    def close(candidate: float) -> bool:
        return math.isclose(value, candidate, rel_tol=1e-6, abs_tol=1e-9)

    # Fast path: the value written out in plain digits, not part of a longer number.
    plain = f"{value:.12g}"
    if "e" not in plain and _stands_alone(plain, text):
        return True
    # Plain numerals settle almost every case; the metric parser reads the rest (百分之九十).
    return any(map(close, _plain_numbers(text))) or any(close(float(m.value)) for m in find_metrics(text))
