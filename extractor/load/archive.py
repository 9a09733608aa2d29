"""Zip archives of reports: every supported member is a report of its own.

A member is named by a path through the archive, "county.zip/folder/report.docx" (nested
archives continue the path: "county.zip/batch.zip/report.pdf"), so a batch lists, loads and
reports it like a file. Nothing is ever unpacked to disk.

Zip bombs never inflate: before any member is read the archive's central directory is
checked against limits on member count, total declared size and compression ratio, and
every read is streamed with a byte cap, so a member that lies about its size is cut off at
the cap rather than decompressed.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
import zlib
from collections.abc import Collection
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from extractor.core.errors import LoadError
from extractor.load.common import MB, describe_size

ARCHIVE_SUFFIXES = frozenset({".zip"})
_UTF8_NAME_FLAG = 0x800
_CHUNK = 256 * 1024
_SPOOL_IN_MEMORY = 8 * MB


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """What an archive may hold before it is refused as a whole (nested archives included)."""

    #: Members (files, not folders) across the archive and every archive nested in it.
    max_members: int = 500
    #: Declared uncompressed bytes across the archive and every archive nested in it.
    max_total_bytes: int = 1024 * MB
    #: Uncompressed / compressed size of one member; text compresses about 3-10x, bombs 1000x.
    max_ratio: float = 100.0
    #: Members smaller than this are not held to the ratio (a tiny file compresses oddly).
    ratio_floor_bytes: int = 1 * MB
    #: Archives inside archives: "a.zip/b.zip/c.docx" is depth 2.
    max_depth: int = 3


DEFAULT_LIMITS = ArchiveLimits()


def is_archive(path: str | Path | PurePosixPath) -> bool:
    return PurePosixPath(str(path)).suffix.lower() in ARCHIVE_SUFFIXES


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its producer meant it, with / separators.

    Zip names without the UTF-8 flag (bit 11) are decoded by `zipfile` as CP437, but Chinese
    Windows tools store GBK bytes there: the CP437 text is turned back into its bytes and
    read as UTF-8 (some tools omit the flag), else GB18030 (a superset of GBK).
    """
    name = info.filename
    if not info.flag_bits & _UTF8_NAME_FLAG:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = b""
        if raw and not raw.isascii():
            for encoding in ("utf-8", "gb18030"):
                try:
                    name = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
    return name.replace("\\", "/")


def _is_listed(name: str) -> bool:
    """Folders, hidden entries, macOS resource forks and Office lock files are not reports."""
    parts = PurePosixPath(name).parts
    return (
        bool(parts)
        and not name.endswith("/")
        and not any(part.startswith((".", "~$")) or part == "__MACOSX" for part in parts)
    )


def list_archive_reports(
    archive: Path, *, suffixes: Collection[str], limits: ArchiveLimits = DEFAULT_LIMITS
) -> list[Path]:
    """The member paths ("archive.zip/folder/x.docx") of every report in `archive`.

    Nested archives are walked up to `limits.max_depth`. Raises LoadError naming the archive
    with a one-line reason when it is unreadable or any limit is passed; then no member has
    been decompressed except nested archives (each read with a byte cap).
    """
    source = str(archive)
    budget = _Budget(limits, source)
    found: list[Path] = []
    with _open_zip(archive, source) as top:
        _walk(top, archive, depth=1, suffixes=suffixes, budget=budget, found=found)
    return found


def read_archive_member(
    path: Path, *, max_bytes: int, limits: ArchiveLimits = DEFAULT_LIMITS
) -> bytes | None:
    """The bytes of the member `path` names ("a.zip/dir/x.docx"), or None when no archive on
    disk holds it (the path is then an ordinary missing file).

    Every archive on the way is checked against `limits`; the member is read with a cap of
    `max_bytes` (LoadError naming the member if it is larger, declared or actual).
    """
    located = _split_on_disk(path)
    if located is None:
        return None
    archive, inner = located
    source = str(path)
    with ExitStack() as stack:
        current = stack.enter_context(_open_zip(archive, source))
        depth = 1
        while True:
            _check_directory(current, _Budget(limits, source))
            info, rest = _match_member(current, inner, source)
            if not rest:
                return _read_capped(current, info, max_bytes, source)
            if not is_archive(member_name(info)):
                raise LoadError("no such member in the archive", source=source)
            depth += 1
            if depth > limits.max_depth:
                raise LoadError(f"archives nested more than {limits.max_depth} deep", source=source)
            spool = stack.enter_context(_spool())
            _copy_capped(current, info, limits.max_total_bytes, source, spool)
            current = stack.enter_context(_zip_of(spool, source))
            inner = rest


