"""Matching primitives for the scorer: similarity, span location and optimal assignment.

Everything here compares text through `extractor.core.normalise.matching_key` (NFKC, whitespace
removed), the spec's definition of "verbatim", so full-width and half-width forms and line
breaks never decide a match. Located intervals are half-open and in matching-key
coordinates of the whole report, so two passages can be compared by overlap directly.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from extractor.core.normalise import clear_caches as clear_normalise_caches
from extractor.core.normalise import matching_key

if TYPE_CHECKING:
    import numpy as np

# numpy and scipy are imported where a matrix is needed: when no prediction or gold item has
# two candidates the matching needs neither, and scipy.optimize alone takes longer to import
# than scoring a few hundred records.

#: Dice similarity at or above which two strings count as "similar" (spec: >= 0.5).
SIMILAR = 0.5
#: Two located spans are eligible for a match when their intersection covers at least
#: this share of the shorter span.
MIN_SHORTER_COVERAGE = 0.5

Interval = tuple[int, int]
#: Eligible (pred index, gold index) pairs and their match quality; absent pairs are ineligible.
Edges = dict[tuple[int, int], float]


def same_text(a: str | None, b: str | None) -> bool:
    """Equal matching keys (NFKC, all whitespace removed); None equals only None."""
    if a is None or b is None:
        return a is None and b is None
    return matching_key(a) == matching_key(b)


class SourceKey:
    """A report's matching key, computed once, for locating and verbatim-checking passages.

    Get one with `source_key(source)`: it is shared by every record scored against the same
    report, so each passage (a gold item's evidence, say) is keyed and searched once per
    report rather than once per record.
    """

    def __init__(self, source: str) -> None:
        self.key = matching_key(source)
        self._spans: dict[tuple[str, int], Interval | None] = {}

    def locate(self, passage: str | None, *, near: int = 0) -> Interval | None:
        """Half-open interval of `passage` in the key, or None if it is not verbatim there.

        Prefers the first occurrence at or after `near` (e.g. the enclosing item's start),
        so a short metric quote repeated elsewhere in the report lands inside its item.
        """
        passage = passage or ""
        try:
            return self._spans[passage, near]
        except KeyError:
            pass
        needle = matching_key(passage)
        span = None
        if needle:
            pos = self.key.find(needle, near) if near > 0 else -1
            if pos < 0:
                pos = self.key.find(needle)
            span = None if pos < 0 else (pos, pos + len(needle))
        self._spans[passage, near] = span
        return span

    def is_verbatim(self, passage: str | None) -> bool:
        """Same answer as `extractor.core.normalise.is_verbatim`, without re-keying the source."""
        return self.locate(passage) is not None


@lru_cache(maxsize=64)
def source_key(source: str) -> SourceKey:
    """The shared `SourceKey` of `source` (the scorer and the bench score many records
    against one report; every answer is a pure function of the source and the passage, so
    sharing changes no result)."""
    return SourceKey(source)


def clear_caches() -> None:
    """Forget every report key and located passage, and normalise's memoised keys (for
    benchmarks measuring cold runs)."""
    source_key.cache_clear()
    clear_normalise_caches()


def overlap(a: Interval, b: Interval) -> int:
    """Length of the intersection of two half-open intervals (0 if disjoint)."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def iou(a: Interval, b: Interval) -> float:
    """Intersection over union of two half-open intervals, in [0, 1]."""
    inter = overlap(a, b)
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def span_edges(pred_spans: Sequence[Interval | None], gold_spans: Sequence[Interval | None]) -> Edges:
    """IoU of every eligible located (pred, gold) pair.

    A pair is eligible when both are located and the intersection covers at least half of
    the shorter span. Pairs with an unlocated side are left out: the caller decides them by
    its fallback. Only overlapping pairs can be eligible, so golds are sorted by start and
    each prediction walks back from the last gold starting before its end, for as long as
    some earlier gold still reaches its start: no all-against-all comparison.
    """
    golds = sorted((span[0], span[1], j) for j, span in enumerate(gold_spans) if span is not None)
    starts = [start for start, _, _ in golds]
    reach = list(accumulate((end for _, end, _ in golds), max))  # furthest end among golds[:k+1]
    edges: Edges = {}
    for i, span in enumerate(pred_spans):
        if span is None:
            continue
        p_start, p_end = span
        k = bisect_left(starts, p_end) - 1
        while k >= 0 and reach[k] > p_start:
            g_start, g_end, j = golds[k]
            k -= 1
            inter = min(p_end, g_end) - max(p_start, g_start)
            shorter = min(p_end - p_start, g_end - g_start)
            if shorter > 0 and inter >= MIN_SHORTER_COVERAGE * shorter:
                edges[i, j] = inter / ((p_end - p_start) + (g_end - g_start) - inter)
    return edges


def dense(edges: Edges, shape: tuple[int, int]) -> np.ndarray:
    """The (pred x gold) quality matrix of `edges`; NaN where a pair is ineligible."""
    import numpy as np

    weights = np.full(shape, np.nan)
    if edges:
        rows, cols = zip(*edges, strict=True)
        weights[rows, cols] = list(edges.values())
    return weights


def span_weights(pred_spans: Sequence[Interval | None], gold_spans: Sequence[Interval | None]) -> np.ndarray:
    """`span_edges` as a (pred x gold) matrix, NaN where ineligible or unlocated."""
    return dense(span_edges(pred_spans, gold_spans), (len(pred_spans), len(gold_spans)))


class Pair(NamedTuple):
    """One matched (prediction index, gold index) pair and the weight it was matched on.

    A named tuple: scoring makes tens per record, and a frozen dataclass costs several times
    more to construct."""

    pred: int
    gold: int
    weight: float


def assign(weights: np.ndarray) -> list[Pair]:
    """Optimal one-to-one matching on a (pred x gold) matrix of qualities; NaN = ineligible.

    The result maximises first the number of matched pairs and then the total quality (IoU
    or similarity) among matchings of that size; every returned pair is eligible and each
    index appears at most once. Sorted by gold index.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

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


def assign_edges(edges: Edges, shape: tuple[int, int]) -> list[Pair]:
    """`assign` on the matrix of `edges`, same result.

    When no prediction and no gold has two eligible pairs, every eligible pair is in the only
    largest matching, so the solver is not needed (the usual case for one report's lists).
    """
    if len({i for i, _ in edges}) == len(edges) == len({j for _, j in edges}):
        return sorted((Pair(i, j, w) for (i, j), w in edges.items()), key=lambda p: p.gold)
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    # The matrix `assign` would hand the solver, built from the pairs directly.
    bonus = float(min(shape) + 1)
    scores = np.zeros(shape)
    rows, cols = zip(*edges, strict=True)
    scores[rows, cols] = [weight + bonus for weight in edges.values()]
    chosen_rows, chosen_cols = linear_sum_assignment(scores, maximize=True)
    chosen = zip(chosen_rows.tolist(), chosen_cols.tolist(), strict=True)
    pairs = [Pair(i, j, edges[i, j]) for i, j in chosen if (i, j) in edges]
    return sorted(pairs, key=lambda p: p.gold)
