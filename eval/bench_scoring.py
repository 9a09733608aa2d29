"""Benchmark: score 1,000 prediction/gold pairs; bars 1.5 s of CPU warm, 3 s cold.

The pairs are synthetic, built from the seed reports in eval/docs (no gold files needed):
each report's paragraphs become gold items (achievements, then problems, then plans) with
metrics found by a simple number+unit pattern; each prediction is the gold record with
seeded random damage (dropped, split and merged items, wrong areas, paraphrased quotes,
dropped or mis-unit metrics, a wrong meta field), so the scorer exercises every path.

Run: python eval/bench_scoring.py [--pairs 1000] [--cold]
`--cold` clears the scorer's caches (report keys, located passages, matching keys, bigrams,
similarities) before every pair: the synthetic pairs reuse the seed reports' paragraphs, so
a warm cache flatters the figure. It also prints what a fresh process spends starting and
importing the scorer (numpy and scipy's solver included), and the cold total with it.
CPU time is what is compared with the bar (the machine may be shared); wall time is shown.
Exits 1 if the CPU time of scoring is over the bar.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

from extractor.core.schema import Achievement, Area, Meta, Metric, Period, Plan, Problem, Record
from extractor.evaluation import matching
from extractor.evaluation.scoring import aggregate, score_document

DOCS = Path(__file__).resolve().parent / "docs"
#: CPU seconds for 1,000 pairs: with the scorer's caches warm, and cleared before every pair.
WARM_BAR_S = 1.5
COLD_BAR_S = 3.0
_METRIC = re.compile(r"(\d+(?:\.\d+)?)(人次|件|人|场|份|家|次|个|名|%|％|篇|万元|元)")
_AREAS = list(Area)


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if len(line.strip()) >= 12]


def _metrics(paragraph: str) -> list[Metric]:
    found = []
    for match in _METRIC.finditer(paragraph):
        start = max(0, match.start() - 6)
        found.append(
            Metric(
                name=paragraph[start : match.start()] or "数量",
                value=float(match.group(1)),
                unit=match.group(2),
                evidence=paragraph[start : match.end()],
            )
        )
    return found


def synthetic_gold(doc_id: str, text: str, rng: random.Random) -> Record:
    """A gold-shaped record whose every evidence is a verbatim paragraph of `text`."""
    paragraphs = _paragraphs(text)
    n = len(paragraphs)
    cut_a, cut_b = int(n * 0.6), int(n * 0.8)
    return Record(
        doc_id=doc_id,
        meta=Meta(issuer="某县司法局", region="某县", report_year=2024, period=Period.ANNUAL, plan_year=2025),
        achievements=[
            Achievement(area=rng.choice(_AREAS), text=p[:20], evidence=p, metrics=_metrics(p))
            for p in paragraphs[:cut_a]
        ],
        problems=[
            Problem(area=rng.choice(_AREAS), text=p[:20], evidence=p, cause=rng.choice([None, p[-15:]]))
            for p in paragraphs[cut_a:cut_b]
        ],
        plans=[Plan(area=rng.choice(_AREAS), text=p[:20], evidence=p) for p in paragraphs[cut_b:]],
    )


def _damage_items(items: list, rng: random.Random) -> list:
    out = []
    for item in items:
        roll = rng.random()
        copy = item.model_copy(deep=True)
        if roll < 0.08:
            continue  # dropped: a miss
        if roll < 0.16 and len(copy.evidence) > 20:
            half = len(copy.evidence) // 2
            second = copy.model_copy(update={"evidence": copy.evidence[half:], "text": copy.text[::-1]})
            copy.evidence = copy.evidence[:half]
            out += [copy, second]  # split: a true positive and a false positive
            continue
        if roll < 0.24:
            copy.area = rng.choice(_AREAS)
        elif roll < 0.30 and len(copy.evidence) > 10:
            middle = len(copy.evidence) // 2
            copy.evidence = copy.evidence[:middle] + copy.evidence[middle + 1 :]  # not verbatim
        elif roll < 0.34 and out:
            out[-1] = out[-1].model_copy(update={"evidence": out[-1].evidence + copy.evidence})  # merged
            continue
        for metric in getattr(copy, "metrics", []):
            if rng.random() < 0.1:
                metric.unit = "人" if metric.unit != "人" else "件"
        if hasattr(copy, "metrics") and copy.metrics and rng.random() < 0.1:
            copy.metrics.pop()
        out.append(copy)
    return out


def synthetic_prediction(gold: Record, rng: random.Random) -> Record:
    pred = gold.model_copy(deep=True)
    pred.achievements = _damage_items(gold.achievements, rng)
    pred.problems = _damage_items(gold.problems, rng)
    pred.plans = _damage_items(gold.plans, rng)
    if rng.random() < 0.3:
        pred.meta.plan_year = 2024
    return pred


def build_pairs(count: int, seed: int = 7) -> list[tuple[Record, Record, str]]:
    """`count` (prediction, gold, source) triples over the seed reports, deterministic."""
    rng = random.Random(seed)
    texts = {path.stem: path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.txt"))}
    if not texts:
        raise SystemExit(f"no reports in {DOCS}")
    ids = list(texts)
    pairs = []
    for i in range(count):
        doc_id = ids[i % len(ids)]
        gold = synthetic_gold(doc_id, texts[doc_id], rng)
        pairs.append((synthetic_prediction(gold, rng), gold, texts[doc_id]))
    return pairs


def clear_scoring_caches() -> None:
    """Forget everything the scorer memoises: report keys, matching keys, bigrams."""
    matching.clear_caches()


#: What the scorer imports on first use: the assignment solver and its arrays.
_SOLVER_MODULES = ("numpy", "scipy.optimize")


def start_up_cpu() -> float:
    """CPU seconds a fresh interpreter spends starting and importing the scorer."""
    code = (
        f"import time, extractor.evaluation.scoring, {', '.join(_SOLVER_MODULES)}; print(time.process_time())"
    )
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--cold", action="store_true", help="clear the scorer's caches before every pair")
    args = parser.parse_args()

    pairs = build_pairs(args.pairs)
    for module in _SOLVER_MODULES:  # importing the solver is start-up, not scoring
        importlib.import_module(module)
    gold_items = sum(len(g.achievements) + len(g.problems) + len(g.plans) for _, g, _ in pairs)
    gold_metrics = sum(len(a.metrics) for _, g, _ in pairs for a in g.achievements)

    start, cpu_start = time.perf_counter(), time.process_time()
    scores = []
    for pred, gold, source in pairs:
        if args.cold:
            clear_scoring_caches()
        scores.append(score_document(pred, gold, source))
    overall = aggregate(scores)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    bar = COLD_BAR_S if args.cold else WARM_BAR_S

    print(
        f"scored {len(pairs)} pairs ({gold_items} gold items, {gold_metrics} gold metrics) "
        f"in {elapsed:.2f} s wall, {cpu:.2f} s CPU ({1000 * cpu / len(pairs):.1f} ms CPU/pair)"
        f"{' [cold]' if args.cold else ''}; "
        f"bar < {bar:.1f} s CPU (for 1,000 pairs)"
    )
    print(
        f"sanity: achievements F1 {overall.achievements.f1:.3f}, metrics F1 {overall.metrics.f1:.3f}, "
        f"area acc {overall.area_accuracy:.3f}, grounding {overall.grounding.share:.3f}"
    )
    if args.cold:
        start_up = start_up_cpu()
        print(
            f"fresh process: start-up and imports {start_up:.2f} s CPU; "
            f"with the cold scoring {start_up + cpu:.2f} s CPU"
        )
    return 0 if cpu * 1000 / len(pairs) < bar else 1


if __name__ == "__main__":
    sys.exit(main())
