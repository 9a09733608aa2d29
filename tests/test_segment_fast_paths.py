"""The segmenter's fast paths give what the plain computations they replace give.

Each shortcut (a pattern restructured so the regex engine can skip ahead, a cheap test that
answers before a pattern is tried, the kind model's scores summed from one table) is compared
with the straightforward form on generated text, so the segmentation of any report stays the
same, not only of the reports at hand.
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.core.script import to_simplified
from extractor.segment import enumeration, headings, kind_model, points, sections
from extractor.segment.kind_model import KindModel, char_ngrams, keyword_features, load_kind_model, model_text

# Numerals, brackets, digits (an Arabic-Indic one too), every boundary, several kinds of
# whitespace, the words the shortcuts look for and plain text around them.
_MARKER_CHARS = "一二三五十是的否(（)）12٣、.。；;:：！!？?，, \t\n\u3000\xa0\u2028x法治第①⑩"
_REMARK_CHARS = "对此为总之的来看今后。!！\n 工作x"
_REPORT_CHARS = (
    "工作计划安排打算思路如下存在不足问题短板下一步今后将要以下年度2025：:，。；印发联系电话抄送附件 "
)

_INLINE_BY_LOOKBEHIND = re.compile(
    r"(?<=[。；;:：！!？?，,\s])(?:"
    r"(?P<shi>[一二三四五六七八九十]{1,3}是)(?![的否])"
    r"|[(（](?P<pcn>[一二三四五六七八九十]{1,3})[)）]"
    r"|(?P<num>\d{1,2})(?:、|\.(?!\d))"
    r"|[(（](?P<pnum>\d{1,2})[)）]"
    r")"
)


@settings(max_examples=500, deadline=None)
@given(st.text(_MARKER_CHARS, max_size=40), st.integers(0, 40), st.integers(0, 40))
def test_inline_markers_are_those_the_lookbehind_pattern_finds(text: str, start: int, stop: int) -> None:
    found = [
        (at, boundary, m.group()[1:], m.lastgroup, m.end())
        for at, boundary, m in enumeration.inline_markers(text, start, stop)
    ]
    expected = [
        (m.start(), text[m.start() - 1], m.group(), m.lastgroup, m.end())
        for m in _INLINE_BY_LOOKBEHIND.finditer(text, start + 1, stop)
    ]
    assert found == expected


def test_the_spelled_out_whitespace_is_what_backslash_s_matches() -> None:
    whitespace = re.compile(r"\s")
    every = (chr(code) for code in range(sys.maxunicode + 1))
    assert {c for c in every if whitespace.match(c)} == set(enumeration.WHITESPACE)
    assert all(c.isspace() for c in enumeration.WHITESPACE)


@settings(max_examples=500, deadline=None)
@given(st.text(_MARKER_CHARS, max_size=12), st.integers(0, 14))
def test_marker_at_start_is_the_pattern_match(text: str, pos: int) -> None:
    mine, plain = enumeration.marker_at_start(text, pos), enumeration._INITIAL.match(text, pos)
    assert (mine and (mine.span(), mine.lastgroup)) == (plain and (plain.span(), plain.lastgroup))


@settings(max_examples=300, deadline=None)
@given(st.text(_MARKER_CHARS, max_size=100), st.integers(0, 100), st.integers(0, 100))
def test_title_between_is_the_title_of_the_slice(text: str, start: int, stop: int) -> None:
    assert enumeration.title_between(text, start, stop) == enumeration.title_of(text[start:stop])


@settings(max_examples=500, deadline=None)
@given(st.text(_REMARK_CHARS, max_size=40), st.integers(0, 40), st.integers(0, 40))
def test_trailing_remark_is_the_pattern_search(text: str, a: int, b: int) -> None:
    mine, plain = points.trailing_remark(text, a, b), points._TRAILING_REMARK.search(text, a, b)
    assert (mine and mine.span()) == (plain and plain.span())


@settings(max_examples=300, deadline=None)
@given(st.text(_REPORT_CHARS, max_size=80))
def test_the_colon_checks_answer_as_the_patterns_would(text: str) -> None:
    # Each pattern skipped for a text without a colon could not match one.
    if not headings.has_colon(text):
        for pattern in (
            sections._PLANS_INTRO,
            sections._RUN_IN_LABEL,
            sections._PROBLEMS_RUN_IN,
            headings._PLANS_RUN_IN,
        ):
            assert pattern.search(text) is None
    plain_end_matter = bool(
        headings.END_MATTER_OPENING.match(text) or headings.END_MATTER_ANYWHERE.search(text)
    )
    assert headings.is_end_matter(text) == plain_end_matter


def _decision_term_by_term(model: KindModel, text: str) -> list[float]:
    """The kind model's scores as first written: each n-gram's idf and row of weights looked
    up in tables keyed by the n-gram, the weights summed over weighted n-grams only."""
    width = len(model.classes)
    idf = dict(zip(model.terms, model.idf, strict=True))
    weights = {
        term: tuple(model.weights[i * width : (i + 1) * width])
        for i, term in enumerate(model.terms[: model.weighted_terms])
    }
    idf_squared = {term: value * value for term, value in idf.items()}
    view = re.sub(r"\s+", "", to_simplified(text))
    by_count: dict[int, list[str]] = {}
    for term, count in Counter(filter(idf.__contains__, char_ngrams(view, *model.ngram_range))).items():
        by_count.setdefault(count, []).append(term)
    sums = [0.0] * width
    squares = 0.0
    for count, terms in by_count.items():
        tf = 1.0 + math.log(count)
        squares += tf * tf * sum(map(idf_squared.__getitem__, terms))
        rows = [weights[term] for term in terms if term in weights]
        if rows:
            sums = [
                s + tf * column for s, column in zip(sums, map(sum, zip(*rows, strict=True)), strict=True)
            ]
    norm = math.sqrt(squares) or 1.0
    keywords = keyword_features(text)
    return [
        intercept + total / norm + sum(w * k for w, k in zip(kw, keywords, strict=True))
        for intercept, total, kw in zip(model.intercepts, sums, model.keyword_weights, strict=True)
    ]


_KIND_MODEL = load_kind_model()
# Characters of the model's own vocabulary (so n-grams it weighs, repeated ones too), with
# whitespace and a traditional character or two.
_VOCABULARY_CHARS = sorted({c for term in (_KIND_MODEL.terms if _KIND_MODEL else []) for c in term})[:400]


@pytest.mark.skipif(_KIND_MODEL is None, reason="no kind model shipped")
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(_VOCABULARY_CHARS or ["x"]), st.sampled_from(" \n\u3000縣萬")),
        max_size=300,
    ).map("".join)
)
def test_kind_scores_are_the_same_floats_as_term_by_term(text: str) -> None:
    assert _KIND_MODEL is not None
    assert _KIND_MODEL.decision(text) == _decision_term_by_term(_KIND_MODEL, text)


@pytest.mark.skipif(_KIND_MODEL is None, reason="no kind model shipped")
def test_kind_scores_of_report_paragraphs_are_the_same_floats() -> None:
    assert _KIND_MODEL is not None
    text = "全年办理行政复议案件12件，纠正违法行为3起。下一步将持续推进执法规范化建设。存在执法力量薄弱的问题，究其原因是人员不足。"
    for cut in range(0, len(text), 7):
        assert _KIND_MODEL.decision(text[cut:]) == _decision_term_by_term(_KIND_MODEL, text[cut:])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.integers(0, 4), st.integers(0, 5))
def test_ngrams_made_in_c_are_char_ngrams(text: str, low: int, high: int) -> None:
    assert list(kind_model._ngrams(text, low, high)) == char_ngrams(text, low, high)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list(" \t\n\u3000\xa0\u2028\x1c\x85ab縣法")), max_size=30))
def test_model_text_drops_exactly_the_whitespace_the_pattern_drops(text: str) -> None:
    assert model_text(text) == re.sub(r"\s+", "", to_simplified(text))
