"""The metric finder's fast paths give what the plain computations they replace give."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.numbers import vocabulary
from extractor.numbers.numerals import CN_NUMERAL_CHARS

# What numbers, units and their surroundings are made of in a report (normalised), so that
# generated text holds numbers followed by units, by longer units' prefixes and by neither.
_UNIT_CHARS = "".join(sorted({ch for unit in vocabulary.UNITS for ch in unit}))
_METRIC_TEXT = st.text(
    alphabet="0123456789,.%余多()年是的，。、" + CN_NUMERAL_CHARS + _UNIT_CHARS, max_size=30
)


def _plain_metric_re() -> re.Pattern[str]:
    """METRIC_RE with every unit a plain alternative, as it was written before the fast path."""
    plain = "|".join(re.escape(unit) for unit in vocabulary.UNITS)
    fast = vocabulary.unit_alternation(vocabulary.UNITS)
    assert vocabulary.METRIC_RE.pattern.count(fast) == 4
    return re.compile(vocabulary.METRIC_RE.pattern.replace(fast, plain))


_PLAIN_METRIC_RE = _plain_metric_re()


@settings(max_examples=500, deadline=None)
@given(_METRIC_TEXT)
def test_metric_pattern_with_unit_class_matches_as_the_plain_alternation(text: str) -> None:
    fast = [(m.span(), m.groupdict()) for m in vocabulary.METRIC_RE.finditer(text)]
    plain = [(m.span(), m.groupdict()) for m in _PLAIN_METRIC_RE.finditer(text)]
    assert fast == plain


def test_unit_alternation_takes_the_longest_unit_and_keeps_order_checked() -> None:
    pattern = re.compile(f"(?:{vocabulary.unit_alternation(vocabulary.UNITS)})")
    assert pattern.match("人次").group() == "人次"
    assert pattern.match("个百分点").group() == "个百分点"
    assert pattern.match("个月").group() == "个"
    assert pattern.match("年") is None
    with pytest.raises(ValueError, match="single-character"):
        vocabulary.unit_alternation(("人", "人次"))
