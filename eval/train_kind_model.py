"""Train the segmenter's paragraph-kind classifier and write its weights into the package.

Training data: the lines of every hand-labelled plain-text report (eval/gold with eval/docs,
eval/holdout, tests/fixtures/synthetic*/), read as written, so the data (and its hash) depend
on the labelled files alone, not on the extractor's code. A line's label comes from the gold
record alone: the list of the item whose evidence covers most of it
(achievement, problem, plan), `cause` for a problem's cause text, else `other` (title,
introduction, heading line, signature). Model: TF-IDF of character 1-3-grams plus the keyword
counts of `kind_model.KEYWORD_PATTERNS` as extra features, into a logistic regression
(scikit-learn, a dev dependency, fixed seed). The fitted weights, pruned of tiny ones, go to
extractor/segment/kind_model.json and kind_model.bin (packed by `kind_model.pack`: raw floats, quick to read),
which `kind_model.py` applies in plain Python.

Usage: python eval/train_kind_model.py          # train and write the weights file
       python eval/train_kind_model.py --cv     # leave-one-document-out figures
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from extractor.core.normalise import matching_key
from extractor.segment.kind_model import (
    ACHIEVEMENT,
    CAUSE,
    NUMBERS_FILE,
    OTHER,
    PLAN,
    PROBLEM,
    WEIGHTS_FILE,
    KindModel,
    char_ngrams,
    keyword_features,
    model_text,
    pack,
)

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "extractor" / "segment" / WEIGHTS_FILE
NUMBERS_OUTPUT = ROOT / "extractor" / "segment" / NUMBERS_FILE
LIST_KIND = {"achievements": ACHIEVEMENT, "problems": PROBLEM, "plans": PLAN}
SETTINGS = {
    "ngram_range": [1, 3],
    "min_df": 3,
    "C": 4.0,
    "max_iter": 5000,
    "prune_below": 0.05,
    "round_digits": 5,
}


@dataclass(frozen=True)
class Example:
    document: str
    text: str
    kind: str


def labelled_documents(root: Path = ROOT) -> list[tuple[Path, Path]]:
    """(gold, text) pairs of every hand-labelled plain-text report, in a fixed order."""
    pairs = [
        (g, root / "eval" / "docs" / f"{g.stem}.txt") for g in sorted((root / "eval" / "gold").glob("*.json"))
    ]
    for gold in sorted(root.glob("eval/holdout/*.json")) + sorted(
        root.glob("tests/fixtures/synthetic*/*.json")
    ):
        sources = [gold.with_suffix(s) for s in (".txt", ".html", ".htm") if gold.with_suffix(s).exists()]
        if sources:
            pairs.append((gold, sources[0]))
    return pairs


def paragraph_label(key: str, spans: dict[str, list[str]]) -> str:
    """The kind whose gold passages cover most of the paragraph (half at least), else other."""
    covered: Counter[str] = Counter()
    for kind, passages in spans.items():
        for passage in passages:
            if key in passage:
                covered[kind] += len(key)
            elif passage in key:
                covered[kind] += len(passage)
    if not covered:
        return OTHER
    kind, chars = covered.most_common(1)[0]
    return kind if chars >= 0.5 * len(key) else OTHER


def load_examples(root: Path = ROOT) -> list[Example]:
    examples = []
    for gold_path, source in labelled_documents(root):
        record = json.loads(gold_path.read_text(encoding="utf-8"))
        spans: dict[str, list[str]] = {kind: [] for kind in (ACHIEVEMENT, PROBLEM, PLAN, CAUSE)}
        for list_name, kind in LIST_KIND.items():
            for item in record.get(list_name, []):
                spans[kind].append(matching_key(item["evidence"]))
                if item.get("cause"):
                    spans[CAUSE].append(matching_key(item["cause"]))
        document = str(gold_path.relative_to(root))
        for line in source.read_text(encoding="utf-8").splitlines():
            key = matching_key(line)
            if key:
                examples.append(Example(document, line.strip(), paragraph_label(key, spans)))
    return examples


def data_sha256(examples: list[Example]) -> str:
    blob = json.dumps([[e.document, e.text, e.kind] for e in examples], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Fitted:
    vectorizer: TfidfVectorizer
    classifier: LogisticRegression

    def features(self, texts: list[str]) -> csr_matrix:
        tfidf = self.vectorizer.transform([model_text(t) for t in texts])
        return hstack([tfidf, csr_matrix(np.array([keyword_features(t) for t in texts]))]).tocsr()


def fit(texts: list[str], labels: list[str]) -> Fitted:
    """Fit, then prune and round the weights in place, so that the scikit-learn model and the
    exported weights are the same model."""
    low, high = SETTINGS["ngram_range"]
    analyzer: Callable[[str], list[str]] = lambda text: char_ngrams(text, low, high)  # noqa: E731
    vectorizer = TfidfVectorizer(analyzer=analyzer, min_df=SETTINGS["min_df"], sublinear_tf=True)
    vectorizer.fit([model_text(t) for t in texts])
    vectorizer.idf_ = np.round(vectorizer.idf_, 12)
    fitted = Fitted(
        vectorizer, LogisticRegression(C=SETTINGS["C"], max_iter=SETTINGS["max_iter"], random_state=0)
    )
    fitted.classifier.fit(fitted.features(texts), labels)
    coef = np.round(fitted.classifier.coef_, SETTINGS["round_digits"])
    coef[np.abs(coef) < SETTINGS["prune_below"]] = 0.0
    fitted.classifier.coef_ = coef
    fitted.classifier.intercept_ = np.round(fitted.classifier.intercept_, SETTINGS["round_digits"])
    return fitted


def export(fitted: Fitted, sha256: str) -> dict:
    """The fitted model as plain data: idf per n-gram, non-zero weights per class."""
    vocabulary: dict[str, int] = fitted.vectorizer.vocabulary_
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    n_terms = len(terms)
    coef = fitted.classifier.coef_
    idf = fitted.vectorizer.idf_
    return {
        "classes": [str(c) for c in fitted.classifier.classes_],
        "settings": SETTINGS,
        "training_data_sha256": sha256,
        "intercepts": [float(v) for v in fitted.classifier.intercept_],
        "keyword_weights": [[float(v) for v in row[n_terms:]] for row in coef],
        # An n-gram no class weighs still counts in the vector's norm: keep its idf.
        "idf": {t: float(idf[vocabulary[t]]) for t in terms},
        "weights": [{terms[j]: float(row[j]) for j in np.flatnonzero(row[:n_terms])} for row in coef],
    }


def cross_validate(examples: list[Example]) -> None:
    """Leave one document out: paragraph accuracy per gold kind, and the kind of each run of
    consecutive same-kind paragraphs (a section's body, as the segmenter asks about it)."""
    documents = sorted({e.document for e in examples})
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for held in documents:
        train_set = [e for e in examples if e.document != held]
        test_set = [e for e in examples if e.document == held]
        fitted = fit([e.text for e in train_set], [e.kind for e in train_set])
        model = KindModel.from_json(export(fitted, ""))
        for example in test_set:
            total[example.kind] += 1
            right[example.kind] += max(model.probabilities(example.text).items(), key=lambda kv: kv[1])[
                0
            ] == (example.kind)
        body = [e for e in test_set if e.kind != OTHER]
        for kind, run in groupby(body, key=lambda e: PROBLEM if e.kind == CAUSE else e.kind):
            texts = [e.text for e in run]
            guess = model.section_kind(texts)
            total[f"section {kind}"] += 1
            right[f"section {kind}"] += guess == kind
            right[f"section {kind} undecided"] += guess is None
    print(f"leave-one-document-out over {len(documents)} documents, {len(examples)} paragraphs")
    print(f"{'gold kind':<24}{'n':>6}{'accuracy':>10}")
    for kind in (ACHIEVEMENT, PROBLEM, PLAN, CAUSE, OTHER):
        print(f"{'paragraph ' + kind:<24}{total[kind]:>6}{right[kind] / max(total[kind], 1):>10.3f}")
    n = sum(total[k] for k in (ACHIEVEMENT, PROBLEM, PLAN, CAUSE, OTHER))
    print(
        f"{'paragraph overall':<24}{n:>6}{sum(right[k] for k in (ACHIEVEMENT, PROBLEM, PLAN, CAUSE, OTHER)) / n:>10.3f}"
    )
    print(f"{'section run':<24}{'n':>6}{'right':>10}{'undecided':>11}")
    for kind in (ACHIEVEMENT, PROBLEM, PLAN):
        key = f"section {kind}"
        n = max(total[key], 1)
        print(f"{key:<24}{total[key]:>6}{right[key] / n:>10.3f}{right[key + ' undecided'] / n:>11.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="leave-one-document-out figures only")
    args = parser.parse_args()
    examples = load_examples()
    if args.cv:
        cross_validate(examples)
        return
    data = export(fit([e.text for e in examples], [e.kind for e in examples]), data_sha256(examples))
    packed, numbers = pack(data)
    OUTPUT.write_text(
        json.dumps(packed, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8",
    )
    NUMBERS_OUTPUT.write_bytes(numbers)
    kept = sum(len(w) for w in data["weights"])
    print(f"{len(examples)} paragraphs {dict(Counter(e.kind for e in examples))}")
    print(
        f"{len(data['idf'])} n-grams, {kept} weights kept; training data sha256 {data['training_data_sha256'][:12]}"
    )
    for path in (OUTPUT, NUMBERS_OUTPUT):
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
