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

# Characters that NFKC leaves alone and that are not whitespace: ASCII graphics, CJK unified
# ideographs and the common CJK punctuation. Everything else is looked at one by one.
_STABLE_RUN = re.compile(
    r"[!-~\u4e00-\u9fff\u3001\u3002\u201c\u201d\u2018\u2019\u300a\u300b\u3008-\u3011\u2014\u2026]+"
)
_WHITESPACE = re.compile(r"\s+")
# Full-width ASCII forms and the ideographic space map one-to-one under NFKC: translating
# them first keeps offsets unchanged and leaves long stable runs for the fast path.
_ONE_TO_ONE = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF01, 0xFF5F)}
_ONE_TO_ONE[0x3000] = " "


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

    Runs of characters NFKC cannot change are copied whole; only the rest is looked at one
    character at a time, which keeps this fast on Chinese text.
    """
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    length = len(text)
    text = text.translate(_ONE_TO_ONE)
    while pos < length:
        m = _STABLE_RUN.match(text, pos)
        if m:
            out.append(m.group(0))
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
