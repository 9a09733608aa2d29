"""The learned paragraph-kind classifier, applied in plain Python from its weights file.

`eval/train_kind_model.py` fits a linear model (scikit-learn) on the lines of the
hand-labelled reports, each labelled by the gold item whose evidence it carries: achievement,
problem, plan, cause, or other (titles, introductions, headings, signatures). Features: TF-IDF
of character 1-3-grams plus counts of the wordings of work done, shortfalls, intentions and
causes (`KEYWORD_PATTERNS`) as extra features, so the keywords count without deciding. The segmenter asks it only when a top-level heading names no section it knows
(「一、回顾」): the paragraphs under the heading then say which section it is.
Extraction reads the weights with no numeric library (start-up time counts), in the packed
form `pack` writes: `kind_model.json` (settings, intercepts, the n-grams in one list) and
`kind_model.bin` (the numbers as raw little-endian float64: each n-gram's idf, then each
weight already multiplied by its idf), kept as flat arrays. Reading that is a few
milliseconds; parsing some 50,000 decimal numbers and multiplying them in Python took ~50 ms
of every extraction process that meets a heading naming no section, and decoding them from
base64 inside the JSON about a third of what reading the model still costs.
"""

from __future__ import annotations

import json
import math
import operator
import re
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.resources import files
from itertools import chain, compress

from extractor.core.script import to_simplified

WEIGHTS_FILE = "kind_model.json"
#: The numbers of the weights file, raw (little-endian float64): read with no decoding at all.
NUMBERS_FILE = "kind_model.bin"
ACHIEVEMENT, PROBLEM, PLAN, CAUSE, OTHER = "achievement", "problem", "plan", "cause", "other"

# Wordings that mark a kind inside a paragraph (not only in a heading): the keywords as features.
KEYWORD_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("done", re.compile(r"全年|累计|共(计)?[办审开组受查培化]|已|完成|取得|实现|办结|达到|率达|同比")),
    (
        "shortfall",
        re.compile(r"不足|不够|不强|不高|不到位|不平衡|欠缺|薄弱|短板|滞后|有待|仍(然)?存在|偏低|较少"),
    ),
    ("future", re.compile(r"将|下一步|下步|今后|明年|持续|继续|进一步|力争|计划|着力|推动|确保")),
    ("cause", re.compile(r"原因|究其|由于|导致|造成")),
)


def model_text(text: str) -> str:
    """What the model reads: simplified script, no whitespace (a PDF copy breaks lines anywhere)."""
    return _without_whitespace(to_simplified(text))


def _without_whitespace(text: str) -> str:
    # `str.split()` splits on exactly the characters `\s` matches (str.isspace), and the
    # join runs in C: the same string as `re.sub(r"\s+", "", text)`.
    return "".join(text.split())


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Every character n-gram of `text` for n in low..high (the training side uses this too)."""
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]


def _ngrams(text: str, low: int, high: int) -> Iterator[str]:
    """`char_ngrams(text, low, high)`, the same strings in the same order, made in C: each
    n-gram is the (n-1)-gram at its place joined to the character n-1 further on."""
    lengths: list[Iterable[str]] = [[""] * (len(text) + 1)] if low <= 0 <= high else []
    grams: Iterable[str] = text  # the 1-grams: a string iterates over its characters
    for n in range(1, high + 1):
        if n > 1:
            grams = [*map(operator.add, grams, text[n - 1 :])]
        if n >= low:
            lengths.append(grams)
    return chain.from_iterable(lengths)


def keyword_features(text: str) -> list[float]:
    """How often each kind's wording occurs, damped (a long paragraph piles up hits)."""
    return _keyword_features_of_simplified(to_simplified(text))


def _keyword_features_of_simplified(simple: str) -> list[float]:
    return [math.log1p(len(pattern.findall(simple))) for _, pattern in KEYWORD_PATTERNS]


