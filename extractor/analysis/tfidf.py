"""Character 1-2-gram TF-IDF vectors and average-linkage clusters, without scikit-learn.

scikit-learn's import alone (it pulls scipy.stats and pandas) took longer than the whole
analysis of 1,000 records, and only its TfidfVectorizer and AgglomerativeClustering were
used. `char_tfidf` gives the same vectors as `TfidfVectorizer(analyzer="char",
ngram_range=(1, 2))` (lower-cased, runs of whitespace as one space, smooth idf, l2 norm),
stored in the same order, so similarities are the same to the last bit;
`average_clusters` cuts scipy's average-linkage tree where AgglomerativeClustering with a
`distance_threshold` does (merges closer than the threshold are kept).
tests/test_analysis_tfidf.py compares both with scikit-learn.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix

_WHITESPACE_RUNS = re.compile(r"\s\s+")


def _char_grams(text: str) -> list[str]:
    text = _WHITESPACE_RUNS.sub(" ", text.lower())
    return [*text, *(text[i : i + 2] for i in range(len(text) - 1))]


def char_tfidf(texts: Sequence[str]) -> csr_matrix:
    """One l2-normalised TF-IDF row per text over its character unigrams and bigrams."""
    # Feature numbers by first appearance, as scikit-learn counts them (this fixes the order
    # of each row's entries and so the order in which dot products add up).
    first_seen: dict[str, int] = {}
    indices: list[int] = []
    counts: list[int] = []
    indptr = [0]
    for text in texts:
        row: dict[int, int] = {}
        for gram in _char_grams(text):
            feature = first_seen.setdefault(gram, len(first_seen))
            row[feature] = row.get(feature, 0) + 1
        for feature in sorted(row):
            indices.append(feature)
            counts.append(row[feature])
        indptr.append(len(indices))
    # Columns renamed to the alphabetical order scikit-learn reports, entries left in place.
    alphabetical = np.empty(len(first_seen), dtype=np.int32)
    for column, (_, feature) in enumerate(sorted(first_seen.items())):
        alphabetical[feature] = column
    columns = alphabetical[np.asarray(indices, dtype=np.int32)] if indices else np.zeros(0, np.int32)
    data = np.asarray(counts, dtype=np.float64)
    document_frequency = np.bincount(columns, minlength=len(first_seen)).astype(np.float64) + 1.0
    idf = np.log(np.full_like(document_frequency, len(texts) + 1) / document_frequency) + 1.0
    data *= idf[columns]
    for start, end in itertools.pairwise(indptr):
        if end > start:
            # Added one by one, as scikit-learn's normaliser does (no pairwise summation).
            norm = np.sqrt(np.cumsum(data[start:end] * data[start:end])[-1])
            if norm != 0.0:
                data[start:end] /= norm
    return csr_matrix((data, columns, np.asarray(indptr)), shape=(len(texts), len(first_seen)))


def pair_similarities(vectors: csr_matrix, rows: Sequence[int], columns: Sequence[int]) -> np.ndarray:
    """`(vectors[rows] @ vectors[columns].T).toarray()`, bit for bit, without scipy's
    per-call checks (which, per report pair, were most of what follow-through cost).

    scipy's sparse product adds each dot product up from zero in the order of the left row's
    stored entries; the running sum over the same order (a missing entry adds 0.0, which
    changes nothing) gives the same floats, so thresholds decide exactly as before.
    """
    indptr, indices, data = vectors.indptr, vectors.indices, vectors.data
    dense = np.zeros((len(columns), vectors.shape[1]))
    for position, row in enumerate(columns):
        start, end = indptr[row], indptr[row + 1]
        dense[position, indices[start:end]] = data[start:end]
    out = np.zeros((len(rows), len(columns)))
    for position, row in enumerate(rows):
        start, end = indptr[row], indptr[row + 1]
        if end > start and len(columns):
            products = dense[:, indices[start:end]] * data[start:end]
            out[position] = np.cumsum(products, axis=1)[:, -1]
    return out


def average_clusters(distance: np.ndarray, *, distance_threshold: float) -> list[int]:
    """A cluster number per row of the square `distance` matrix: average linkage, merging
    while the closest groups are nearer than `distance_threshold`; deterministic."""
    # Imported here: scipy.cluster pulls in scipy.spatial, a third of a second that a
    # restarted review server showing a kept analysis does not need.
    from scipy.cluster.hierarchy import cut_tree, linkage

    size = distance.shape[0]
    if size <= 1:
        return [0] * size
    upper_rows, upper_columns = np.triu_indices(size, k=1)
    tree = linkage(distance[upper_rows, upper_columns], method="average")
    clusters = int(np.count_nonzero(tree[:, 2] >= distance_threshold)) + 1
    return [int(label) for label in cut_tree(tree, n_clusters=clusters).ravel()]
