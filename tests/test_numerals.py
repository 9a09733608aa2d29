"""The one Chinese-numeral parser (numbers/numerals.py) and what each caller relies on."""

from __future__ import annotations

import pytest

from extractor.numbers.metrics import parse_chinese_number
from extractor.numbers.numerals import multiplier_value, parse_cn_integer
from extractor.numbers.stated import numbers_in
from extractor.segment.enumeration import cn_ordinal


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("一千二百", 1200),
        ("一万二千", 12000),
        ("两", 2),
        ("十五", 15),
        ("十", 10),
        ("二十", 20),
        ("三万", 30000),
        ("一百零五", 105),
        ("一万零二百", 10200),
        ("一千二", 1200),  # colloquial: the trailing digit takes the next lower unit
        ("三万五", 35000),
        ("三十五万", 350000),
        ("一亿二千万", 120_000_000),
        ("二〇二四", 2024),
        ("三点五", 3.5),
        ("百分之九十五", 95),
        ("百分之百", 100),
        ("1,002", 1002),
        ("１，００２", 1002),
        ("3.5亿", 350_000_000),
        ("4万", 40000),
        ("603.85万", 6_038_500),
        ("35.3", 35.3),
        ("８６", 86),
    ],
)
def test_parse_chinese_number(written: str, expected: int | float) -> None:
    value = parse_chinese_number(written)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("written", ["", "abc", "三三", "一两", "万元", "第三"])
def test_parse_chinese_number_rejects_non_numbers(written: str) -> None:
    assert parse_chinese_number(written) is None


# --- the shared numeral parser, as each caller uses it ----------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("〇", 0),
        ("零", 0),
        ("一", 1),
        ("两", 2),
        ("十", 10),
        ("一十", 10),
        ("十一", 11),
        ("二十", 20),
        ("二十三", 23),
        ("九十九", 99),
        ("一百零五", 105),
        ("两千", 2000),
        ("一千零五", 1005),
        ("一千二", 1200),
        ("一万二千", 12000),
        ("三亿五千万", 350_000_000),
        ("二〇二四", 2024),
    ],
)
def test_parse_cn_integer(written: str, expected: int) -> None:
    assert parse_cn_integer(written) == expected


@pytest.mark.parametrize("written", ["三三", "一两", "十四五", "二十三四", "3", "万元"])
def test_parse_cn_integer_rejects_malformed_numerals(written: str) -> None:
    assert parse_cn_integer(written) is None


@pytest.mark.parametrize(
    ("written", "expected"),
    [("三点五万", 35000), ("〇", 0), ("两", 2), ("两千", 2000), ("一百零五", 105), ("十一", 11)],
)
def test_parse_chinese_number_reads_what_the_metric_finder_passes(written: str, expected: int) -> None:
    assert parse_chinese_number(written) == expected


_ONES = "一二三四五六七八九"


def _standard_numeral(n: int) -> str:
    tens, ones = divmod(n, 10)
    if not tens:
        return _ONES[ones - 1]
    return ("" if tens == 1 else _ONES[tens - 1]) + "十" + (_ONES[ones - 1] if ones else "")


@pytest.mark.parametrize("n", range(1, 100))
def test_list_marker_numerals_read_as_their_ordinal(n: int) -> None:
    assert cn_ordinal(_standard_numeral(n)) == n


@pytest.mark.parametrize("marker", ["三三", "十四五"])
def test_a_malformed_marker_numeral_has_no_ordinal(marker: str) -> None:
    assert cn_ordinal(marker) == 0


@pytest.mark.parametrize(
    ("units", "expected"),
    [("", 1), ("千", 1000), ("万", 10_000), ("十万", 100_000), ("千万", 10_000_000), ("万亿", 10**12)],
)
def test_multiplier_value(units: str, expected: int) -> None:
    assert multiplier_value(units) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("受理案件一百零五件", 105.0),
        ("培训两千人次", 2000.0),
        ("覆盖一万二千户", 12000.0),
        ("投入340余万元", 3_400_000.0),
        ("化解1.2亿元", 120_000_000.0),
        ("建成二十三个", 23.0),
    ],
)
def test_numbers_in_reads_chinese_and_multiplied_numbers(text: str, value: float) -> None:
    assert value in numbers_in(text)


# --- find_metrics: what counts --------------------------------------------------------------
