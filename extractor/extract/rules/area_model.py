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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

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


@dataclass(frozen=True)
class AreaModel:
    """A fitted linear model: class scores = weights · features + intercepts."""

    classes: list[Area]
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    idf: dict[str, float]
    weights: dict[str, tuple[float, ...]]
    keyword_weights: list[list[float]]
    intercepts: list[float]
    keyword_scale: float

    @classmethod
    def from_json(cls, data: Mapping) -> AreaModel:
        # Each weighted n-gram's weights, one per class, times its idf: the scores of an
        # n-gram seen once, summed column-wise in C (zip/sum) rather than term by term.
        rows: dict[str, list[float]] = {}
        for index, per_term in enumerate(data["weights"]):
            for term, weight in per_term.items():
                rows.setdefault(term, [0.0] * len(data["classes"]))[index] = weight
        weights = {term: tuple(w * data["idf"][term] for w in row) for term, row in rows.items()}
        return cls(
            classes=[Area(name) for name in data["classes"]],
            ngram_range=(data["settings"]["ngram_range"][0], data["settings"]["ngram_range"][1]),
            sublinear_tf=data["settings"]["sublinear_tf"],
            idf=data["idf"],
            weights=weights,
            keyword_weights=data["keyword_weights"],
            intercepts=data["intercepts"],
            keyword_scale=data["settings"]["keyword_scale"],
        )

    def term_counts(self, text: str) -> Counter[str]:
        """How often each of the model's n-grams occurs in `text`."""
        idf = self.idf
        return Counter(t for t in char_ngrams(model_text(text), *self.ngram_range) if t in idf)

    def decision(self, text: str, keyword_scores: Mapping[Area, float]) -> list[float]:
        """One score per class (the larger, the likelier): weights · the L2-normalised TF-IDF
        vector, computed as sums per term count, divided by the vector's norm at the end."""
        idf, weights = self.idf, self.weights
        by_count: dict[int, list[str]] = {}
        for term, count in self.term_counts(text).items():
            by_count.setdefault(count, []).append(term)
        sums = [0.0] * len(self.classes)
        squares = 0.0
        for count, terms in by_count.items():
            tf = (1.0 + math.log(count)) if self.sublinear_tf else float(count)
            squares += tf * tf * sum(idf[t] * idf[t] for t in terms)
            rows = [weights[t] for t in terms if t in weights]
            if rows:
                column_sums = map(sum, zip(*rows, strict=True))
                sums = [s + tf * column for s, column in zip(sums, column_sums, strict=True)]
        norm = math.sqrt(squares) or 1.0
        totals = [intercept + total / norm for intercept, total in zip(self.intercepts, sums, strict=True)]
        keywords = [self.keyword_scale * k for k in keyword_features(keyword_scores, self.classes)]
        for index, class_weights in enumerate(self.keyword_weights):
            totals[index] += sum(w * k for w, k in zip(class_weights, keywords, strict=True))
        return totals

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
