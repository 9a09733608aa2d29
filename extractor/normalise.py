"""Normalisation that keeps a map back to the original text.

Matching happens on NFKC text (full-width and half-width forms compare equal), optionally
with whitespace removed (the spec's definition of "verbatim"). Every normalised character
remembers the index of the original character it came from, so a match in normalised text
converts back to a span of the original.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """`text` is the normalised string; `origin[i]` is the original index of `text[i]`."""

    text: str
    origin: tuple[int, ...]
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open normalised interval to the smallest covering original interval."""
        if start >= end:
            pos = self.origin[start] if start < len(self.origin) else self.original_length
            return pos, pos
        return self.origin[start], self.origin[end - 1] + 1

    def find(self, needle: str, start: int = 0) -> int:
        return self.text.find(needle, start)


@lru_cache(maxsize=4096)
def _nfkc_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch)


def normalise(text: str, *, drop_whitespace: bool = False) -> NormalisedText:
    """NFKC per character (so offsets stay exact), optionally dropping all whitespace."""
    out: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        if ch.isascii():
            piece = ch
        else:
            piece = _nfkc_char(ch)
        for produced in piece:
            if drop_whitespace and produced.isspace():
                continue
            out.append(produced)
            origin.append(index)
    return NormalisedText("".join(out), tuple(origin), len(text))


def matching_key(text: str) -> str:
    """The string that "verbatim" comparisons use: NFKC with all whitespace removed."""
    return "".join(_nfkc_char(ch) if not ch.isascii() else ch for ch in text if not ch.isspace()).replace(
        " ", ""
    )


def is_verbatim(passage: str, source: str) -> bool:
    """True if `passage` is a substring of `source` after NFKC + whitespace removal (spec)."""
    key = matching_key(passage)
    return bool(key) and key in matching_key(source)