@dataclass(frozen=True)
class KindModel:
    """A fitted linear model: class scores = weights · features + intercepts.

    Held as the weights file packs it: the n-grams in one list (those some class weighs
    first) and their numbers in flat float arrays, read by row number. Building a dict of
    16,000 n-grams with a tuple of Python floats each cost more than the few hundred
    n-grams a paragraph holds ever read from it."""

    classes: list[str]
    ngram_range: tuple[int, int]
    terms: list[str]
    weighted_terms: int  # terms[:weighted_terms] have weights; the rest count in the norm only
    idf: array  # per term
    weights: array  # per weighted term, one per class (row-major), already multiplied by the idf
    keyword_weights: list[list[float]]
    intercepts: list[float]

    @classmethod
    def from_json(cls, data: Mapping) -> KindModel:
        """The model from the training script's export (idf per n-gram, non-zero weights
        per class, as decimal numbers)."""
        rows: dict[str, list[float]] = {}
        idf = data["idf"]
        for index, per_term in enumerate(data["weights"]):
            for term, weight in per_term.items():
                rows.setdefault(term, [0.0] * len(data["classes"]))[index] = weight
        terms = [*rows, *(t for t in idf if t not in rows)]
        return cls(
            classes=list(data["classes"]),
            ngram_range=(data["settings"]["ngram_range"][0], data["settings"]["ngram_range"][1]),
            terms=terms,
            weighted_terms=len(rows),
            idf=array("d", [idf[t] for t in terms]),
            weights=array("d", [w * idf[term] for term, row in rows.items() for w in row]),
            keyword_weights=data["keyword_weights"],
            intercepts=data["intercepts"],
        )

    @classmethod
    def from_packed(cls, data: Mapping, numbers: bytes) -> KindModel:
        """The model from the weights files (`pack`'s form: the JSON part and the numbers):
        the same floats, bit for bit, as `from_json` gives from the export it was packed from."""
        floats = array("d", numbers)
        if sys.byteorder == "big":
            floats.byteswap()
        n_terms, width = len(data["terms"]), len(data["classes"])
        if len(floats) != n_terms + data["weighted_terms"] * width:
            raise ValueError(f"{NUMBERS_FILE} holds {len(floats)} numbers, not those of {n_terms} n-grams")
        return cls(
            classes=list(data["classes"]),
            ngram_range=(data["settings"]["ngram_range"][0], data["settings"]["ngram_range"][1]),
            terms=data["terms"],
            weighted_terms=data["weighted_terms"],
            idf=floats[:n_terms],
            weights=floats[n_terms:],
            keyword_weights=data["keyword_weights"],
            intercepts=data["intercepts"],
        )

    @cached_property
    def _rows(self) -> _Rows:
        return _Rows(self)

    def decision(self, text: str) -> list[float]:
        """One score per class: weights · the L2-normalised sublinear TF-IDF vector, plus the
        keyword features' weights."""
        rows = self._rows
        simple = to_simplified(text)  # read once for both kinds of feature
        # Only the model's own n-grams are counted; filtering and counting both run in C.
        counts = Counter(
            filter(rows.numbers.__contains__, _ngrams(_without_whitespace(simple), *self.ngram_range))
        )
        sums = [0.0] * len(self.classes)
        squares = 0.0
        # Terms seen equally often share their tf: their rows are summed column-wise in C
        # (zip/sum), in the order the terms first occur: the same floats as term by term.
        for count, terms in _by_count(counts).items():
            tf = 1.0 + math.log(count)
            idf_squared, *columns = map(sum, zip(*map(rows.__getitem__, terms), strict=True))
            squares += tf * tf * idf_squared
            sums = [s + tf * column for s, column in zip(sums, columns, strict=True)]
        norm = math.sqrt(squares) or 1.0
        keywords = _keyword_features_of_simplified(simple)
        return [
            intercept + total / norm + sum(w * k for w, k in zip(kw, keywords, strict=True))
            for intercept, total, kw in zip(self.intercepts, sums, self.keyword_weights, strict=True)
        ]

    def probabilities(self, text: str) -> dict[str, float]:
        """Softmax of the class scores (the logistic model's own probabilities)."""
        scores = self.decision(text)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {kind: e / total for kind, e in zip(self.classes, exps, strict=True)}

    def section_kind(self, paragraphs: Sequence[str], *, min_share: float = 0.6) -> str | None:
        """What a run of paragraphs under one heading reports: achievement, problem or plan,
        by the length-weighted mean of their probabilities (a cause counts to the problems),
        when that kind holds at least `min_share` of it; else None."""
        totals = dict.fromkeys((ACHIEVEMENT, PROBLEM, PLAN), 0.0)
        weight = 0.0
        for text in paragraphs:
            p = self.probabilities(text)
            w = math.sqrt(len(text))
            totals[ACHIEVEMENT] += w * p[ACHIEVEMENT]
            totals[PROBLEM] += w * (p[PROBLEM] + p[CAUSE])
            totals[PLAN] += w * p[PLAN]
            weight += w * (1.0 - p[OTHER])
        if weight <= 0:
            return None
        kind, best = max(totals.items(), key=lambda item: item[1])
        return kind if best / weight >= min_share else None


