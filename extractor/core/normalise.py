"""Normalisation that keeps a map back to the original text.

Matching happens on NFKC text (full-width and half-width forms compare equal), optionally
with whitespace removed (the spec's definition of "verbatim"). Every normalised character
remembers the index of the original character it came from, so a match in normalised text
converts back to a span of the original.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import overload


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """`text` is the normalised string; `origin[i]` is the original index of `text[i]`."""

    text: str
    origin: Sequence[int]
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open normalised interval to the smallest covering original interval."""
        if start >= end:
            pos = self.origin[start] if start < len(self.origin) else self.original_length
            return pos, pos
        return self.origin[start], self.origin[end - 1] + 1

    def find(self, needle: str, start: int = 0) -> int:
        return self.text.find(needle, start)

    def of_slice(self, start: int, end: int) -> NormalisedText:
        """The view of the original `[start, end)` alone, offsets counted from `start`: what
        normalising that slice gives, since normalising is per character (a stage reading
        many passages of one document slices its view rather than normalising each)."""
        first, stop = bisect_left(self.origin, start), bisect_left(self.origin, end)
        return NormalisedText(
            self.text[first:stop], _ShiftedOrigin(self.origin, first, stop, start), end - start
        )


class _ShiftedOrigin(Sequence[int]):
    """`origin[first:stop]`, each less `shift`, read on demand: a passage's view is mostly
    searched, not mapped back (most passages state no figure), and the few offsets mapped
    cost less read one by one than the whole slice copied and shifted."""

    __slots__ = ("_base", "_first", "_length", "_shift")

    def __init__(self, base: Sequence[int], first: int, stop: int, shift: int) -> None:
        self._base, self._first, self._length, self._shift = base, first, max(0, stop - first), shift

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...
    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("origin index out of range")
        return self._base[self._first + index] - self._shift


# Characters normalised without looking at them one by one: those NFKC leaves alone (ASCII
# graphics, CJK unified ideographs, the common CJK punctuation; and the ellipsis, kept as
# one character) and the full-width ASCII forms, which map one to one (，→ , １→ 1).
_PLAIN = (
    r"!-~\u4e00-\u9fff\u3001\u3002\u201c\u201d\u2018\u2019\u300a\u300b\u3008-\u3011\u2014\u2026\uff01-\uff5e"
)


@cache
def _unplain() -> re.Pattern[str]:
    """Characters outside `_PLAIN`, whitespace included. Compiled on first use: the class is
    large (2 ms to compile) and a rules batch never drops whitespace."""
    return re.compile(f"[^{_PLAIN}]")


# When whitespace is kept, plain spaces and line breaks are plain too.
_UNPLAIN_BESIDES_SPACE = re.compile(f"[^{_PLAIN} \n]")
_FULLWIDTH = re.compile("[\uff01-\uff5e]")
_CIRCLED = frozenset("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳")


@lru_cache(maxsize=8192)
def _piece(ch: str, drop_whitespace: bool, keep_circled: bool) -> str:
    """What one character outside `_PLAIN` becomes: its NFKC form (ASCII as it is; ①
    kept with `keep_circled`, since NFKC would make the enumeration marker a bare "1"),
    without whitespace when `drop_whitespace`."""
    piece = ch if ch.isascii() or (keep_circled and ch in _CIRCLED) else unicodedata.normalize("NFKC", ch)
    if drop_whitespace:
        piece = "".join(c for c in piece if not c.isspace())
    return piece


def normalise(text: str, *, drop_whitespace: bool = False, keep_circled: bool = False) -> NormalisedText:
    """NFKC per character (so offsets stay exact), optionally dropping all whitespace.

    `keep_circled` leaves ①…⑳ as they are (for finding enumeration markers).
    Only the few characters outside `_PLAIN` (line breaks when whitespace is dropped, ①,
    ℃, no-break spaces) are visited one at a time; the stretches between them are copied
    whole, and full-width forms are then replaced per distinct character.
    """
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    for m in (_unplain() if drop_whitespace else _UNPLAIN_BESIDES_SPACE).finditer(text):
        at = m.start()
        if at > pos:
            out.append(text[pos:at])
            origin.extend(range(pos, at))
        piece = _piece(m.group(), drop_whitespace, keep_circled)
        out.append(piece)
        origin.extend([at] * len(piece))
        pos = at + 1
    out.append(text[pos:])
    origin.extend(range(pos, len(text)))
    normalised = "".join(out)
    # NFKC never produces a full-width form, so only the plain stretches hold any. Each one
    # found is replaced all through (a report has a few distinct ones, used hundreds of
    # times), and the search goes on from there: nothing before it is full-width any more.
    pos = 0
    while (wide := _FULLWIDTH.search(normalised, pos)) is not None:
        normalised = normalised.replace(wide.group(), chr(ord(wide.group()) - 0xFEE0))
        pos = wide.start()
    return NormalisedText(normalised, origin, len(text))


