"""Reading the numbers a metric's evidence states (Arabic, Chinese numerals, 万/亿, %)."""

from __future__ import annotations

import pytest

from extractor.numbers.stated import numbers_in, value_in_text


@pytest.mark.parametrize(
    ("evidence", "value"),
    [
        ("成功率为86％", 86),
        ("涉案金额约8万元", 80000),
        ("宣传资料4万余份", 40000),
        ("避免经济损失340余万元", 3400000),
        ("参考合格率64.6%", 64.6),
        ("共有行政执法人员1,002人", 1002),
        ("开展三堂课", 3),
        ("结对二十三个", 23),
        ("一百零五件", 105),
        ("两千人次", 2000),
        ("投入1.2亿元", 120000000),
        ("办结率3%以内", 3),
        ("受理行政复议案件37件", 37),
    ],
)
def test_value_is_found_in_its_evidence(evidence: str, value: float) -> None:
    assert value_in_text(value, evidence)


@pytest.mark.parametrize(
    ("evidence", "value"),
    [("受理行政复议案件37件", 38), ("成功率为86％", 0.86), ("约8万元", 800000), ("开展三堂课", 4)],
)
def test_invented_value_is_not_found(evidence: str, value: float) -> None:
    assert not value_in_text(value, evidence)


def test_full_width_digits_are_read() -> None:
    assert 37 in numbers_in("受理案件３７件")