class _Budget:
    """Members and declared bytes counted across an archive and the archives inside it."""

    def __init__(self, limits: ArchiveLimits, source: str) -> None:
        self.limits = limits
        self.source = source
        self.members = 0
        self.declared = 0

    def add(self, info: zipfile.ZipInfo) -> None:
        limits = self.limits
        self.members += 1
        self.declared += info.file_size
        if self.members > limits.max_members:
            raise LoadError(
                f"archive refused: more than {limits.max_members} files inside", source=self.source
            )
        if self.declared > limits.max_total_bytes:
            raise LoadError(
                f"archive refused: its files would unpack to more than {describe_size(limits.max_total_bytes)}",
                source=self.source,
            )
        if info.file_size >= limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise LoadError(
                f"archive refused: {member_name(info)} is compressed {info.file_size // max(info.compress_size, 1):,}"
                f" to 1 (over {limits.max_ratio:g} to 1, a zip bomb?)",
                source=self.source,
            )


def _check_directory(zf: zipfile.ZipFile, budget: _Budget) -> None:
    for info in zf.infolist():
        if not info.is_dir():
            budget.add(info)


def _walk(
    zf: zipfile.ZipFile,
    where: Path,
    *,
    depth: int,
    suffixes: Collection[str],
    budget: _Budget,
    found: list[Path],
) -> None:
    # The whole directory is checked before anything is read: a bomb is refused on its
    # declared sizes without one byte decompressed.
    _check_directory(zf, budget)
    for info in sorted(zf.infolist(), key=member_name):
        name = member_name(info)
        if info.is_dir() or not _is_listed(name):
            continue
        member = where / name
        if is_archive(name):
            if depth + 1 > budget.limits.max_depth:
                raise LoadError(
                    f"archive refused: archives nested more than {budget.limits.max_depth} deep",
                    source=budget.source,
                )
            # Its own size is already in the budget; what is left of the budget besides it.
            cap = budget.limits.max_total_bytes - budget.declared + info.file_size
            with _spool() as spool:
                _copy_capped(zf, info, cap, budget.source, spool)
                inner = _zip_of(spool, str(member))
                with inner:
                    _walk(inner, member, depth=depth + 1, suffixes=suffixes, budget=budget, found=found)
        elif PurePosixPath(name).suffix.lower() in suffixes:
            found.append(member)


def _split_on_disk(path: Path) -> tuple[Path, str] | None:
    """(the archive file on disk, the member path inside it) for a member path."""
    for ancestor in path.parents:
        if ancestor == Path(ancestor.anchor) or str(ancestor) == ".":
            break
        if ancestor.is_file():
            if not is_archive(ancestor):
                return None
            return ancestor, path.relative_to(ancestor).as_posix()
    return None


def _match_member(zf: zipfile.ZipFile, inner: str, source: str) -> tuple[zipfile.ZipInfo, str]:
    """The member `inner` names, or the nested archive it runs through plus the rest."""
    by_name = {member_name(info): info for info in zf.infolist() if not info.is_dir()}
    parts = inner.split("/")
    for cut in range(1, len(parts) + 1):
        head = "/".join(parts[:cut])
        if head in by_name:
            return by_name[head], "/".join(parts[cut:])
    raise LoadError("no such member in the archive", source=source)


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, source: str) -> bytes:
    """The member's bytes, streamed: refused when declared or actually over `cap`."""
    buffer = io.BytesIO()
    _copy_capped(zf, info, cap, source, buffer)
    return buffer.getvalue()


def _spool() -> IO[bytes]:
    """Where an archive inside an archive is unpacked: memory while small, then a
    temporary file, so a large nested archive never sits in memory whole."""
    return tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)


def _copy_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, source: str, out: IO[bytes]) -> None:
    """Stream the member into `out`; refused when declared or actually over `cap`."""
    if info.file_size > cap:
        raise LoadError(
            f"{member_name(info)} would unpack to {describe_size(info.file_size)}, "
            f"over the {describe_size(cap)} limit",
            source=source,
        )
    written = 0
    try:
        with zf.open(info) as stream:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                written += len(chunk)
                if written > cap:
                    raise LoadError(
                        f"{member_name(info)} unpacks to more than {describe_size(cap)}", source=source
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
        raise LoadError(f"damaged archive member {member_name(info)} ({e})", source=source) from e
    except RuntimeError as e:  # zipfile's word for an encrypted member
        raise LoadError(f"{member_name(info)} is password-protected", source=source) from e
    out.seek(0)


def _open_zip(archive: Path, source: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except FileNotFoundError as e:
        raise LoadError("file not found", source=source) from e
    except OSError as e:
        raise LoadError(f"cannot read file: {e.strerror or e}", source=source) from e
    except (zipfile.BadZipFile, EOFError, ValueError) as e:
        raise LoadError("not a readable .zip archive (corrupt or truncated)", source=source) from e


def _zip_of(data: IO[bytes], source: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(data)
    except (zipfile.BadZipFile, EOFError, ValueError) as e:
        raise LoadError("not a readable .zip archive (corrupt or truncated)", source=source) from e
