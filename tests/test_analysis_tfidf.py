"""The analysis's own TF-IDF and clustering give what scikit-learn gave (it is no longer
imported by the analysis: its import cost more than the analysis of 1,000 records)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extractor.analysis.records import item_wording
from extractor.analysis.tfidf import average_clusters, char_tfidf, pair_similarities
from extractor.core.schema import Record

GOLD = Path(__file__).resolve().parents[1] / "eval" / "analysis" / "gold"


def _wordings() -> list[str]:
    records = [Record.model_validate_json(p.read_text(encoding="utf-8")) for p in sorted(GOLD.glob("*.json"))]
    items = [item for r in records for item in (*r.problems, *r.plans, *r.achievements)]
    # Mixed case and whitespace runs, which the vectoriser lower-cases and squeezes.
    return [item_wording(i.text, i.evidence) for i in items] + ["ABC  规范 \n 执法", "abc 规范 执法"]


def test_tfidf_vectors_and_similarities_are_scikit_learns_to_the_bit() -> None:
    text = pytest.importorskip("sklearn.feature_extraction.text")
    wordings = _wordings()
    expected = text.TfidfVectorizer(analyzer="char", ngram_range=(1, 2)).fit_transform(wordings)
    got = char_tfidf(wordings)
    assert got.shape == expected.shape
    assert np.array_equal(got.indptr, expected.indptr)
    assert np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data, expected.data)
    assert np.array_equal((got @ got.T).toarray(), (expected @ expected.T).toarray())


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9, 0.95])
def test_average_clusters_are_scikit_learns_agglomerative_clusters(threshold: float) -> None:
    cluster = pytest.importorskip("sklearn.cluster")
    vectors = char_tfidf(_wordings())
    distance = np.clip(1.0 - (vectors @ vectors.T).toarray(), 0.0, 2.0)
    expected = cluster.AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=threshold
    ).fit_predict(distance)
    got = average_clusters(distance, distance_threshold=threshold)
    # The same partition (cluster numbers themselves are arbitrary).
    pairs = {(a, b) for a in range(len(got)) for b in range(len(got)) if got[a] == got[b]}
    expected_pairs = {(a, b) for a in range(len(got)) for b in range(len(got)) if expected[a] == expected[b]}
    assert pairs == expected_pairs
    assert 1 < len(set(got)) < len(got)


def test_pair_similarities_are_scipys_sparse_product_to_the_bit() -> None:
    # Follow-through compares each plan with the next report's achievements; its thresholds
    # must decide exactly as with scipy's product, so the floats must be the same, not close.
    vectors = char_tfidf(_wordings())
    size = vectors.shape[0]
    rng = np.random.default_rng(7)
    for _ in range(20):
        rows = list(rng.choice(size, size=int(rng.integers(1, 12)), replace=True))
        columns = list(rng.choice(size, size=int(rng.integers(1, 30)), replace=True))
        expected = (vectors[rows] @ vectors[columns].T).toarray()
        assert np.array_equal(pair_similarities(vectors, rows, columns), expected)
    assert pair_similarities(vectors, [0], []).shape == (1, 0)


def test_empty_and_single_texts() -> None:
    assert char_tfidf(["一"]).shape == (1, 1)
    assert average_clusters(np.zeros((1, 1)), distance_threshold=0.9) == [0]


def test_page_names_ten_regions_per_theme_and_counts_the_rest() -> None:
    from extractor.analysis.charts import region_list

    regions = [f"{n:03d}县" for n in range(12)]
    assert region_list(regions[:10]) == "、".join(regions[:10])
    assert region_list(regions) == "、".join(regions[:10]) + "等12个地区"
