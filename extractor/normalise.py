"""Normalisation that keeps a map back to the original text.

Matching happens on NFKC text (full-width and half-width forms compare equal), optionally
with whitespace removed (the spec's definition of "verbatim"). Every normalised character
remembers the index of the original character it came from, so a match in normalised text
converts back to a span of the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Characters that NFKC maps one to one (or leaves alone) and that are not whitespace: ASCII
# graphics, CJK unified ideographs, common CJK punctuation and the full-width ASCII forms.
# Runs of them are normalised whole; everything else is looked at one by one.
_STABLE_RUN = re.compile(
    r"[!-~\u4e00-\u9fff\u3001\u3002\u201c\u201d\u2018\u2019\u300a\u300b\u3008-\u3011\u2014\u2026]+"
)
_WHITESPACE = re.compile(r"\s+")


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


@lru_cache(maxsize=8192)
def _nfkc_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch)


def normalise(text: str, *, drop_whitespace: bool = False) -> NormalisedText:
    """NFKC per character (so offsets stay exact), optionally dropping all whitespace.

    Runs of characters that NFKC maps one to one are normalised whole (C speed); only the
    rest is looked at one character at a time, which keeps this fast on Chinese text.
    """
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    length = len(text)
    while pos < length:
        m = _STABLE_RUN.match(text, pos)
        if m:
            run = unicodedata.normalize("NFKC", m.group(0))
            if len(run) == m.end() - pos:
                out.append(run)
                origin.extend(range(pos, m.end()))
                pos = m.end()
                continue
        ch = text[pos]
        piece = ch if ch.isascii() else _nfkc_char(ch)
        for produced in piece:
            if drop_whitespace and produced.isspace():
                continue
            out.append(produced)
            origin.append(pos)
        pos += 1
    return NormalisedText("".join(out), origin, length)


def matching_key(text: str) -> str:
    """The string that "verbatim" comparisons use: NFKC with all whitespace removed."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def is_verbatim(passage: str, source: str) -> bool:
    """True if `passage` is a substring of `source` after NFKC + whitespace removal (spec)."""
    key = matching_key(passage)
    return bool(key) and key in matching_key(source)
