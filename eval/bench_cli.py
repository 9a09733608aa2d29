"""Benchmark: the whole `extractor extract` process on 200 distinct text reports.

What a user waits for: start-up (imports), loading, the rules backend, the store (a SQLite
database that exists, as a user's does: made beforehand, not measured) and the JSON files,
in one process. The 200 reports are made from the
seed reports in eval/docs, each with its own place name and numbers (the store keeps one
row per distinct text, so copies would not cost what real reports cost).

Measured from the child process's own resource usage (os.wait4), so other work on a shared
machine does not count: CPU seconds (user + system) and peak resident memory. Each run is
repeated (--runs, best taken, timeit's convention); `extractor extract --help` is timed too
(start-up alone). The code measured is byte-compiled first, as `pip install` does for a user:
where PYTHONDONTWRITEBYTECODE is set (CI, this machine), every run would otherwise recompile
the project's modules, a cost no installed copy pays.

`--baseline DIR` runs the same batches with the code in another checkout (e.g. main's
worktree) in turns with this one and prints the CPU ratio: on a shared machine a ratio
measured side by side says more than either figure.

Bars: >= 100 reports per CPU second, peak memory <= 130 MB. Exits 1 if a bar is missed.
Usage: python eval/bench_cli.py [--reports 200] [--runs 3] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "eval" / "docs"
MIN_REPORTS_PER_CPU_S = 100.0
MAX_PEAK_MB = 130.0

_PLACE = re.compile(r"([\u4e00-\u9fff]{2})(?=[县区市])")
# ASCII numbers that are not years: years stay, so each report keeps its reporting period.
_NUMBER = re.compile(r"(?<![\d.])(\d+)(?![\d.]*年)")
_NAME_CHARS = "安宁长乐永平新兴东西南北青白石河清远嘉和福德兴华"


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    peak_mb: float
    returncode: int
    output: str


def make_reports(folder: Path, count: int) -> list[Path]:
    """`count` distinct reports: seed i % 5 with place name and numbers varied by i."""
    seeds = [path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.txt"))]
    written = []
    for i in range(count):
        text = seeds[i % len(seeds)]
        places = Counter(_PLACE.findall(text))
        if places:
            place = places.most_common(1)[0][0]
            text = text.replace(place, _place_name(i))
        shift = i // len(seeds) + 1
        text = _NUMBER.sub(lambda m, shift=shift: str(int(m.group(1)) + shift), text)
        path = folder / f"report-{i:03d}.txt"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _place_name(i: int) -> str:
    n = len(_NAME_CHARS)
    return _NAME_CHARS[i % n] + _NAME_CHARS[(i // n + 7) % n]


def run_cli(args: list[str], *, cwd: Path, code: Path = ROOT) -> Usage:
    """Run `extractor ARGS` (the code in `code`) as a child process; its own CPU time and
    peak memory."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("EXTRACTOR_DB_URL", None)
    with tempfile.TemporaryFile("w+") as log:
        child = subprocess.Popen(
            [sys.executable, "-c", "from extractor.cli import main; main()", *args],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _pid, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    return Usage(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode, output)


def extract_runs(work: Path, *, reports: int, runs: int, code: Path, label: str) -> list[Usage] | None:
    """`runs` batches of every report in work/in, each into a database made beforehand."""
    batches = []
    for run in range(runs):
        db = f"sqlite:///{work / f'{label}{run}.db'}"
        run_cli(["db", "upgrade", "--db", db], cwd=work, code=code)
        usage = run_cli(["extract", "in", "--out", f"{label}-out{run}", "--db", db], cwd=work, code=code)
        written = len(list((work / f"{label}-out{run}").glob("*.json")))
        if usage.returncode != 0 or written != reports:
            print(usage.output[-3000:])
            print(f"{label} run {run}: exit {usage.returncode}, {written} of {reports} records written")
            return None
        batches.append(usage)
    return batches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with, in turns")
    args = parser.parse_args()
    for code in (ROOT, args.baseline):
        if code is not None:
            compileall.compile_dir(code / "extractor", quiet=1)

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        make_reports(work / "in", args.reports)
        startup = min(
            (run_cli(["extract", "--help"], cwd=work) for _ in range(args.runs)), key=lambda u: u.cpu_s
        )
        batches: list[Usage] = []
        baseline: list[Usage] = []
        for run in range(args.runs):  # in turns, so both see the same machine load
            mine = extract_runs(work, reports=args.reports, runs=1, code=ROOT, label=f"this{run}-")
            if mine is None:
                return 1
            batches += mine
            if args.baseline is not None:
                theirs = extract_runs(
                    work, reports=args.reports, runs=1, code=args.baseline, label=f"base{run}-"
                )
                if theirs is None:
                    return 1
                baseline += theirs

    best = min(batches, key=lambda u: u.cpu_s)
    rate = args.reports / best.cpu_s
    peak = max(u.peak_mb for u in batches)
    print(f"start-up (extract --help): {startup.cpu_s:.2f} s CPU, {startup.peak_mb:.0f} MB peak")
    print(
        f"extract {args.reports} distinct reports, whole process: {best.cpu_s:.2f} s CPU (best of "
        f"{len(batches)}: {', '.join(f'{u.cpu_s:.2f}' for u in batches)}) = {rate:.1f} reports/s of CPU "
        f"(bar >= {MIN_REPORTS_PER_CPU_S:.0f}); peak memory {peak:.0f} MB (bar <= {MAX_PEAK_MB:.0f})"
    )
    if baseline:
        base_best = min(baseline, key=lambda u: u.cpu_s)
        print(
            f"baseline {args.baseline}: {base_best.cpu_s:.2f} s CPU (best of {len(baseline)}: "
            f"{', '.join(f'{u.cpu_s:.2f}' for u in baseline)}) = {args.reports / base_best.cpu_s:.1f} reports/s, "
            f"peak {max(u.peak_mb for u in baseline):.0f} MB; this checkout uses "
            f"{best.cpu_s / base_best.cpu_s:.2f}x its CPU"
        )
    ok = rate >= MIN_REPORTS_PER_CPU_S and peak <= MAX_PEAK_MB
    print("bars met" if ok else "BAR MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
