"""The analysis of the current records, kept on disk so that a restarted server shows it at once.

A kept analysis is found by a key made of: the database, which record version is current for
every document and its review status (`Store.records_fingerprint`), the status filter, the
analysis code with its indicator catalogue, and the versions of the libraries whose numbers it
depends on. A save, an approval, a new document, a catalogue edit or an upgrade makes a new
key, so an analysis is never shown for records it was not computed from; the old file is
simply never asked for again (the newest `KEEP` files are kept).

The files are pickles, written by this program into its own cache directory
(`$EXTRACTOR_ANALYSIS_CACHE`, else `$XDG_CACHE_HOME/extractor/analysis`, else
`~/.cache/extractor/analysis`, made private to its user); a file is read only if this user
owns it and its directory and no one else may write either. A file that
cannot be read (damaged, written by other code) is recomputed and replaced; a directory
that cannot be written only means nothing is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import stat
import sys
import tempfile
import zlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from extractor.analysis import Analysis, analyse, load_records
from extractor.analysis.records import StatusFilter
from extractor.store import Store
from extractor.store.engine import mask_db_url

CACHE_DIR_ENV = "EXTRACTOR_ANALYSIS_CACHE"
#: Kept analyses per directory (each selection of records is one; older ones are removed).
KEEP = 8
#: Format of the files (raise it when what is pickled changes shape without a code change).
_FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent
#: Whose code decides the analysis's results: its own package, and the record model, the text
#: normalisation and the labels it uses.
_CODE_DIRS = (_PACKAGE, _PACKAGE.parent / "core")
_LIBRARIES = ("numpy", "scipy", "rapidfuzz", "pydantic", "pydantic-core")

log = logging.getLogger(__name__)
#: Files this process has written or read.
_kept: set[Path] = set()
#: The newest analysis per status filter computed ahead of the page (`extractor.analysis.warm`),
#: with its key: answered from memory, without unpickling the kept file.
_held: dict[StatusFilter, tuple[str, Analysis]] = {}


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "extractor" / "analysis"


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the code, the catalogue and the library versions the results depend on."""
    digest = hashlib.sha256(f"{_FORMAT}\x1f{sys.version}".encode())
    for directory in _CODE_DIRS:
        for path in sorted([*directory.glob("*.py"), *directory.glob("*.json")]):
            digest.update(path.name.encode() + b"\x1f" + path.read_bytes() + b"\x1e")
    for library in _LIBRARIES:
        try:
            digest.update(f"{library}={metadata.version(library)}\x1e".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library}=-\x1e".encode())
    return digest.hexdigest()


def snapshot_key(store: Store, *, status: StatusFilter) -> str:
    """The key of the analysis of `store`'s current `status` records (one cheap query)."""
    fingerprint = store.records_fingerprint(approved_only=status == "approved")
    parts = [mask_db_url(store.url), status, fingerprint, code_version()]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def kept_analysis(
    store: Store, *, status: StatusFilter, key: str | None = None, keep_now: bool = True
) -> Analysis:
    """The analysis of every current `status` record of `store`, unfiltered: the kept one
    when there is one for `key` (computed by `snapshot_key` if not given), else computed now
    and kept (with `keep_now=False` the caller keeps it with `keep`, e.g. once the page is
    drawn).

    The key is taken before the records are read, so a save in between can only make what
    is kept newer than its key (then that key is not asked for again), never older.
    """
    key = key or snapshot_key(store, status=status)
    held = _held.get(status)
    if held is not None and held[0] == key:
        return held[1]
    path = cache_dir() / f"{key}.analysis"
    found = _read(path, status)
    if found is not None:
        _kept.add(path)
        return found
    result = analyse(load_records(store, status=status), status=status)
    if keep_now:
        keep(key, result)
    return result


def hold(key: str, result: Analysis) -> None:
    """Answer `kept_analysis` for `key` from memory (one analysis per status filter is held:
    a newer key replaces the older, which no one asks for again)."""
    _held[result.status] = (key, result)


def held(key: str, status: StatusFilter) -> bool:
    found = _held.get(status)
    return found is not None and found[0] == key


def keep(key: str, result: Analysis) -> None:
    """Write `result` under `key` unless this process found or kept it there already; tried
    once per key (an unwritable directory does not cost the pickling on every page run)."""
    path = cache_dir() / f"{key}.analysis"
    if path not in _kept:
        _kept.add(path)
        _write(path, result)


def _trusted(path: Path) -> bool:
    """Unpickling runs code, so a file is read only if this user wrote it into a directory no
    one else can write to (a shared or world-writable cache folder is not trusted)."""
    if not hasattr(os, "getuid"):  # no POSIX owners to check (Windows): a per-user profile folder
        return True
    try:
        file_stat, dir_stat = path.stat(), path.parent.stat()
    except OSError:
        return False
    others_may_write = stat.S_IWGRP | stat.S_IWOTH
    return (
        file_stat.st_uid == dir_stat.st_uid == os.getuid()
        and not file_stat.st_mode & others_may_write
        and not dir_stat.st_mode & others_may_write
    )


def _read(path: Path, status: StatusFilter) -> Analysis | None:
    if not _trusted(path):
        return None
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        found = pickle.loads(zlib.decompress(blob))
    except Exception as e:  # a damaged or foreign file, whatever it raises, is recomputed
        log.warning("kept analysis %s unreadable (%s): recomputing", path.name, e)
        return None
    if not isinstance(found, Analysis) or found.status != status:
        return None
    with contextlib.suppress(OSError):  # in use: pruned last (where the file may be touched)
        os.utime(path)
    return found


def _write(path: Path, result: Analysis) -> None:
    # Level 1: a tenth of the size for a few hundredths of a second.
    blob = zlib.compress(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL), 1)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as part:
            try:
                part.write(blob)
            except OSError:
                Path(part.name).unlink(missing_ok=True)
                raise
        # Whole or not at all: another server reading meanwhile sees the old state or the new.
        os.replace(part.name, path)
        _prune(path.parent)
    except OSError as e:
        log.warning("cannot keep the analysis in %s (%s); it will be recomputed next time", path.parent, e)


def _prune(directory: Path) -> None:
    kept = sorted(directory.glob("*.analysis"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP:]:
        old.unlink(missing_ok=True)
