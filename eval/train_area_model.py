"""Train the rules backend's area classifier and write its weights into the package.

Training data: every hand-labelled item (achievements, problems, plans) of eval/gold/*.json
and tests/fixtures/synthetic*/*.json; input its `evidence` (what the extractor has at run
time; `text` is a gold summary), label its `area`. Model: TF-IDF of character 1-3-grams plus
the keyword scores of `areas.area_scores` as extra features, into a logistic regression
(scikit-learn, a dev dependency). The fitted weights, pruned of tiny ones, go to
extractor/extract/rules/area_model.json, which `area_model.py` applies in plain Python.

Usage: python eval/train_area_model.py          # train and write the weights file
       python eval/train_area_model.py --cv     # leave-one-document-out: keywords vs model
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from extractor.core.schema import Area
from extractor.extract.rules.area_model import (
    WEIGHTS_FILE,
    AreaModel,
    char_ngrams,
    keyword_features,
    model_text,
)
from extractor.extract.rules.areas import area_scores, keyword_area

ROOT = Path(__file__).resolve().parent.parent
GOLD_GLOBS = ("eval/gold/*.json", "tests/fixtures/synthetic*/*.json")
LISTS = ("achievements", "problems", "plans")
OUTPUT = ROOT / "extractor" / "extract" / "rules" / WEIGHTS_FILE

SETTINGS = {
    "ngram_range": [1, 3],
    "min_df": 2,
    "sublinear_tf": True,
    "keyword_scale": 0.5,
    "C": 10.0,
    "max_iter": 5000,
    "prune_below": 0.02,
    "round_digits": 5,
}


@dataclass(frozen=True)
class Example:
    document: str
    kind: str
    evidence: str
    area: str


def load_examples(root: Path = ROOT) -> list[Example]:
    """Every labelled item, in a fixed order (sorted files, items as listed)."""
    examples = []
    for pattern in GOLD_GLOBS:
        for path in sorted(root.glob(pattern)):
            record = json.loads(path.read_text(encoding="utf-8"))
            document = str(path.relative_to(root))
            for kind in LISTS:
                for item in record.get(kind, []):
                    examples.append(Example(document, kind, item["evidence"], item["area"]))
    return examples


def data_sha256(examples: list[Example]) -> str:
    blob = json.dumps([[e.document, e.kind, e.evidence, e.area] for e in examples], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _keyword_matrix(texts: list[str], classes: list[Area]) -> csr_matrix:
    scale = SETTINGS["keyword_scale"]
    rows = [[scale * k for k in keyword_features(area_scores(t), classes)] for t in texts]
    return csr_matrix(np.array(rows, dtype=float))


@dataclass
class Fitted:
    vectorizer: TfidfVectorizer
    classifier: LogisticRegression
    classes: list[Area]

    def features(self, texts: list[str]) -> csr_matrix:
        tfidf = self.vectorizer.transform([model_text(t) for t in texts])
        return hstack([tfidf, _keyword_matrix(texts, self.classes)]).tocsr()

    def predict(self, texts: list[str]) -> list[Area]:
        return [Area(label) for label in self.classifier.predict(self.features(texts))]


def fit(texts: list[str], labels: list[str]) -> Fitted:
    """Fit, then prune and round the weights in place, so that the scikit-learn model and the
    exported weights are the same model."""
    low, high = SETTINGS["ngram_range"]
    analyzer: Callable[[str], list[str]] = lambda text: char_ngrams(text, low, high)  # noqa: E731
    vectorizer = TfidfVectorizer(
        analyzer=analyzer, min_df=SETTINGS["min_df"], sublinear_tf=SETTINGS["sublinear_tf"]
    )
    tfidf = vectorizer.fit_transform([model_text(t) for t in texts])
    classes = [Area(label) for label in sorted(set(labels))]
    features = hstack([tfidf, _keyword_matrix(texts, classes)]).tocsr()
    classifier = LogisticRegression(C=SETTINGS["C"], max_iter=SETTINGS["max_iter"], random_state=0)
    classifier.fit(features, labels)
    if classifier.coef_.shape[0] == 1:
        raise ValueError("area model needs at least three areas in its training data")
    coef = np.round(classifier.coef_, SETTINGS["round_digits"])
    coef[np.abs(coef) < SETTINGS["prune_below"]] = 0.0
    classifier.coef_ = coef
    classifier.intercept_ = np.round(classifier.intercept_, SETTINGS["round_digits"])
    fitted = Fitted(vectorizer, classifier, classes)
    if [Area(c) for c in classifier.classes_] != classes:
        raise AssertionError("class order differs from scikit-learn's")
    return fitted


def export(fitted: Fitted, sha256: str) -> dict:
    """The fitted model as plain data: idf per n-gram, non-zero weights per class."""
    vocabulary: dict[str, int] = fitted.vectorizer.vocabulary_
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    n_terms = len(terms)
    coef = fitted.classifier.coef_
    idf = fitted.vectorizer.idf_
    weights = [{terms[j]: float(row[j]) for j in np.flatnonzero(row[:n_terms])} for row in coef]
    # An n-gram no class weighs still counts in the vector's norm: keep its idf.
    return {
        "classes": [a.value for a in fitted.classes],
        "settings": SETTINGS,
        "training_data_sha256": sha256,
        "intercepts": [float(v) for v in fitted.classifier.intercept_],
        "keyword_weights": [[float(v) for v in row[n_terms:]] for row in coef],
        "idf": {t: round(float(idf[vocabulary[t]]), 12) for t in terms},
        "weights": weights,
    }


def _idf_rounded(fitted: Fitted) -> None:
    """Make scikit-learn use the exported (rounded) idf, so both sides are one model."""
    fitted.vectorizer.idf_ = np.round(fitted.vectorizer.idf_, 12)


def train(examples: list[Example]) -> tuple[Fitted, AreaModel, dict]:
    texts = [e.evidence for e in examples]
    fitted = fit(texts, [e.area for e in examples])
    _idf_rounded(fitted)
    data = export(fitted, data_sha256(examples))
    return fitted, AreaModel.from_json(data), data


def cross_validate(examples: list[Example]) -> None:
    """Leave one document out: train on the rest, predict its items; keywords vs model."""
    documents = sorted({e.document for e in examples})
    right: Counter[tuple[str, str]] = Counter()
    total: Counter[str] = Counter()
    ratios: list[tuple[float, bool]] = []
    for held in documents:
        train_set = [e for e in examples if e.document != held]
        test_set = [e for e in examples if e.document == held]
        fitted = fit([e.evidence for e in train_set], [e.area for e in train_set])
        predicted = fitted.predict([e.evidence for e in test_set])
        probabilities = np.sort(
            fitted.classifier.predict_proba(fitted.features([e.evidence for e in test_set]))
        )
        for example, model_area, p in zip(test_set, predicted, probabilities, strict=True):
            ratios.append((p[-2] / p[-1], model_area.value != example.area))
            group = "gold" if example.document.startswith("eval/") else "synthetic"
            for key in (example.kind, "overall", f"overall ({group})"):
                total[key] += 1
                right[key, "keywords"] += keyword_area(example.evidence).value == example.area
                right[key, "model"] += model_area.value == example.area
    print(f"leave-one-document-out over {len(documents)} documents, {len(examples)} items")
    print(f"{'list':<22}{'items':>6}{'keywords':>10}{'model':>8}")
    for key in (*LISTS, "overall", "overall (gold)", "overall (synthetic)"):
        n = total[key]
        print(f"{key:<22}{n:>6}{right[key, 'keywords'] / n:>10.3f}{right[key, 'model'] / n:>8.3f}")
    _print_close_calls(ratios)


def _print_close_calls(ratios: list[tuple[float, bool]]) -> None:
    """How well "runner-up probability / best >= r" singles out the model's wrong calls."""
    wrong = sum(w for _, w in ratios)
    print(f"model close calls (runner-up / best >= r) against its {wrong} wrong calls:")
    print(f"{'r':>6}{'flagged':>9}{'precision':>11}{'recall':>8}")
    for r in (0.1, 0.2, 0.3, 0.5, 0.7):
        flagged = [w for ratio, w in ratios if ratio >= r]
        precision = sum(flagged) / len(flagged) if flagged else 0.0
        print(f"{r:>6.1f}{len(flagged):>9}{precision:>11.3f}{sum(flagged) / max(wrong, 1):>8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="leave-one-document-out figures only")
    args = parser.parse_args()
    examples = load_examples()
    if args.cv:
        cross_validate(examples)
        return
    _fitted, _model, data = train(examples)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    OUTPUT.write_text(text + "\n", encoding="utf-8")
    kept = sum(len(w) for w in data["weights"])
    print(f"{len(examples)} items, {len(data['idf'])} n-grams, {kept} weights kept")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