# Whitespace runs (what dropping whitespace removes from a normalised view) and, in a view
# that kept them, a circled number (which NFKC reads as a plain number) with the whitespace
# after it. Each opens with a character class, so that re skips to the next one in C.
_WHITESPACE_RUN = re.compile(r"[\s]\s*")
_CIRCLED_OR_WHITESPACE_RUN = re.compile(f"[\\s{''.join(sorted(_CIRCLED))}]\\s*")


def without_whitespace(view: NormalisedText, *, read_circled: bool = False) -> NormalisedText:
    """What `normalise(text, drop_whitespace=True)` gives, made from `view`, the same text
    normalised with whitespace kept: NFKC works per character, so dropping whitespace
    afterwards leaves the same characters with the same origins. `read_circled`: `view` kept
    ①…⑳ (`keep_circled`) and the result must not, so they are read as NFKC numbers.

    Cheaper than normalising again: the stretches between whitespace are copied whole,
    origins included, and the full-width pass is already done."""
    text, origin = view.text, view.origin
    out: list[str] = []
    kept: list[int] = []
    pos = 0
    for m in (_CIRCLED_OR_WHITESPACE_RUN if read_circled else _WHITESPACE_RUN).finditer(text):
        at = m.start()
        if at > pos:
            out.append(text[pos:at])
            kept.extend(origin[pos:at])
        if not text[at].isspace():  # a circled number: ⑩ is "10", both from the one character
            piece = unicodedata.normalize("NFKC", text[at])
            out.append(piece)
            kept.extend([origin[at]] * len(piece))
        pos = m.end()
    out.append(text[pos:])
    kept.extend(origin[pos:])
    return NormalisedText("".join(out), kept, view.original_length)


#: Strings up to this length have their matching key memoised (scoring keys the same item
#: texts, evidence and units many times); longer ones (whole reports) are keyed each time,
#: so the cache stays small.
_MEMOISED_KEY_MAX = 2_000


def matching_key(text: str) -> str:
    """The string that "verbatim" comparisons use: NFKC with all whitespace removed."""
    return _memoised_key(text) if len(text) <= _MEMOISED_KEY_MAX else _key(text)


#: Frequent characters NFKC changes in Chinese reports: full-width ASCII forms and
#: typographic spaces. See `_key`.
_COMPATIBILITY_CHAR = re.compile("[\xa0\u2000-\u200a\u202f\u205f\u3000\uff01-\uff5e]")
#: Texts at least this long take `_key`'s pre-pass; on short ones it costs more than it saves.
_PREPASS_MIN_LENGTH = 256
#: With more distinct such characters than this, one replace per character costs too much.
_PREPASS_MAX_DISTINCT = 24


def _key(text: str) -> str:
    if len(text) >= _PREPASS_MIN_LENGTH and not text.isascii():
        # One full-width comma sends unicodedata's NFKC down its slow path (decompose and
        # recompose every character of a whole report). Replacing each such character by
        # its full compatibility decomposition (NFKD) leaves the NFKC of the text unchanged
        # (NFKC is the composition of the NFKD, which this replacement does not alter), and
        # usually lets NFKC's quick check return the text as it is.
        found = set(_COMPATIBILITY_CHAR.findall(text))
        if len(found) <= _PREPASS_MAX_DISTINCT:
            for char in found:
                text = text.replace(char, unicodedata.normalize("NFKD", char))
    # str.split() and the regex \s split on the same characters (str.isspace); join is faster.
    return "".join(unicodedata.normalize("NFKC", text).split())


_memoised_key = lru_cache(maxsize=65_536)(_key)


def clear_caches() -> None:
    """Forget every memoised key, bigram multiset and similarity (benchmarks measuring cold runs)."""
    _memoised_key.cache_clear()
    _bigrams.cache_clear()
    _memoised_dice.cache_clear()
    _keyed_per_character.cache_clear()


