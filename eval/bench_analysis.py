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
import re
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
from extractor.store.grounding import recheck_record

HERE = Path(__file__).resolve().parent / "analysis"
TARGET_S = 5.0


def fixtures() -> list[tuple[Record, str]]:
    out = []
    for path in sorted((HERE / "gold").glob("*.json")):
        record = Record.model_validate_json(path.read_text(encoding="utf-8"))
        out.append((record, (HERE / "docs" / f"{record.doc_id}.txt").read_text(encoding="utf-8")))
    return out


def copy_under(record: Record, text: str, copy: int) -> tuple[Record, str]:
    """The record and its report as if a new issuer had written them: new names, counts scaled
    a little. A scaled figure is rewritten in the report and in every evidence quoting it, so
    the copy stays grounded (a reviewer could approve it)."""
    new = record.model_copy(deep=True)
    base = record.doc_id.rsplit("-", 1)
    new.doc_id = f"{base[0]}{copy:03d}-{base[1]}"
    region = record.meta.region or ""
    suffix = region[-1:]
    new.meta.region = f"{region[:-1]}{copy:03d}{suffix}"
    new.meta.issuer = (record.meta.issuer or "").replace(region, new.meta.region)
    factor = 1 + (copy % 7) / 10
    items = [*new.achievements, *new.problems, *new.plans]
    for item in new.achievements:
        for metric in item.metrics:
            written = re.findall(rf"(?<![\d.]){metric.value:g}(?![\d.])", metric.evidence)
            if metric.unit in {"%", "％"} or metric.value != int(metric.value) or len(written) != 1:
                continue
            scaled = round(metric.value * factor)
            quoted = re.sub(rf"(?<![\d.]){metric.value:g}(?![\d.])", str(scaled), metric.evidence)
            if metric.evidence not in text:
                continue
            text = text.replace(metric.evidence, quoted)
            for other in items:
                other.evidence = other.evidence.replace(metric.evidence, quoted)
            metric.evidence, metric.value = quoted, scaled
    return new, text


def fill(url: str, count: int) -> int:
    """Store `count` approved copies; returns how many needed an override (figures the
    rewrite could not keep grounded)."""
    base = fixtures()
    overridden = 0
    with Store(url) as store:
        run_id = store.start_run(backend="rules")
        for n in range(count):
            record, text = base[n % len(base)]
            copied, copied_text = copy_under(record, text, n // len(base))
            doc = SourceDocument(
                doc_id=copied.doc_id,
                path=f"{copied.doc_id}.txt",
                text=f"{copied_text}\n{copied.meta.issuer}",
                format="txt",
            )
            info = store.save_extraction(doc, copied, run_id=run_id)
            _, problems = recheck_record(copied, doc.text)
            overridden += bool(problems)
            store.save_review(
                copied.doc_id,
                copied,
                base_version=info.version,
                reviewer="基准",
                status="approved",
                overridden={p.path for p in problems},
            )
    return overridden


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
            overridden = fill(url, args.records)
            print(
                f"stored {args.records} approved records in {time.perf_counter() - start:.1f} s (not timed; "
                f"{overridden} approved with an override)"
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