class _Rows(dict[str, tuple[float, ...]]):
    """Each n-gram's idf squared (for the norm) and its weight per class (zeros for one no
    class weighs), made from the model's arrays the first time a paragraph holds the n-gram:
    one lookup per n-gram at scoring time, and no tuple made for n-grams never met.
    The zeros change no sum (a sum from 0.0 plus 0.0 is the same float), so the scores are
    the same floats as summing the weighted n-grams alone. `numbers`: each n-gram's row."""

    def __init__(self, model: KindModel) -> None:
        super().__init__()
        self.model = model
        self.numbers = dict(zip(model.terms, range(len(model.terms)), strict=True))  # built in C
        self.zeros = (0.0,) * len(model.classes)

    def __missing__(self, term: str) -> tuple[float, ...]:
        model, number = self.model, self.numbers[term]
        width = len(model.classes)
        weights = (
            tuple(model.weights[number * width : (number + 1) * width])
            if number < model.weighted_terms
            else self.zeros
        )
        row = self[term] = (model.idf[number] * model.idf[number], *weights)
        return row


def _by_count(counts: Counter[str]) -> dict[int, list[str]]:
    """The terms grouped by count, groups in the order their counts first occur and terms in
    their own order. Most n-grams of a paragraph occur once: those are picked out in C and
    only the others sorted in Python."""
    groups: dict[int, list[str]] = {count: [] for count in dict.fromkeys(counts.values())}
    if 1 in groups:
        groups[1] = [*compress(counts, map((1).__eq__, counts.values()))]
    for term, count in compress(counts.items(), map((1).__ne__, counts.values())):
        groups[count].append(term)
    return groups


def pack(data: Mapping) -> tuple[dict, bytes]:
    """The training script's export in the weights files' form (see the module docstring):
    the JSON part (n-grams with a weight first, then those that only count in the norm) and
    the numbers (their idf, then the weights multiplied by the idf exactly as
    `KindModel.from_json` multiplies them, as little-endian float64)."""
    model = KindModel.from_json(data)
    packed = {k: v for k, v in data.items() if k not in ("idf", "weights")}
    numbers = model.idf + model.weights
    if sys.byteorder == "big":
        numbers.byteswap()
    return {**packed, "terms": model.terms, "weighted_terms": model.weighted_terms}, numbers.tobytes()


@lru_cache(maxsize=1)
def load_kind_model() -> KindModel | None:
    """The packaged model, or None when no weights files were shipped."""
    package = files("extractor.segment")
    resource, numbers = package.joinpath(WEIGHTS_FILE), package.joinpath(NUMBERS_FILE)
    if not (resource.is_file() and numbers.is_file()):
        return None
    # Bytes: json reads UTF-8 itself, without a text layer translating line ends.
    return KindModel.from_packed(json.loads(resource.read_bytes()), numbers.read_bytes())
