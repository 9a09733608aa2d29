"""Record JSON files: one per report in the output folder, safe for concurrent writers.

Two reports with the same file name in different folders get distinct doc_ids (and so
distinct JSON files); a record is written under a temporary name unique to its writer and
atomically renamed, so processes sharing one output folder never collide or leave half a
file behind.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from extractor.core.schema import Record

#: Part of every temporary name this process writes: with the process id (read at each
#: write: a forked child is another writer) no two writers on this machine share a name, and
#: it tells apart machines writing to one shared folder. O_EXCL settles any clash left.
_WRITER_TOKEN = os.urandom(4).hex()
#: Tells apart the temporary files of one process's threads.
_WRITE_COUNT = itertools.count()


def write_record_json(record: Record, out_dir: Path) -> Path:
    """Write `record` to `out_dir/<doc_id>.json` atomically (making `out_dir` if need be);
    returns the path."""
    target = out_dir / f"{record.doc_id}.json"
    data = record.to_json_bytes() + b"\n"
    descriptor, tmp = _create_temporary(out_dir, record.doc_id)
    try:
        _write_all(descriptor, data)
        os.replace(tmp, target)  # atomic: a reader sees the old record or the new, never half
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def _write_all(descriptor: int, data: bytes) -> None:
    """Write `data` to the open file `descriptor` (a write may take only part) and close it."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def _create_temporary(out_dir: Path, doc_id: str) -> tuple[int, str]:
    """A new file beside the target, under a name no other writer uses, open for writing.
    Created with the permissions of any other output (0o644 less the umask). The folder is
    made only when it is missing (once per batch, not once per record)."""
    made = False
    while True:
        name = os.path.join(out_dir, f".{doc_id}.{os.getpid()}-{_WRITER_TOKEN}-{next(_WRITE_COUNT)}.json.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), name
        except FileExistsError:
            continue  # left by a writer that died, or another machine's: take the next number
        except (FileNotFoundError, NotADirectoryError):
            if made:
                raise
            # The folder is missing (make it), or a file stands in its way (this raises).
            out_dir.mkdir(parents=True, exist_ok=True)
            made = True


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
