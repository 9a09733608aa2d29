"""Benchmark: `extractor analyse` over 1,000 stored, approved records (target < 5 s).

Builds a temporary SQLite store holding the eight hand-labelled reports of eval/analysis
repeated under 125 made-up issuers (1,000 records; each copy's figures scaled so values
differ), every record approved, then runs `extractor analyse --out FILE.xlsx` as a user
would (a fresh process: imports, reading the store, mapping, themes, follow-through, the
workbook) and prints its wall-clock and CPU time. The machine may be shared: CPU time is
the steadier figure. Setting up the store is not timed.

Run: python eval/bench_analysis.py [--records 1000] [--repeat 3] [--db URL]
Prints the median wall time of the runs; exits 1 if it is over the target.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from extractor.core.document import SourceDocument
from extractor.core.schema import Record
from extractor.store import Store

HERE = Path(__file__).resolve().parent / "analysis"
TARGET_S = 5.0


def fixtures() -> list[tuple[Record, str]]:
    out = []
    for path in sorted((HERE / "gold").glob("*.json")):
        record = Record.model_validate_json(path.read_text(encoding="utf-8"))
        out.append((record, (HERE / "docs" / f"{record.doc_id}.txt").read_text(encoding="utf-8")))
    return out


def copy_under(record: Record, copy: int) -> Record:
    """The record as if a new issuer had written it: new names, figures scaled a little."""
    new = record.model_copy(deep=True)
    base = record.doc_id.rsplit("-", 1)
    new.doc_id = f"{base[0]}{copy:03d}-{base[1]}"
    region = record.meta.region or ""
    suffix = region[-1:]
    new.meta.region = f"{region[:-1]}{copy:03d}{suffix}"
    new.meta.issuer = (record.meta.issuer or "").replace(region, new.meta.region)
    factor = 1 + (copy % 7) / 10
    for item in new.achievements:
        for metric in item.metrics:
            if metric.unit not in {"%", "％"}:
                metric.value = round(metric.value * factor)
    return new


def fill(url: str, count: int) -> None:
    base = fixtures()
    with Store(url) as store:
        run_id = store.start_run(backend="rules")
        for n in range(count):
            record, text = base[n % len(base)]
            copied = copy_under(record, n // len(base))
            doc = SourceDocument(
                doc_id=copied.doc_id,
                path=f"{copied.doc_id}.txt",
                text=f"{text}\n{copied.meta.issuer}",
                format="txt",
            )
            info = store.save_extraction(doc, copied, run_id=run_id)
            store.save_review(
                copied.doc_id, copied, base_version=info.version, reviewer="基准", status="approved"
            )


def timed_run(url: str, out: Path) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from extractor.cli import main; main()",
            "analyse",
            "--db",
            url,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"extractor analyse failed: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="An existing database to analyse instead of building one.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if not args.db:
            start = time.perf_counter()
            fill(url, args.records)
            print(
                f"stored {args.records} approved records in {time.perf_counter() - start:.1f} s (not timed)"
            )
        runs = [timed_run(url, Path(tmp) / "analysis.xlsx") for _ in range(args.repeat)]
    print(runs[-1][2])
    for index, (wall, cpu, _) in enumerate(runs, start=1):
        print(f"run {index}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    median = statistics.median(wall for wall, _, _ in runs)
    print(
        f"extractor analyse over {args.records} records: median {median:.2f} s wall (target < {TARGET_S:.0f} s)"
    )
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
