"""Grounding: locate each quoted evidence passage in the source, with an explicit status.

Exact first (NFKC + whitespace removed, so full-width/half-width and line breaks do not
matter), then a character-level fuzzy alignment with explicit thresholds. Models quote;
only this module produces offsets.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz

from extractor.core.document import normalised_view
from extractor.core.normalise import NormalisedText, matching_key
from extractor.core.schema import AlignmentStatus, Span

#: Fuzzy alignment must reach this similarity (0-100) over the aligned window...
FUZZY_MIN_SCORE = 85.0
#: ...and the aligned window must cover this share of the quote's length (density guard
#: against a short quote matching inside a long, unrelated passage or vice versa).
FUZZY_MIN_COVERAGE = 0.8


@dataclass(frozen=True, slots=True)
class Alignment:
    span: Span | None
    status: AlignmentStatus
    score: float = 0.0


class SourceIndex:
    """The source normalised once (whitespace dropped), for aligning many quotes against it.

    Built from a document's memoised view, so every stage of one run shares the same
    normalised text.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def norm(self) -> NormalisedText:
        """The normalised view, made on the first alignment: a record whose spans all still
        hold (a rules record) is checked without it, and making it costs more than the check."""
        return normalised_view(self.text, drop_whitespace=True)

    def align(
        self, quote: str, *, near: int = 0, allow_fuzzy: bool = True, within: Span | None = None
    ) -> Alignment:
        """Locate `quote`: exact first (preferring an occurrence at or after `near`), then fuzzy.

        `within` limits the search to that part of the source (a model call's section); the
        span always indexes the whole source.
        """
        key = matching_key(quote)
        if not key:
            return Alignment(None, AlignmentStatus.NONE)
        hay = self.norm.text
        lo, hi = (0, len(hay)) if within is None else self._normalised_bounds(within)
        # Prefer the occurrence at or after `near` (the item's section), else the first one.
        near_norm = max(lo, _first_index_at_or_after(self.norm, near))
        pos = hay.find(key, near_norm, hi)
        if pos < 0:
            pos = hay.find(key, lo, hi)
        if pos >= 0:
            start, end = self.norm.to_original(pos, pos + len(key))
            return Alignment(Span(start=start, end=end), AlignmentStatus.EXACT, 100.0)
        if not allow_fuzzy or len(key) < 6:
            return Alignment(None, AlignmentStatus.NONE)
        result = fuzz.partial_ratio_alignment(key, hay[lo:hi], score_cutoff=FUZZY_MIN_SCORE)
        if result is None:
            return Alignment(None, AlignmentStatus.NONE)
        window = result.dest_end - result.dest_start
        if window < FUZZY_MIN_COVERAGE * len(key) or window > len(key) / FUZZY_MIN_COVERAGE:
            return Alignment(None, AlignmentStatus.NONE, result.score)
        start, end = self.norm.to_original(lo + result.dest_start, lo + result.dest_end)
        return Alignment(Span(start=start, end=end), AlignmentStatus.FUZZY, result.score)

    def holds(self, span: Span | None, quote: str) -> bool:
        """A span already given (rules output, passages, a reviewer's edit) still points at the quote."""
        if span is None or span.end > len(self.text):
            return False
        window = self.text[span.start : span.end]
        # Equal as written first: the common case (the rules backend quotes the source), and
        # cheaper than the two tests after it, which equality implies.
        return (
            window == quote or window.strip() == quote.strip() or matching_key(window) == matching_key(quote)
        )

    def _normalised_bounds(self, within: Span) -> tuple[int, int]:
        return (
            _first_index_at_or_after(self.norm, within.start),
            _first_index_at_or_after(self.norm, within.end),
        )


def _first_index_at_or_after(norm: NormalisedText, original_index: int) -> int:
    if original_index <= 0:
        return 0
    # origin is sorted ascending.
    return bisect.bisect_left(norm.origin, original_index)


def align_quote(source: str, quote: str) -> Alignment:
    """Locate one quote in `source` (convenience wrapper; use SourceIndex for many)."""
    return SourceIndex(source).align(quote)