def is_verbatim(passage: str, source: str) -> bool:
    """True if `passage` is a substring of `source` after NFKC + whitespace removal (spec)."""
    if passage in source and passage.strip() and _keyed_per_character(source):
        # Keying such a source maps each character on its own, so a part of it as written
        # is a part of its key (and a passage with more than whitespace keys to something):
        # the answer the keys would give, without NFKC-ing either.
        return True
    key = matching_key(passage)
    return bool(key) and key in matching_key(source)


# Memoised: the metrics of one item ask it of the item's evidence in turn, and the scan costs
# more than the lookup (the string's hash is computed once and kept by the string).
@lru_cache(maxsize=256)
def _keyed_per_character(text: str) -> bool:
    """Whether `matching_key` maps `text` character by character: every character is one
    NFKC composes with nothing (`_PLAIN`: ASCII graphics, CJK ideographs and punctuation,
    full-width forms) or a plain space or line break, which keying drops."""
    return _UNPLAIN_BESIDES_SPACE.search(text) is None


@lru_cache(maxsize=8192)
def _bigrams(text: str) -> tuple[dict[str, int], int, bool]:
    """Bigram multiset of the matching key, its size, and whether no bigram repeats."""
    key = matching_key(text)
    # A one-character string has no bigram; its single character stands in, so "件" vs "件"
    # is identical rather than undefined.
    if len(key) <= 1:
        return ({key: 1}, 1, True) if key else ({}, 0, True)
    size = len(key) - 1
    if size < _SHORT_BIGRAMS:
        distinct = set(map(operator.add, key, key[1:]))
        if len(distinct) == size:  # the common case for names and item texts: no Counter
            return dict.fromkeys(distinct, 1), size, True
    # Passages repeat bigrams (法治, 建设 …): counted in one pass.
    counts = Counter(map(operator.add, key, key[1:]))
    return counts, size, len(counts) == size


#: Below this many bigrams a text usually repeats none (see `_bigrams`).
_SHORT_BIGRAMS = 64


def bigram_count(text: str | None) -> int:
    """The size of `text`'s bigram multiset (what `bigram_dice` divides by).

    Read off the key's length (n - 1 bigrams, a lone character counting as one), so bounding
    a similarity never builds the multiset."""
    length = len(matching_key(text or ""))
    return 1 if length == 1 else max(length - 1, 0)


def bigram_dice(a: str | None, b: str | None, *, floor: float = 0.0) -> float:
    """Character-bigram Dice coefficient (multiset) of the matching keys, in [0, 1].

    Two empty (or None) strings are identical (1.0); one empty string against a non-empty
    one is 0.0. Never raises on empty input. With `floor`, a result below `floor` may be
    returned as 0.0 without being computed (the size bound already rules it out).
    """
    a, b = a or "", b or ""
    if a == b and floor <= 1.0:
        return 1.0  # equal multisets: 2n / 2n, or two empty strings
    return _memoised_dice(a, b, floor)


@lru_cache(maxsize=65_536)
def _memoised_dice(a: str, b: str, floor: float) -> float:
    # Memoised: scoring compares the same item texts and metric names again and again.
    size_a, size_b = bigram_count(a), bigram_count(b)
    total = size_a + size_b
    if total == 0:
        return 1.0
    if 2.0 * min(size_a, size_b) / total < floor:
        return 0.0  # ruled out by the sizes alone: no multiset built
    (grams_a, _, unique_a), (grams_b, _, unique_b) = _bigrams(a), _bigrams(b)
    # The key-set intersection runs in C; when one side has no repeated bigram every shared
    # one counts once, otherwise shared bigrams need a Python-level min.
    shared = grams_a.keys() & grams_b.keys()
    if unique_a or unique_b:
        common = len(shared)
    else:
        common = sum(min(grams_a[gram], grams_b[gram]) for gram in shared)
    return 2.0 * common / total


def bigram_coverage(part: str | None, whole: str | None) -> float:
    """Share of `part`'s character bigrams (matching keys) that also occur in `whole`, in [0, 1].

    A summary drawn from a text covers most of its bigrams; an invented one covers few.
    An empty `part` is fully covered.
    """
    grams_part, size_part, _ = _bigrams(part or "")
    if size_part == 0:
        return 1.0
    grams_whole, _, _ = _bigrams(whole or "")
    common = sum(min(count, grams_whole[gram]) for gram, count in grams_part.items() if gram in grams_whole)
    return common / size_part
