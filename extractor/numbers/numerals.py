"""Chinese numerals: the one parser behind metrics, the stated-number check and list markers.

`parse_chinese_number` reads a whole number as written in report text (Arabic, Chinese or
mixed); `parse_cn_integer` reads a bare Chinese integer numeral; `multiplier_value` gives the
factor a run of unit characters (十万, 千万亿) stands for. The character sets here are the ones
the metric patterns in `extractor.numbers.vocabulary` are built from, so what a pattern
matches is what the parser can read.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from extractor.core.script import to_simplified

__all__ = [
    "CN_DIGITS",
    "CN_DIGIT_CHARS",
    "CN_NUMERAL_CHARS",
    "MULTIPLIERS",
    "MULTIPLIER_ALTERNATION",
    "as_number",
    "multiplier_value",
    "parse_chinese_number",
    "parse_cn_integer",
]

#: Value of each Chinese digit, including the zeros 零/〇 and the counting form 两.
CN_DIGITS: dict[str, int] = {
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
_CN_ZEROS = "零〇"
# Units inside a section (一千二百) and units that close one (一万 / 一亿).
_CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_CN_UNITS = _CN_SMALL_UNITS | _CN_BIG_UNITS

CN_DIGIT_CHARS = "".join(CN_DIGITS)
CN_NUMERAL_CHARS = CN_DIGIT_CHARS + "".join(_CN_UNITS)

#: Multipliers written after Arabic digits and folded into the value: 4万 -> 40000.
MULTIPLIERS: dict[str, int] = {
    "百": 100,
    "千": 1_000,
    "万": 10_000,
    "百万": 1_000_000,
    "千万": 10_000_000,
    "亿": 100_000_000,
    "万亿": 1_000_000_000_000,
}

#: Regex alternation of `MULTIPLIERS`, longest first so that 千万 is not read as 千 + 万.
MULTIPLIER_ALTERNATION = "|".join(sorted(MULTIPLIERS, key=len, reverse=True))
_ARABIC_WITH_MULTIPLIER_RE = re.compile(rf"(\d+(?:\.\d+)?)({MULTIPLIER_ALTERNATION})?")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_CN_NUMBER_RE = re.compile(rf"[{CN_NUMERAL_CHARS}]+(?:点[{CN_DIGIT_CHARS}]+)?")


def as_number(value: Decimal) -> int | float:
    """Integral values become `int` so 603.85万 compares equal to 6038500."""
    return int(value) if value == value.to_integral_value() else float(value)


def multiplier_value(units: str) -> int:
    """The factor a run of unit characters stands for: 十万 -> 100000, "" -> 1.

    Raises KeyError for a character that is not one of 十百千万亿.
    """
    value = 1
    for ch in units:
        value *= _CN_UNITS[ch]
    return value


def parse_cn_integer(s: str) -> int | None:
    """Value of a Chinese integer numeral (一百零五, 两千, 一万二千, 二〇二四), or None if it is
    not well formed (三三, 一两, 十四五: two digits with no unit between)."""
    if len(s) > 1 and all(ch in CN_DIGITS for ch in s):
        # 二〇二四 is read digit by digit; 三三 or 一两 (slogans, vague amounts) is no number.
        if not any(ch in _CN_ZEROS for ch in s):
            return None
        return int("".join(str(CN_DIGITS[ch]) for ch in s))
    total = section = number = 0
    pending = zero_since_unit = False
    last_unit = 0
    for ch in s:
        if ch in CN_DIGITS:
            if pending:  # two digits with no unit between are not one number
                return None
            if ch in _CN_ZEROS:
                zero_since_unit = True
                continue
            number, pending = CN_DIGITS[ch], True
        elif ch in _CN_SMALL_UNITS:
            unit = _CN_SMALL_UNITS[ch]
            section += (number if pending else 1) * unit
            number, pending, last_unit, zero_since_unit = 0, False, unit, False
        elif ch in _CN_BIG_UNITS:
            unit = _CN_BIG_UNITS[ch]
            if ch == "亿":
                total = (total + section + number) * unit
            else:
                total += (section + number or 1) * unit
            section = number = 0
            pending, last_unit, zero_since_unit = False, unit, False
        else:
            return None
    if pending and last_unit and not zero_since_unit:
        # 一千二 is 1200 and 三万五 is 35000: a trailing digit takes the next lower unit.
        number *= last_unit // 10
    return total + section + number


def parse_chinese_number(s: str) -> int | float | None:
    """Value of a number written in Arabic digits, Chinese numerals or a mix; None if unparseable.

    Handles full-width digits, thousands separators (1,002), decimals, 万/亿 multipliers
    (3.5亿 -> 350000000), 两, colloquial 一千二 (1200), 点 decimals (三点五万 -> 35000) and
    百分之 (95). Integral results are `int`.
    """
    text = "".join(unicodedata.normalize("NFKC", s).split())
    text = text.removeprefix("百分之")
    if not text:
        return None
    text = _THOUSANDS_RE.sub("", text)
    match = _ARABIC_WITH_MULTIPLIER_RE.fullmatch(text)
    if match:
        return as_number(Decimal(match.group(1)) * MULTIPLIERS.get(match.group(2) or "", 1))
    multiplier = 1
    if "点" in text and text[-1] in "万亿":  # 三点五万 = 3.5 × 10,000
        multiplier, text = MULTIPLIERS[text[-1]], text[:-1]
    if not _CN_NUMBER_RE.fullmatch(text):
        return None
    integer_part, _, fraction = text.partition("点")
    integer = parse_cn_integer(integer_part)
    if integer is None:
        return None
    if not fraction:
        return integer
    try:
        value = Decimal(f"{integer}.{''.join(str(CN_DIGITS[ch]) for ch in fraction)}")
    except (KeyError, InvalidOperation):
        return None
    return as_number(value * multiplier)


def unit_as_written(unit: str, text: str) -> str:
    """`unit` in the script `text` writes it in (個 in a traditional report, 个 in a simplified
    one): the slice of `text` that reads as `unit` through the one-to-one traditional→
    simplified mapping; `unit` itself when `text` has it as given or not at all."""
    if unit in text:
        return unit
    at = to_simplified(text).find(to_simplified(unit))
    return text[at : at + len(unit)] if at >= 0 else unit
