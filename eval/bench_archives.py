"""Benchmark: hostile .zip archives are refused fast, in little memory, never inflated.

Builds three archives in a temporary folder and, for each, runs what a batch does with it
(`iter_report_files` to list it, then `load_document` on what was listed, which raises the
one-line refusal) in a fresh Python process, printing the wall time and the process's peak
resident memory (interpreter and imports included; the baseline line shows those alone).

- members: 1,000 small reports (over the member-count limit);
- declared: one member of 2 GiB of zeros (about 2 MB compressed; over the total size limit);
- nested: a 42.zip-style bomb, 16 archives of 16 archives ... 5 levels deep around 1 GiB of
  zeros (over the nesting limit long before anything large is inflated); and its inner
  three levels alone, within the nesting limit, refused on the sizes declared inside.

Bar (issue 15): each refused in under 5 s and under 200 MB.

    python eval/bench_archives.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
CHUNK = bytes(MB)

# Runs in a child process so its peak memory is its own.
_PROBE = """
import json, resource, sys, time
from pathlib import Path
from extractor.core.errors import LoadError
from extractor.load import iter_report_files, load_document
path = Path(sys.argv[1])
started = time.perf_counter()
message = "listed without refusal"
if path.name != "-":
    for listed in iter_report_files([path]):
        try:
            load_document(listed)
        except LoadError as error:
            message = str(error)
            break
seconds = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "message": message}))
"""


def _zeros_member(archive: zipfile.ZipFile, name: str, size: int) -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        for _ in range(size // MB):
            member.write(CHUNK)


def many_members(path: Path, count: int = 1000) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(count):
            archive.writestr(f"县区/报告{i:04}.txt", "法治政府建设年度报告\n" * 20)
    return path


def declared_two_gb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        _zeros_member(archive, "report.txt", 2048 * MB)
    return path


def nested_bomb(folder: Path, *, fan_out: int = 16, levels: int = 5, core_mb: int = 1024) -> Path:
    """42.zip's shape: each level holds `fan_out` copies of the level below."""
    current = folder / "lib0.zip"
    with zipfile.ZipFile(current, "w", zipfile.ZIP_DEFLATED) as archive:
        _zeros_member(archive, "0.txt", core_mb * MB)
    for level in range(1, levels + 1):
        data = current.read_bytes()
        current = folder / f"lib{level}.zip"
        with zipfile.ZipFile(current, "w", zipfile.ZIP_DEFLATED) as archive:
            for copy in range(fan_out):
                archive.writestr(f"lib {copy:x}.zip", data)
    return current


def probe(path: Path | str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def declared_total(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        cases = {
            "members (1,000)": many_members(folder / "many.zip"),
            "declared (2 GiB)": declared_two_gb(folder / "declared.zip"),
            "nested (42.zip-style)": nested_bomb(folder),
        }
        # Its inner levels: a bomb shallow enough to be walked, refused on its sizes.
        cases["nested, 3 levels"] = folder / "lib2.zip"
        print(f"built in {time.perf_counter() - started:.1f} s")
        baseline = probe("-")
        print(f"{'baseline (imports only)':24} {'':>9} {baseline['peak_mb']:7.1f} MB")
        print(f"{'case':24} {'seconds':>9} {'peak':>10}  file size / declared at top level  message")
        worst_s = worst_mb = 0.0
        for name, path in cases.items():
            result = probe(path)
            seconds, peak = float(str(result["seconds"])), float(str(result["peak_mb"]))
            worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, peak)
            sizes = f"{path.stat().st_size / MB:.2f} MB / {declared_total(path) / MB:,.2f} MB"
            print(f"{name:24} {seconds:8.3f}s {peak:7.1f} MB  {sizes:>22}  {result['message']}")
    ok = worst_s < 5 and worst_mb < 200
    print(f"bar (< 5 s, < 200 MB each): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
