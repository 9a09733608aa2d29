"""Scoring's shortcuts change no score: memoised keys and similarities, the key's NFKC
pre-pass, the plausible-pair filter, the sparse span and metric pairs, the skipped solver;
and the scoring benchmark's cold mode (which clears the caches) runs."""

from __future__ import annotations

import math
import os
import random
import re
import subprocess
import sys
import unicodedata
from collections import Counter

import numpy as np
from conftest import REPO

from extractor.core.normalise import _key, bigram_coverage, bigram_dice, clear_caches, matching_key
from extractor.evaluation import scoring
from extractor.evaluation.matching import (
    SourceKey,
    assign,
    assign_edges,
    dense,
    iou,
    overlap,
    span_edges,
    span_weights,
)
from extractor.evaluation.matching import clear_caches as clear_scorer_caches
from extractor.evaluation.scoring import score_document

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
    assert "fresh process: start-up and imports" in done.stdout


def test_importing_the_scorer_leaves_the_solver_and_the_check_stage_unloaded() -> None:
    # Start-up of a process that scores: scipy's solver loads when a matching needs it.
    code = (
        "import sys, extractor.evaluation.scoring; "
        "print(sorted(m for m in ('scipy', 'numpy', 'extractor.check') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "[]"


_TRICKY = (
    "法治政府建设，全面提升（２０２４年）：１２３件；ＡＢＣ！"  # full-width forms
    "\u3000\xa0\u2002\u202f \n\t"  # typographic spaces and plain whitespace
    "\u0301\u0308\u3099"  # combining marks: compose with whatever precedes them
    "ｶﾞﾊﾟ①㎡…℃ﬁÅé가\u1100\u1161"  # other compatibility and composable characters
)


def _reference_key(text: str) -> str:
    """The spec's matching key, computed the plain way."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def test_matching_keys_of_long_texts_equal_the_plain_nfkc_key() -> None:
    rng = random.Random(5)
    texts = ["Ａ\u0301" * 200, "\u3000\u0301" * 200, "".join(chr(0xFF01 + i) for i in range(94)) * 3]
    texts += ["".join(rng.choice(_TRICKY) for _ in range(rng.randint(250, 900))) for _ in range(300)]
    for text in texts:
        clear_caches()
        assert matching_key(text) == _reference_key(text), text


def test_similarity_shortcuts_give_the_computed_coefficient() -> None:
    rng = random.Random(9)
    for _ in range(400):
        a = "".join(rng.choice("法治政府建设年件") for _ in range(rng.randint(0, 12)))
        b = rng.choice(
            [a, a[::-1], "".join(rng.choice("法治政府建设年件") for _ in range(rng.randint(0, 12)))]
        )
        grams_a = Counter(_bigram_list(_reference_key(a)))
        grams_b = Counter(_bigram_list(_reference_key(b)))
        total = sum(grams_a.values()) + sum(grams_b.values())
        expected = 1.0 if total == 0 else 2.0 * sum((grams_a & grams_b).values()) / total
        clear_caches()
        assert bigram_dice(a, b) == expected  # computed, memoised or shortcut alike
        assert bigram_dice(a, b) == expected
        assert bigram_dice(a, b, floor=0.5) in (expected, 0.0 if expected < 0.5 else expected)


def test_bigram_coverage_and_dice_of_long_passages_equal_their_definition() -> None:
    rng = random.Random(12)
    cases = [("", "法治"), (" \n", "法治"), ("法", "法治"), ("法治" * 40, "法治政府" * 30)]
    for _ in range(200):
        cases.append(
            tuple("".join(rng.choice("法治政府建设年件 ") for _ in range(rng.randint(0, 150))) for _ in "pw")
        )
    for part, whole in cases:
        grams_part = Counter(_bigram_list(_reference_key(part)))
        grams_whole = Counter(_bigram_list(_reference_key(whole)))
        size = sum(grams_part.values())
        common = sum((grams_part & grams_whole).values())
        clear_caches()
        assert bigram_coverage(part, whole) == (common / size if size else 1.0)
        total = size + sum(grams_whole.values())
        assert bigram_dice(part, whole) == (2.0 * common / total if total else 1.0)


def _bigram_list(key: str) -> list[str]:
    return [key] if len(key) == 1 else [key[i : i + 2] for i in range(len(key) - 1)]


def test_span_edges_equal_the_all_pairs_definition() -> None:
    rng = random.Random(3)
    for _ in range(300):
        spans = [
            [None if rng.random() < 0.1 else _random_span(rng) for _ in range(rng.randint(0, 12))]
            for _ in "pg"
        ]
        expected = {}
        for i, p in enumerate(spans[0]):
            for j, g in enumerate(spans[1]):
                if p is None or g is None:
                    continue
                shorter = min(p[1] - p[0], g[1] - g[0])
                if overlap(p, g) >= 0.5 * shorter > 0:
                    expected[i, j] = iou(p, g)
        assert span_edges(spans[0], spans[1]) == expected


def _random_span(rng: random.Random) -> tuple[int, int]:
    start = rng.randint(0, 60)
    return start, start + rng.randint(1, 25)


def test_assign_edges_picks_what_the_solver_picks_on_the_whole_matrix() -> None:
    rng = random.Random(4)
    for _ in range(500):
        shape = (rng.randint(0, 7), rng.randint(0, 7))
        # Few distinct weights: ties between equally good matchings are common, as with an
        # item split in two equal halves.
        edges = {
            (i, j): rng.choice([0.25, 0.5, 1.0])
            for i in range(shape[0])
            for j in range(shape[1])
            if rng.random() < 0.25
        }
        assert assign_edges(edges, shape) == assign(dense(edges, shape))


def test_metric_pairs_equal_the_all_pairs_definition() -> None:
    rng = random.Random(8)
    compared = 0
    for pred, gold, source in bench_scoring.build_pairs(20, seed=13):
        for achievement in pred.achievements:
            for metric in achievement.metrics:
                # Values just inside and just outside the tolerance, and ones equal to nothing.
                metric.value = metric.value * rng.choice(
                    [1, 1, 1 + 4e-7, 1 - 4e-7, 1 + 3e-6, math.inf, math.nan]
                )
        key = SourceKey(source)
        preds, golds = scoring._locate_metrics(pred, key), scoring._locate_metrics(gold, key)
        expected = {}
        for i, p in enumerate(preds):
            for j, g in enumerate(golds):
                weight = scoring.metric_weight(p, g) if math.isfinite(p.metric.value) else None
                if weight is not None:
                    expected[i, j] = weight
        assert scoring._metric_edges(preds, golds) == expected
        compared += len(expected)
    assert compared > 100


def test_scores_do_not_depend_on_what_the_caches_hold() -> None:
    pairs = bench_scoring.build_pairs(12, seed=21)
    clear_caches()
    warm = [score_document(pred, gold, source) for pred, gold, source in pairs * 2][len(pairs) :]
    cold = []
    for pred, gold, source in pairs:
        clear_scorer_caches()
        cold.append(score_document(pred, gold, source))
    assert [s.model_dump() for s in warm] == [s.model_dump() for s in cold]
