"""Which numbers a Chinese text states: the check that a metric's value is in its evidence.

Understands (here and through `extractor.numbers.parse_chinese_number`) Arabic numerals (with thousands separators and decimals), Chinese numerals
(三, 二十三, 一百零五, 两千), the multipliers 十/百/千/万/亿 after a number (4万, 1.2亿, 340余万),
and the approximators 余/多/逾/近/约 (dropped from the value, as the spec says). Candidates are
generous on purpose (both 4 and 40000 for 4万): the check guards against invented numbers,
not against unit conventions.
"""

from __future__ import annotations

import math
import re

from extractor.normalise import matching_key
from extractor.numbers import parse_chinese_number

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_ARABIC_RE = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)([余多逾]?)((?:十|百|千)?(?:万亿|万|亿))?")
_CHINESE_RE = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")


def _multiplier(word: str | None) -> int:
    if not word:
        return 1
    value = 1
    for ch in word:
        value *= _SMALL_UNITS.get(ch, 1) * _BIG_UNITS.get(ch, 1)
    return value


def parse_chinese_numeral(token: str) -> int | None:
    """Value of a Chinese numeral such as 二十三 / 一百零五 / 两千 / 三万五千; None if not one."""
    if not token or any(
        ch not in _DIGITS and ch not in _SMALL_UNITS and ch not in _BIG_UNITS for ch in token
    ):
        return None
    total, section, digit = 0, 0, None
    for ch in token:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit = None
        else:
            section += digit or 0
            total = (total + section) * _BIG_UNITS[ch] if section or total else _BIG_UNITS[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


def numbers_in(text: str) -> set[float]:
    """Every value `text` can be read as stating (see module doc), after NFKC normalisation."""
    key = matching_key(text)
    found: set[float] = set()
    for match in _ARABIC_RE.finditer(key):
        digits = match.group(1)
        base = float(digits.replace(",", ""))
        found.add(base)
        _add_parsed(found, digits + (match.group(3) or ""))
        if "," in digits:
            # NFKC turns the Chinese comma into ","; "37，310" may be two numbers, not one.
            found.update(float(part) for part in digits.split(",") if part)
        found.add(base * _multiplier(match.group(3)))
    for match in _CHINESE_RE.finditer(key):
        token = match.group(0)
        # 一是 / 二是 markers and 万 alone are words, not amounts; parsing them only adds
        # small harmless candidates, so no special case is needed.
        value = parse_chinese_numeral(token)
        if value is not None:
            found.add(float(value))
        _add_parsed(found, token)
    return found


def _add_parsed(found: set[float], token: str) -> None:
    # The project's parser also reads colloquial forms (一千二 = 1200); its reading joins ours.
    value = parse_chinese_number(token)
    if value is not None:
        found.add(float(value))


def value_in_text(value: float, text: str) -> bool:
    """True if `text` states `value` (tolerant to float rounding)."""
    return any(math.isclose(value, candidate, rel_tol=1e-9, abs_tol=1e-9) for candidate in numbers_in(text))
