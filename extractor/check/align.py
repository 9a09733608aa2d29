"""Grounding: locate each quoted evidence passage in the source, with an explicit status.

Exact first (NFKC + whitespace removed, so full-width/half-width and line breaks do not
matter), then a character-level fuzzy alignment with explicit thresholds. Models quote;
only this module produces offsets.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from extractor.core.normalise import NormalisedText, matching_key, normalise
from extractor.core.schema import AlignmentStatus, Flag, FlagCode, Record, Span

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
    """The source normalised once, for aligning many quotes against it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm: NormalisedText = normalise(text, drop_whitespace=True)

    def align(self, quote: str, *, near: int = 0, allow_fuzzy: bool = True) -> Alignment:
        key = matching_key(quote)
        if not key:
            return Alignment(None, AlignmentStatus.NONE)
        hay = self.norm.text
        # Prefer the occurrence at or after `near` (the item's section), else the first one.
        near_norm = _first_index_at_or_after(self.norm, near)
        pos = hay.find(key, near_norm)
        if pos < 0:
            pos = hay.find(key)
        if pos >= 0:
            start, end = self.norm.to_original(pos, pos + len(key))
            return Alignment(Span(start=start, end=end), AlignmentStatus.EXACT, 100.0)
        if not allow_fuzzy or len(key) < 6:
            return Alignment(None, AlignmentStatus.NONE)
        result = fuzz.partial_ratio_alignment(key, hay, score_cutoff=FUZZY_MIN_SCORE)
        if result is None:
            return Alignment(None, AlignmentStatus.NONE)
        window = result.dest_end - result.dest_start
        if window < FUZZY_MIN_COVERAGE * len(key) or window > len(key) / FUZZY_MIN_COVERAGE:
            return Alignment(None, AlignmentStatus.NONE, result.score)
        start, end = self.norm.to_original(result.dest_start, result.dest_end)
        return Alignment(Span(start=start, end=end), AlignmentStatus.FUZZY, result.score)


def _first_index_at_or_after(norm: NormalisedText, original_index: int) -> int:
    if original_index <= 0:
        return 0
    # origin is sorted ascending: binary search.
    lo, hi = 0, len(norm.origin)
    while lo < hi:
        mid = (lo + hi) // 2
        if norm.origin[mid] < original_index:
            lo = mid + 1
        else:
            hi = mid
    return lo


def align_quote(source: str, quote: str) -> Alignment:
    """Locate one quote in `source` (convenience wrapper; use SourceIndex for many)."""
    return SourceIndex(source).align(quote)


def ground_record(record: Record, source: str, *, index: SourceIndex | None = None) -> Record:
    """Fill span + alignment of every item and metric; flag what is not exactly grounded.

    Items are never dropped: an unaligned item stays, flagged for review.
    """
    lazy_index: list[SourceIndex] = [index] if index else []

    def align(quote: str, near: int) -> Alignment:
        if not lazy_index:
            lazy_index.append(SourceIndex(source))
        return lazy_index[0].align(quote, near=near)

    for items in (record.achievements, record.problems, record.plans):
        for item in items:
            if _span_holds(source, item.span, item.evidence):
                item.alignment = AlignmentStatus.EXACT
            else:
                found = align(item.evidence, item.span.start if item.span else 0)
                item.span, item.alignment = found.span, found.status
            _flag_alignment(item.flags, item.alignment, "evidence")
            for metric in getattr(item, "metrics", []):
                if _span_holds(source, metric.span, metric.evidence):
                    metric.alignment = AlignmentStatus.EXACT
                else:
                    found = align(metric.evidence, item.span.start if item.span else 0)
                    metric.span, metric.alignment = found.span, found.status
                _flag_alignment(item.flags, metric.alignment, f"metric {metric.name}")
    return record


def _span_holds(source: str, span: Span | None, quote: str) -> bool:
    """A span already given (rules output, a reviewer's edit) still points at the quote."""
    if span is None or span.end > len(source):
        return False
    window = source[span.start : span.end]
    return window.strip() == quote.strip() or matching_key(window) == matching_key(quote)


def alignment_flag(status: AlignmentStatus | None, what: str) -> Flag | None:
    """The review flag an alignment status calls for (None when exact)."""
    if status is AlignmentStatus.NONE:
        return Flag(code=FlagCode.UNALIGNED, detail=f"{what} not found in the source")
    if status is AlignmentStatus.FUZZY:
        return Flag(code=FlagCode.FUZZY_ALIGNMENT, detail=f"{what} only fuzzily aligned")
    return None


def _flag_alignment(flags: list[Flag], status: AlignmentStatus | None, what: str) -> None:
    flag = alignment_flag(status, what)
    # A backend may already have flagged the same thing (the LLM backend grounds as it parses).
    if flag is not None and flag not in flags:
        flags.append(flag)
