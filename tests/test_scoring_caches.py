"""Scoring's shortcuts change no score: memoised keys, the plausible-pair filter, and the
scoring benchmark's cold mode (which clears the caches) runs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from conftest import REPO

from extractor.core.normalise import _key, clear_caches, matching_key
from extractor.evaluation import scoring
from extractor.evaluation.matching import SourceKey, dense, span_weights

sys.path.insert(0, str(REPO / "eval"))
import bench_scoring  # the benchmark's synthetic pairs exercise every path


def test_memoised_matching_keys_equal_fresh_ones() -> None:
    for text in ("ａｂ　ｃ１２３", "法治 政府\n建设", "x" * 5000 + "　", ""):
        assert matching_key(text) == _key(text)
        clear_caches()
        assert matching_key(text) == _key(text)


def _all_pairs_weights(preds, golds) -> np.ndarray:
    """The quality matrix with the fallback tried on every pair (no plausibility filter)."""
    weights = span_weights([p.span for p in preds], [g.span for g in golds])
    for i, pred in enumerate(preds):
        for j, gold in enumerate(golds):
            if pred.span is None or gold.span is None:
                similarity = scoring.fallback_similarity(pred.item, gold.item)
                if similarity is not None:
                    weights[i, j] = similarity
    return weights


def test_the_plausible_pair_filter_keeps_every_eligible_pair() -> None:
    compared = 0
    for pred, gold, source in bench_scoring.build_pairs(25, seed=11):
        key = SourceKey(source)
        for name in ("achievements", "problems", "plans"):
            preds = scoring._locate_items(getattr(pred, name), key)
            golds = scoring._locate_items(getattr(gold, name), key)
            # Some predictions with evidence not in the report, as the fallback is for.
            preds = [p if p.index % 3 else scoring._Located(p.index, p.item, None) for p in preds]
            expected = _all_pairs_weights(preds, golds)
            edges = scoring._item_edges(preds, golds)
            np.testing.assert_array_equal(dense(edges, (len(preds), len(golds))), expected)
            compared += int((~np.isnan(expected)).sum())
    assert compared > 100


def test_the_scoring_benchmark_runs_cold() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "eval" / "bench_scoring.py"), "--pairs", "20", "--cold"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "scored 20 pairs" in done.stdout and "[cold]" in done.stdout and "sanity:" in done.stdout
