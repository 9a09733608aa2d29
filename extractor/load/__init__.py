"""Load stage: a report file (.txt, .docx, .pdf, .html/.htm, .doc/.wps/.rtf/.odt, .ofd, page
images, or a member of a .zip archive) becomes a `SourceDocument`.

`SourceDocument.text` is the "original text" every later offset indexes: plain-text files
keep their characters exactly (line endings become \\n); container formats give their
extracted text, tidied once here so offsets stay stable afterwards.
"""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from extractor.core.document import SourceDocument, SourceFormat
from extractor.core.errors import LoadError
from extractor.load.archive import ARCHIVE_SUFFIXES, is_archive, list_archive_reports, read_archive_member
from extractor.load.common import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_TEXT_BYTES,
    FILE_LIMIT_ENV,
    TEXT_LIMIT_ENV,
    Extracted,
    describe_over_limit,
    resolve_limit,
)

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_TEXT_BYTES",
    "SUPPORTED_SUFFIXES",
    "ReportFiles",
    "find_report_files",
    "iter_report_files",
    "load_document",
]

# Suffix -> format; format `x` is read by `extractor.load.x.load_x`, imported on first use
# so that importing this package (CLI start-up, `iter_report_files`) does not pay for
# trafilatura, PDFium and python-docx.
_FORMATS: dict[str, SourceFormat] = {
    ".txt": "txt",
    ".docx": "docx",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    # Word 97-2003, WPS Office, RTF and OpenDocument: converted to .docx by LibreOffice.
    ".doc": "doc",
    ".wps": "wps",
    ".rtf": "rtf",
    ".odt": "odt",
    ".ofd": "ofd",
    # Scans and photos of pages: OCR.
    ".jpg": "image",
    ".jpeg": "image",
    ".png": "image",
    ".tif": "image",
    ".tiff": "image",
}
# Formats read by a module not named after them.
_LOADER_MODULES: dict[str, str] = {
    "doc": "office",
    "wps": "office",
    "rtf": "office",
    "odt": "office",
    "image": "images",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = (*_FORMATS, *sorted(ARCHIVE_SUFFIXES))
# Formats whose file *is* the text: their file size is bounded by the text limit.
_TEXT_FORMATS = frozenset({"txt", "html"})


def load_document(
    path: str | Path,
    *,
    doc_id: str | None = None,
    max_text_bytes: int | None = None,
    max_file_bytes: int | None = None,
) -> SourceDocument:
    """Read one report file into a `SourceDocument`.

    `doc_id` defaults to the file stem. Limits: a .txt/.html file, and the text extracted
    from a .pdf/.docx, may be at most `max_text_bytes` (default 2 MB, env
    EXTRACTOR_MAX_TEXT_MB); a .pdf/.docx file at most `max_file_bytes` (default 50 MB, env
    EXTRACTOR_MAX_FILE_MB). Every problem with the file raises LoadError with `source` set
    to the path and a one-line reason; no other exception escapes for a bad file.
    """
    path = Path(path)
    source = str(path)
    if path.is_dir():
        raise LoadError("is a folder, not a file", source=source)
    suffix = path.suffix.lower()
    if suffix in ARCHIVE_SUFFIXES:
        raise _archive_is_not_a_report(path)
    if suffix not in _FORMATS:
        shown = suffix or "(no suffix)"
        raise LoadError(
            f"unsupported file type {shown}; supported: {', '.join(SUPPORTED_SUFFIXES)}", source=source
        )
    fmt = _FORMATS[suffix]
    module = importlib.import_module(f"{__name__}.{_LOADER_MODULES.get(fmt, fmt)}")
    loader: Callable[..., Extracted] = getattr(module, f"load_{fmt}")
    text_limit = resolve_limit(max_text_bytes, TEXT_LIMIT_ENV, DEFAULT_MAX_TEXT_BYTES)

    data = _read_archive_member(path, fmt=fmt, text_limit=text_limit, max_file_bytes=max_file_bytes)
    if data is None:
        data = _read_bounded(path, fmt=fmt, text_limit=text_limit, max_file_bytes=max_file_bytes)
    if not data.strip():
        raise LoadError("file is empty", source=source)
    try:
        extracted = loader(data, source=source)
    except LoadError:
        raise
    # The guarantee is "a bad file never crashes the run": anything a parsing library
    # raises that the format loader did not anticipate still becomes a one-line LoadError
    # (the chained traceback stays available for --verbose).
    except Exception as e:
        detail = (str(e).splitlines() or [""])[0][:200]
        raise LoadError(
            f"could not read this {fmt} file ({type(e).__name__}: {detail})", source=source
        ) from e

    if fmt not in _TEXT_FORMATS:
        text_size = len(extracted.text.encode("utf-8"))
        if text_size > text_limit:
            raise LoadError(
                f"extracted text is {describe_over_limit(text_size, text_limit)} "
                f"(raise it with {TEXT_LIMIT_ENV})",
                source=source,
            )
    return SourceDocument(
        doc_id=doc_id if doc_id is not None else path.stem,
        path=source,
        text=extracted.text,
        format=fmt,
        encoding=extracted.encoding,
        ocr=extracted.ocr,
        publish_date_hint=extracted.publish_date_hint,
        warnings=extracted.warnings,
        layout_hints=extracted.layout_hints,
    )


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """The report files found under some paths, and the paths that could not be used
    (missing, a broken link, a link looping back to a folder already scanned), each with a
    one-line reason."""

    files: list[Path]
    problems: list[tuple[Path, str]]


def find_report_files(paths: Iterable[str | Path]) -> ReportFiles:
    """Expand files and folders (recursively, following links) into the report files to load.

    Guarantees: only files with a supported suffix (case-insensitive); no hidden files or
    folders and no Office lock files (~$name.docx); no duplicates; sorted. A .zip archive
    gives its reports as member paths ("a.zip/folder/x.docx", `load_document` reads them); an
    archive that is refused (over a limit, corrupt) or holds no report stays as itself, so
    loading it reports why. Nothing is skipped silently: a path that does not exist, a broken
    link, or a link to a folder already scanned (a loop) is listed in `problems`, and the
    other paths are still scanned.
    """
    found: set[Path] = set()
    problems: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _scan_folder(path, found, problems)
        elif path.is_file():
            if _is_report_file(path):
                found.add(path)
        elif path.is_symlink():
            problems.append((path, "broken link: its target does not exist"))
        else:
            problems.append((path, "no such file or folder"))
    return ReportFiles(sorted(set(_expand_archives(found))), problems)


def iter_report_files(paths: Iterable[str | Path]) -> list[Path]:
    """The report files of `find_report_files`; raises LoadError naming the first path that
    could not be used."""
    scan = find_report_files(paths)
    if scan.problems:
        path, reason = scan.problems[0]
        raise LoadError(reason, source=str(path))
    return scan.files


def _scan_folder(root: Path, found: set[Path], problems: list[tuple[Path, str]]) -> None:
    # os.walk with followlinks: a linked folder is scanned like a real one, and the set of
    # real folders already seen stops a link that points back up the tree.
    seen = {os.path.realpath(root)}
    for folder, subfolders, names in os.walk(root, followlinks=True):
        here = Path(folder)
        kept = []
        for name in sorted(subfolders):
            child = here / name
            if name.startswith("."):
                continue
            real = os.path.realpath(child)
            if real in seen:
                problems.append((child, "link to a folder already scanned (a loop), skipped"))
                continue
            seen.add(real)
            kept.append(name)
        subfolders[:] = kept
        for name in names:
            child = here / name
            if name.startswith(".") or not _is_report_file(child):
                continue
            if child.is_file():
                found.add(child)
            elif child.is_symlink():
                problems.append((child, "broken link: its target does not exist"))


def _expand_archives(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if not is_archive(path):
            yield path
            continue
        try:
            members = list_archive_reports(path, suffixes=frozenset(_FORMATS))
        except LoadError:
            members = []
        yield from members or [path]


def _archive_is_not_a_report(path: Path) -> LoadError:
    """Why a .zip given to `load_document` is not loaded: it is refused, or it holds reports
    that are loaded one by one (as `iter_report_files` lists them)."""
    try:
        members = list_archive_reports(path, suffixes=frozenset(_FORMATS))
    except LoadError as refused:
        return refused
    if not members:
        return LoadError(f"the archive holds no report files ({', '.join(_FORMATS)})", source=str(path))
    return LoadError(
        f"an archive of {len(members)} reports: each is extracted on its own when the archive "
        "or its folder is given to extract",
        source=str(path),
    )


def _read_archive_member(
    path: Path, *, fmt: str, text_limit: int, max_file_bytes: int | None
) -> bytes | None:
    """A member of a .zip archive ("a.zip/dir/x.docx"), under its format's size limit; None
    when `path` is not inside an archive on disk."""
    if path.exists():
        return None
    if fmt in _TEXT_FORMATS:
        limit = text_limit
    else:
        limit = resolve_limit(max_file_bytes, FILE_LIMIT_ENV, DEFAULT_MAX_FILE_BYTES)
    return read_archive_member(path, max_bytes=limit)


def _is_report_file(path: Path) -> bool:
    suffix = path.suffix.lower()
    return (suffix in _FORMATS or suffix in ARCHIVE_SUFFIXES) and not path.name.startswith("~$")


def _read_bounded(path: Path, *, fmt: str, text_limit: int, max_file_bytes: int | None) -> bytes:
    """The file's bytes, refusing (before reading) a file over its format's size limit."""
    source = str(path)
    try:
        status = path.stat()
    except FileNotFoundError as e:
        raise LoadError("file not found", source=source) from e
    except OSError as e:
        raise LoadError(f"cannot read file: {e.strerror or e}", source=source) from e
    # A FIFO or device would block or stream forever; only regular files are reports.
    if not stat.S_ISREG(status.st_mode):
        raise LoadError("not a regular file", source=source)
    size = status.st_size

    if fmt in _TEXT_FORMATS:
        limit, env_name = text_limit, TEXT_LIMIT_ENV
    else:
        limit = resolve_limit(max_file_bytes, FILE_LIMIT_ENV, DEFAULT_MAX_FILE_BYTES)
        env_name = FILE_LIMIT_ENV
    if size > limit:
        raise LoadError(
            f"file is {describe_over_limit(size, limit)} for {path.suffix.lower()} files "
            f"(raise it with {env_name})",
            source=source,
        )
    try:
        return path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read file: {e.strerror or e}", source=source) from e
