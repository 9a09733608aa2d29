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
    """METRIC_RE as it was written before the fast paths: every unit a plain alternative,
    every run of digits or numerals a plain (backtracking) repeat."""
    plain = "|".join(re.escape(unit) for unit in vocabulary.UNITS)
    fast = vocabulary.unit_alternation(vocabulary.UNITS)
    assert vocabulary.METRIC_RE.pattern.count(fast) == 4
    assert vocabulary.METRIC_RE.pattern.count("]++") == 2 and vocabulary.METRIC_RE.pattern.count("d++") == 2
    return re.compile(vocabulary.METRIC_RE.pattern.replace(fast, plain).replace("++", "+"))


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


_PLAIN_BOUNDARY_RE = re.compile(r"[。;:!?、]|(?<!\d),|,(?!\d{3}(?!\d))|\.(?!\d)")
_PLAIN_LAST_BOUNDARY_RE = re.compile(rf"(?s:.*)(?:{_PLAIN_BOUNDARY_RE.pattern})")
_CLAUSE_TEXT = st.text(alphabet="0123456789,.。;:!?、\n人件年达", max_size=24)


@settings(max_examples=500, deadline=None)
@given(_CLAUSE_TEXT, st.integers(0, 24), st.integers(0, 24))
def test_boundary_patterns_find_what_the_lookbehind_first_patterns_find(
    text: str, pos: int, endpos: int
) -> None:
    assert [m.span() for m in vocabulary.BOUNDARY_RE.finditer(text, pos, endpos)] == [
        m.span() for m in _PLAIN_BOUNDARY_RE.finditer(text, pos, endpos)
    ]
    fast = vocabulary.LAST_BOUNDARY_RE.match(text, pos, endpos)
    plain = _PLAIN_LAST_BOUNDARY_RE.match(text, pos, endpos)
    assert (fast and fast.span()) == (plain and plain.span())


_ENDINGS = [
    vocabulary.TRAILING_NOISE_RE,
    vocabulary.PREPOSITIONED_BEFORE_RE,
    vocabulary.SHARED_VALUE_BEFORE_RE,
    vocabulary.RESPECTIVELY_BEFORE_RE,
]
# Every character the end-anchored patterns are written with, and a few they are not.
_ENDING_CHARS = (
    "".join(sorted({ch for e in _ENDINGS for ch in e.regex.pattern if ord(ch) > 0x2E80})) + "\n人x"
)


@pytest.mark.parametrize("ending", _ENDINGS)
def test_every_end_anchored_pattern_knows_its_last_characters(ending: vocabulary.Ending) -> None:
    assert ending.last  # none falls back to the regex on every call


@settings(max_examples=1000, deadline=None)
@given(
    st.sampled_from(_ENDINGS),
    st.text(alphabet=_ENDING_CHARS, max_size=12),
    st.integers(0, 12),
    st.integers(0, 12),
)
def test_ending_search_answers_as_the_regex_does(
    ending: vocabulary.Ending, text: str, start: int, end: int
) -> None:
    found = ending.search(text, start, end)
    plain = ending.regex.search(text, max(start, min(end, len(text)) - ending.reach - 1), min(end, len(text)))
    assert (found and found.span()) == (plain and plain.span())


def test_last_characters_give_up_where_any_character_may_end_a_match() -> None:
    from extractor.numbers.pattern_ends import last_characters

    assert last_characters(re.compile(r"(?:共|合计)(?:达)?$")) == frozenset("共计达")
    assert last_characters(re.compile(r"[^a]$")) is None
    assert last_characters(re.compile(r"a?$")) is None
    assert last_characters(re.compile(r"\d$")) is None
