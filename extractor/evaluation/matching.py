"""Matching primitives for the scorer: similarity, span location and optimal assignment.

Everything here compares text through `extractor.core.normalise.matching_key` (NFKC, whitespace
removed), the spec's definition of "verbatim", so full-width and half-width forms and line
breaks never decide a match. Located intervals are half-open and in matching-key
coordinates of the whole report, so two passages can be compared by overlap directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import linear_sum_assignment

from extractor.core.normalise import matching_key

#: Dice similarity at or above which two strings count as "similar" (spec: >= 0.5).
SIMILAR = 0.5
#: Two located spans are eligible for a match when their intersection covers at least
#: this share of the shorter span.
MIN_SHORTER_COVERAGE = 0.5

Interval = tuple[int, int]


def same_text(a: str | None, b: str | None) -> bool:
    """Equal matching keys (NFKC, all whitespace removed); None equals only None."""
    if a is None or b is None:
        return a is None and b is None
    return matching_key(a) == matching_key(b)


@lru_cache(maxsize=64)
def _source_key(source: str) -> str:
    # Cached because the scorer and the bench score many records against the same report;
    # the key is a pure function of the source, so caching changes no result.
    return matching_key(source)


class SourceKey:
    """A report's matching key, computed once, for locating and verbatim-checking passages."""

    def __init__(self, source: str) -> None:
        self.key = _source_key(source)
        self._needles: dict[str, str] = {}

    def _needle(self, passage: str | None) -> str:
        # One passage is looked up several times per record (matching, metric anchoring,
        # grounding); keying it once keeps scoring linear in the record's text.
        passage = passage or ""
        needle = self._needles.get(passage)
        if needle is None:
            needle = self._needles[passage] = matching_key(passage)
        return needle

    def locate(self, passage: str | None, *, near: int = 0) -> Interval | None:
        """Half-open interval of `passage` in the key, or None if it is not verbatim there.

        Prefers the first occurrence at or after `near` (e.g. the enclosing item's start),
        so a short metric quote repeated elsewhere in the report lands inside its item.
        """
        needle = self._needle(passage)
        if not needle:
            return None
        pos = self.key.find(needle, near) if near > 0 else -1
        if pos < 0:
            pos = self.key.find(needle)
        return None if pos < 0 else (pos, pos + len(needle))

    def is_verbatim(self, passage: str | None) -> bool:
        """Same answer as `extractor.core.normalise.is_verbatim`, without re-keying the source."""
        needle = self._needle(passage)
        return bool(needle) and needle in self.key


def overlap(a: Interval, b: Interval) -> int:
    """Length of the intersection of two half-open intervals (0 if disjoint)."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def iou(a: Interval, b: Interval) -> float:
    """Intersection over union of two half-open intervals, in [0, 1]."""
    inter = overlap(a, b)
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def span_weights(pred_spans: Sequence[Interval | None], gold_spans: Sequence[Interval | None]) -> np.ndarray:
    """IoU matrix (pred x gold) of the eligible located pairs; NaN elsewhere.

    A pair is eligible when both are located and the intersection covers at least half of
    the shorter span. Pairs with an unlocated side are NaN: the caller decides them by its
    fallback. Computed with array operations: item lists are matched all-against-all.
    """
    weights = np.full((len(pred_spans), len(gold_spans)), np.nan)
    pred_rows = [i for i, span in enumerate(pred_spans) if span is not None]
    gold_cols = [j for j, span in enumerate(gold_spans) if span is not None]
    if not pred_rows or not gold_cols:
        return weights
    p = np.array([pred_spans[i] for i in pred_rows], dtype=float)
    g = np.array([gold_spans[j] for j in gold_cols], dtype=float)
    p_start, p_end = p[:, :1], p[:, 1:]
    g_start, g_end = g[:, 0][None, :], g[:, 1][None, :]
    inter = np.clip(np.minimum(p_end, g_end) - np.maximum(p_start, g_start), 0, None)
    p_len, g_len = p_end - p_start, g_end - g_start
    shorter = np.minimum(p_len, g_len)
    eligible = (shorter > 0) & (inter >= MIN_SHORTER_COVERAGE * shorter)
    union = p_len + g_len - inter
    located = np.where(eligible, inter / np.where(union > 0, union, 1), np.nan)
    weights[np.ix_(pred_rows, gold_cols)] = located
    return weights


@dataclass(frozen=True, slots=True)
class Pair:
    """One matched (prediction index, gold index) pair and the weight it was matched on."""

    pred: int
    gold: int
    weight: float


def assign(weights: np.ndarray) -> list[Pair]:
    """Optimal one-to-one matching on a (pred x gold) matrix of qualities; NaN = ineligible.

    The result maximises first the number of matched pairs and then the total quality (IoU
    or similarity) among matchings of that size; every returned pair is eligible and each
    index appears at most once. Sorted by gold index.
    """
    eligible = ~np.isnan(weights)
    if weights.size == 0 or not eligible.any():
        return []
    # A bonus larger than any possible total quality makes the solver prefer one more match
    # over any gain in quality: a split or merged item still earns its one true positive.
    bonus = float(min(weights.shape) + 1)
    scores = np.where(eligible, weights + bonus, 0.0)
    rows, cols = linear_sum_assignment(scores, maximize=True)
    # Filtered and read out as whole arrays: indexing a matrix one pair at a time costs more
    # than the assignment itself on the small matrices of one report.
    kept = eligible[rows, cols]
    rows, cols = rows[kept], cols[kept]
    pairs = [
        Pair(i, j, w)
        for i, j, w in zip(rows.tolist(), cols.tolist(), weights[rows, cols].tolist(), strict=True)
    ]
    return sorted(pairs, key=lambda p: p.gold)
