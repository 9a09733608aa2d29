"""The learned area classifier, applied in plain Python from its weights file.

`eval/train_area_model.py` fits a linear model (scikit-learn) on the hand-labelled items'
evidence: TF-IDF of character n-grams plus the keyword scores of `areas.area_scores` as extra
features, so the keywords stay as features and the model makes the decision. It writes the
fitted weights to `area_model.json` next to this module. Extraction reads that file and
computes the same features and scores here, with no numeric library: start-up time counts.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from itertools import compress, groupby
from operator import countOf, mul

from extractor.core.schema import Area
from extractor.core.script import to_simplified

WEIGHTS_FILE = "area_model.json"

_SPACES = re.compile(r"\s+")


def model_text(text: str) -> str:
    """What the model reads: simplified script, no whitespace (a PDF copy breaks lines anywhere)."""
    return _SPACES.sub("", to_simplified(text))


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Every character n-gram of `text` for n in low..high (the training side uses this too)."""
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


def keyword_features(scores: Mapping[Area, float], areas: list[Area]) -> list[float]:
    """The keyword scores as model features, damped (a long point piles up hits)."""
    return [math.log1p(scores.get(area, 0.0)) for area in areas]


class RowSums:
    """Column sums of the model's per-term rows (idf², then each class's weight times idf),
    for many terms at once.

    Each term's row is kept as one integer: its values in fixed point (FRACTION_BITS after
    the point), each offset by a bias so that no field is negative, in fields side by side.
    Adding two such integers adds the rows field by field, so summing a text's rows is one
    `sum` of integers in C, where a transposition of float tuples costs a step per value.
    Integer sums are exact: the result is each term's value (exact for any value above 2⁻¹¹,
    else within 2⁻⁶⁵) summed exactly, rounded once.
    """

    FRACTION_BITS = 64

    def __init__(self, columns: Sequence[Mapping[str, float]]) -> None:
        """`columns`: per column, each term's value; the first column has every term."""
        self.width = len(columns)
        scale = 1 << self.FRACTION_BITS
        self.scale = float(scale)
        largest = max(max(map(abs, column.values()), default=0.0) for column in columns)
        self.bias = round(largest * scale) + 1
        # A sum adds each term at most once: with n terms a field holds less than 2 · n · bias.
        self.field_bits = (2 * max(len(columns[0]), 1) * self.bias).bit_length()
        self.mask = (1 << self.field_bits) - 1
        # Every field starts at the bias, then each value is added where it is not zero (most
        # terms are weighed by a few classes only).
        self.packed = dict.fromkeys(
            columns[0], sum(self.bias << (i * self.field_bits) for i in range(self.width))
        )
        for index, column in enumerate(columns):
            shift = index * self.field_bits
            for term, value in column.items():
                self.packed[term] += round(value * scale) << shift

    def sums(self, terms: Collection[str]) -> list[float]:
        """Column sums of the rows of `terms` (distinct terms of the vocabulary)."""
        total = sum(map(self.packed.__getitem__, terms))
        offset, mask, bits, scale = len(terms) * self.bias, self.mask, self.field_bits, self.scale
        out = []
        for _ in range(self.width):
            out.append(((total & mask) - offset) / scale)
            total >>= bits
        return out


@dataclass(frozen=True)
class AreaModel:
    """A fitted linear model: class scores = weights · features + intercepts."""

    classes: list[Area]
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    #: Per n-gram of the vocabulary: idf², then its weight times idf for each class (0 where a
    #: class does not weigh it): all a term seen once adds to the vector's squared norm and to
    #: each class's score.
    rows: RowSums
    keyword_weights: list[list[float]]
    intercepts: list[float]
    keyword_scale: float

    @classmethod
    def from_json(cls, data: Mapping) -> AreaModel:
        idf: dict[str, float] = data["idf"]
        # An n-gram no class weighs still counts in the vector's norm: every n-gram has an idf.
        columns = [{term: value * value for term, value in idf.items()}]
        columns += [
            {term: weight * idf[term] for term, weight in per_term.items()} for per_term in data["weights"]
        ]
        return cls(
            classes=[Area(name) for name in data["classes"]],
            ngram_range=(data["settings"]["ngram_range"][0], data["settings"]["ngram_range"][1]),
            sublinear_tf=data["settings"]["sublinear_tf"],
            rows=RowSums(columns),
            keyword_weights=data["keyword_weights"],
            intercepts=data["intercepts"],
            keyword_scale=data["settings"]["keyword_scale"],
        )

    def term_counts(self, text: str) -> Counter[str]:
        """How often each of the model's n-grams occurs in `text`."""
        # Only the model's own n-grams are counted; filtering and counting both run in C, one
        # length at a time (no list of every n-gram of every length).
        known = self.rows.packed.__contains__
        view = model_text(text)
        low, high = self.ngram_range
        counts: Counter[str] = Counter()
        for n in range(low, high + 1):
            counts.update(
                filter(known, view if n == 1 else [view[i : i + n] for i in range(len(view) - n + 1)])
            )
        return counts

    def decision(self, text: str, keyword_scores: Mapping[Area, float]) -> list[float]:
        """One score per class (the larger, the likelier): weights · the L2-normalised TF-IDF
        vector plus the keyword features' weights."""
        counts = self.term_counts(text)
        # Every term as if seen once (tf 1), then what the terms seen more often add to that.
        squares, *totals = self.rows.sums(counts)
        seen = counts.values()
        if countOf(seen, 1) < len(counts):
            repeated = sorted(compress(counts, map((1).__lt__, seen)), key=counts.__getitem__)
            for count, group in groupby(repeated, key=counts.__getitem__):
                tf = (1.0 + math.log(count)) if self.sublinear_tf else float(count)
                extra_squares, *extra = self.rows.sums(list(group))
                squares += (tf * tf - 1.0) * extra_squares
                totals = [total + (tf - 1.0) * more for total, more in zip(totals, extra, strict=True)]
        norm = math.sqrt(squares) or 1.0
        keywords = [self.keyword_scale * k for k in keyword_features(keyword_scores, self.classes)]
        return [
            intercept + total / norm + sum(map(mul, class_weights, keywords))
            for intercept, total, class_weights in zip(
                self.intercepts, totals, self.keyword_weights, strict=True
            )
        ]

    def probabilities(self, text: str, keyword_scores: Mapping[Area, float]) -> dict[Area, float]:
        """Softmax of the class scores (the logistic model's own probabilities)."""
        scores = self.decision(text, keyword_scores)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {area: e / total for area, e in zip(self.classes, exps, strict=True)}


@lru_cache(maxsize=1)
def load_area_model() -> AreaModel | None:
    """The packaged model, or None when no weights file was shipped."""
    resource = files("extractor.extract.rules").joinpath(WEIGHTS_FILE)
    if not resource.is_file():
        return None
    return AreaModel.from_json(json.loads(resource.read_text(encoding="utf-8")))


def predict(model: AreaModel, texts: list[str], scorer: Callable[[str], Mapping[Area, float]]) -> list[Area]:
    """The model's area for each text (for the training tools and tests)."""
    out = []
    for text in texts:
        scores = model.decision(text, scorer(text))
        out.append(model.classes[max(range(len(scores)), key=scores.__getitem__)])
    return out
