"""Benchmark: rules backend throughput on one core.

Runs the five seed reports repeated 200 times (1,000 reports) through the whole offline
extraction (segment → rules → ground → validate) in this one process, in 5 rounds of 200
reports, and prints reports per second of CPU time: overall and for the fastest round
(timeit's convention: on a shared machine the fastest round is the least disturbed one).
Target: >= 100 reports/s.   Usage: python eval/bench_rules.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from extractor.load import load_document
from extractor.pipeline.run import extract_document

DOCS = Path(__file__).resolve().parent / "docs"
ROUNDS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="times each seed is extracted")
    args = parser.parse_args()
    docs = [load_document(p) for p in sorted(DOCS.glob("*.txt"))]
    extract_document(docs[0])  # warm-up: imports, regex compilation
    per_round = max(1, args.repeat // ROUNDS)
    rounds: list[float] = []
    items = 0
    wall_started = time.perf_counter()
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(per_round):
            for doc in docs:
                record = extract_document(doc)
                items += len(record.achievements) + len(record.problems) + len(record.plans)
        rounds.append(time.process_time() - started)
    wall = time.perf_counter() - wall_started
    n = per_round * ROUNDS * len(docs)
    cpu = sum(rounds)
    best = per_round * len(docs) / min(rounds)
    print(
        f"rules backend: {n} reports ({items / n:.0f} items each) in {cpu:.2f} s CPU, {wall:.2f} s wall: "
        f"{n / cpu:.1f} reports/s on one core overall, {best:.1f} reports/s in the fastest round "
        f"(target >= 100)"
    )


if __name__ == "__main__":
    main()
