"""Benchmark: rules backend throughput on one core.

Runs the five seed reports repeated 200 times (1,000 reports) through segment → rules →
ground → validate, in this process (one core), and prints reports per second.
Target: >= 100 reports/s.   Usage: python eval/bench_rules.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from extractor.load import load_document
from extractor.pipeline import extract_document

DOCS = Path(__file__).resolve().parent / "docs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    docs = [load_document(p) for p in sorted(DOCS.glob("*.txt"))]
    extract_document(docs[0])  # warm-up: regex compilation, imports
    started = time.perf_counter()
    cpu_started = time.process_time()
    items = 0
    for _ in range(args.repeat):
        for doc in docs:
            record = extract_document(doc)
            items += len(record.achievements) + len(record.problems) + len(record.plans)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    n = args.repeat * len(docs)
    print(
        f"rules backend: {n} reports in {elapsed:.2f} s wall ({n / elapsed:.1f} reports/s), "
        f"{cpu:.2f} s CPU ({n / cpu:.1f} reports/s on one core); "
        f"{items / n:.0f} items per report; target >= 100 reports/s"
    )


if __name__ == "__main__":
    main()
