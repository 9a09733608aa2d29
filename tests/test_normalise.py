"""`normalise` is NFKC character by character with an exact map back to the original."""

from __future__ import annotations

import unicodedata
from bisect import bisect_left

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.core.document import normalised_view
from extractor.core.normalise import is_verbatim, matching_key, normalise, without_whitespace

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _per_character(text: str, *, drop_whitespace: bool, keep_circled: bool) -> tuple[str, list[int]]:
    """The definition, one character at a time: ASCII and the ellipsis as they are, ① kept
    when asked, everything else NFKC; whitespace dropped when asked."""
    out: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        kept = ch.isascii() or ch == "…" or (keep_circled and ch in _CIRCLED)
        for produced in ch if kept else unicodedata.normalize("NFKC", ch):
            if drop_whitespace and produced.isspace():
                continue
            out.append(produced)
            origin.append(index)
    return "".join(out), origin


_REPORT_CHARS = st.sampled_from(
    list(
        "受理案件１２３，。、；：（）“”《》…—①⑳㈠⒈℃㎡ﬁＡａ～　 \t\n\r\u00a0\u2002\u200b\ufeff\u0301é·〔〕ab19%"
    )
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(_REPORT_CHARS)), st.booleans(), st.booleans())
def test_normalise_is_nfkc_per_character_with_offsets(text: str, drop: bool, keep_circled: bool) -> None:
    norm = normalise(text, drop_whitespace=drop, keep_circled=keep_circled)
    expected_text, expected_origin = _per_character(text, drop_whitespace=drop, keep_circled=keep_circled)
    assert norm.text == expected_text
    assert list(norm.origin) == expected_origin
    assert norm.original_length == len(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(_REPORT_CHARS)), st.booleans(), st.booleans())
def test_dropping_whitespace_from_a_view_equals_normalising_without_it(
    text: str, keep_circled: bool, read_circled: bool
) -> None:
    # The whitespace-free view the stages share is made from the one segmentation reads.
    kept = normalise(text, keep_circled=keep_circled)
    derived = without_whitespace(kept, read_circled=keep_circled and read_circled)
    direct = normalise(text, drop_whitespace=True, keep_circled=keep_circled and not read_circled)
    assert (derived.text, list(derived.origin), derived.original_length) == (
        direct.text,
        list(direct.origin),
        direct.original_length,
    )
    for circled in (False, True):
        shared = normalised_view(text, drop_whitespace=True, keep_circled=circled)
        expected = normalise(text, drop_whitespace=True, keep_circled=circled)
        assert (shared.text, list(shared.origin)) == (expected.text, list(expected.origin))


@settings(max_examples=200, deadline=None)
@given(st.text(_REPORT_CHARS), st.integers(0, 40), st.integers(0, 40))
def test_a_slice_of_a_view_is_the_view_of_the_slice(text: str, a: int, b: int) -> None:
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    sliced = normalise(text, drop_whitespace=True).of_slice(start, end)
    alone = normalise(text[start:end], drop_whitespace=True)
    assert (sliced.text, list(sliced.origin), sliced.original_length) == (
        alone.text,
        list(alone.origin),
        alone.original_length,
    )
    # Read as the finders read it: by index from either end, by slice, mapped back, bisected.
    origin, expected = sliced.origin, alone.origin
    assert len(origin) == len(expected)
    if expected:
        assert (origin[-1], origin[0]) == (expected[-1], expected[0])
        assert origin[1:3] == list(expected[1:3])
        assert sliced.to_original(0, len(expected)) == alone.to_original(0, len(expected))
        assert bisect_left(origin, expected[-1]) == bisect_left(expected, expected[-1])
    with pytest.raises(IndexError):
        origin[len(expected)]


def test_report_punctuation_and_markers() -> None:
    text = "一、受理１２件，\n　达９５％…㈠①"
    assert normalise(text).text == "一、受理12件,\n 达95%…(一)1"
    dropped = normalise(text, drop_whitespace=True, keep_circled=True)
    assert dropped.text == "一、受理12件,达95%…(一)①"
    # "(一)" came from the one character ㈠: all three map back to it.
    at = dropped.text.index("(一)")
    assert dropped.to_original(at, at + 3) == (text.index("㈠"), text.index("㈠") + 1)


def _verbatim_by_keys(passage: str, source: str) -> bool:
    key = matching_key(passage)
    return bool(key) and key in matching_key(source)


# Characters that keying treats specially: full-width forms, the ellipsis (three dots), an
# ideographic space, a combining accent (composes with the letter before it), tabs.
_TRICKY = "办理案件１２３件，…e\u0301\u3000\t \n《》“”%"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_TRICKY, max_size=14), st.integers(0, 14), st.integers(0, 14))
def test_is_verbatim_answers_as_the_keys_do(source: str, start: int, length: int) -> None:
    """The shortcut for a passage written as part of the source gives the keys' answer,
    also where keying composes characters across the passage's edge (e + ◌́ → é)."""
    passage = source[start : start + length]
    assert is_verbatim(passage, source) == _verbatim_by_keys(passage, source)
    assert is_verbatim(passage + "e", source) == _verbatim_by_keys(passage + "e", source)


def test_is_verbatim_of_a_letter_composed_in_the_source_is_false() -> None:
    source = "Cafe\u0301开放"  # keyed: Café开放
    assert not is_verbatim("Cafe", source)
    assert is_verbatim("开放", source)
    assert not is_verbatim(" \n", "案件 \n办理")
