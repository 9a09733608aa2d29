"""Benchmark: instructions the rules backend (`extract_with_rules`) runs per report.

Counted by valgrind's callgrind, so the figure does not move with other work on a shared
machine (CPU time does). Each of the CLI benchmark's distinct reports (`bench_cli.make_reports`)
is loaded and segmented, then extracted at once, as the pipeline runs it (the document's
normalised views still cached); only the extraction is counted: it runs inside
`functools.reduce`, the one function callgrind is told to collect in.

`--baseline DIR` counts the same reports with the code in another checkout (e.g. main's
worktree) and prints the ratio. About 50 times slower than running natively: 40 reports take
about a minute. Usage: python eval/bench_rules_instructions.py [--reports 40] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _extract_counted(folder: Path) -> None:
    """Inner run (under callgrind): every report extracted inside `functools.reduce`."""
    import functools

    from extractor.extract.rules.backend import extract_with_rules
    from extractor.load import load_document
    from extractor.segment import segment_report

    for path in sorted(folder.glob("*.txt")):
        doc = load_document(path)
        segmented = segment_report(doc)
        functools.reduce(lambda _acc, _x: extract_with_rules(doc, segmented), [0], None)


def count_instructions(folder: Path, code: Path) -> int:
    """Instructions callgrind counts in the extraction of every report in `folder`."""
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "PYTHONPATH": str(code), "PYTHONHASHSEED": "0"}
        command = [
            "valgrind",
            "--tool=callgrind",
            "--toggle-collect=functools_reduce",
            f"--callgrind-out-file={out}/callgrind.out",
            sys.executable,
            str(Path(__file__).resolve()),
            "--inner",
            str(folder),
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--baseline", type=Path, help="another checkout to count the same reports with")
    parser.add_argument("--inner", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        _extract_counted(args.inner)
        return
    sys.path.insert(0, str(ROOT / "eval"))
    from bench_cli import make_reports

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_reports(folder, args.reports)
        ours = count_instructions(folder, ROOT)
        print(
            f"rules backend: {ours / args.reports / 1e6:.2f} M instructions per report ({args.reports} reports)"
        )
        if args.baseline:
            theirs = count_instructions(folder, args.baseline.resolve())
            print(
                f"baseline {args.baseline}: {theirs / args.reports / 1e6:.2f} M per report; "
                f"this checkout / baseline = {ours / theirs:.3f}"
            )


if __name__ == "__main__":
    main()
