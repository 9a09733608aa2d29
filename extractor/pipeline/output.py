"""Record JSON files: one per report in the output folder, safe for concurrent writers.

Two reports with the same file name in different folders get distinct doc_ids (and so
distinct JSON files); a record is written under a temporary name unique to its writer and
atomically renamed, so processes sharing one output folder never collide or leave half a
file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from extractor.core.schema import Record


def _read_umask() -> int:
    # Read once at import: setting and restoring it later would race with other threads.
    current = os.umask(0)
    os.umask(current)
    return current


_UMASK = _read_umask()


def write_record_json(record: Record, out_dir: Path) -> Path:
    """Write `record` to `out_dir/<doc_id>.json` atomically; returns the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{record.doc_id}.json"
    handle, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{record.doc_id}.", suffix=".json.tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(record.to_json() + "\n")
        # mkstemp creates the file owner-only; a record is as readable as any other output.
        tmp.chmod(0o644 & ~_UMASK)
        tmp.replace(target)  # atomic: a reader sees the old record or the new, never half
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def distinct_doc_ids(paths: Sequence[Path]) -> dict[Path, str]:
    """A doc_id per path: its file stem, or, for stems shared by several paths, the stem
    prefixed with as many of its folder names as tell them apart (`a/r.txt`, `b/r.txt`:
    `a-r`, `b-r`), and the suffix added when only that differs (`r-txt`, `r-docx`)."""
    by_stem: dict[str, list[Path]] = defaultdict(list)
    for path in dict.fromkeys(paths):
        by_stem[path.stem].append(path)
    ids: dict[Path, str] = {}
    for stem, group in by_stem.items():
        if len(group) == 1:
            ids[group[0]] = stem
            continue
        ids.update(_tell_apart(group))
    return ids


def _tell_apart(group: list[Path]) -> dict[Path, str]:
    folders = [path.resolve().parent.parts for path in group]
    deepest = max(len(parts) for parts in folders)
    for depth in range(1, deepest + 1):
        names = ["-".join([*parts[-depth:], path.stem]) for parts, path in zip(folders, group, strict=True)]
        if len(set(names)) == len(group):
            return dict(zip(group, names, strict=True))
    names = [
        "-".join([*parts[-1:], path.stem, path.suffix.lstrip(".").lower()])
        for parts, path in zip(folders, group, strict=True)
    ]
    return dict(zip(group, names, strict=True))
