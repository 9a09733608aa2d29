"""Pieces shared by the per-format loaders: their result type, text tidying, size limits."""

from __future__ import annotations

import bisect
import datetime as dt
import os
import re
from dataclasses import dataclass

from extractor.core.document import LayoutHints
from extractor.core.errors import ConfigError

MB = 1024 * 1024
DEFAULT_MAX_TEXT_BYTES = 2 * MB
DEFAULT_MAX_FILE_BYTES = 50 * MB
TEXT_LIMIT_ENV = "EXTRACTOR_MAX_TEXT_MB"
FILE_LIMIT_ENV = "EXTRACTOR_MAX_FILE_MB"
#: A .docx is a zip: the total size of its parts once unpacked, checked before parsing (the
#: XML of a 2 MB text is a few tens of MB; a "zip bomb" inflates to gigabytes).
DEFAULT_MAX_UNPACKED_BYTES = 64 * MB
UNPACKED_LIMIT_ENV = "EXTRACTOR_MAX_UNPACKED_MB"

# C0 controls other than \t and \n, DEL, and the non-characters PDFium emits for
# soft hyphens: noise in extracted text that would only confuse matching and display.
_EXTRACTION_NOISE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")
_TRAILING_SPACE = re.compile(r"[ \t\u3000]+\n")
_BLANK_RUN = re.compile(r"\n{3,}")
# The same two steps as deletions, for `tidy_extracted_text_with_origin`.
_TRAILING_SPACE_BEFORE_NEWLINE = re.compile(r"[ \t\u3000]+(?=\n)")
_NEWLINES_BEYOND_ONE_BLANK_LINE = re.compile(r"(?<=\n\n)\n+")


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a format loader learned from one file, before it becomes a `SourceDocument`."""

    text: str
    encoding: str | None = None
    ocr: bool = False
    publish_date_hint: dt.date | None = None
    warnings: tuple[str, ...] = ()
    layout_hints: LayoutHints | None = None


def normalise_newlines(text: str) -> str:
    """Return `text` with every \\r\\n and lone \\r turned into \\n; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def tidy_extracted_text(text: str) -> str:
    """Clean text pulled out of a container format (PDF, DOCX, HTML).

    Guarantees: \\n line endings, no control characters except \\t and \\n, no trailing
    spaces on a line, at most one blank line in a row, no leading or trailing blank lines.
    Plain-text files do not go through this: their text is kept as the user wrote it.
    """
    text = _EXTRACTION_NOISE.sub("", normalise_newlines(text).replace("\x0c", "\n"))
    text = _TRAILING_SPACE.sub("\n", text + "\n")
    return _BLANK_RUN.sub("\n\n", text).strip("\n")


def tidy_extracted_text_with_origin(text: str) -> tuple[str, list[int]]:
    """`tidy_extracted_text(text)` and, for each of its characters, the index in `text` it
    comes from (increasing): tidying only deletes characters or turns one into a newline, so
    a span of the raw text maps onto the tidied text (`map_span`)."""
    chars: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        if char == "\r":
            if text.startswith("\n", i + 1):
                continue
            char = "\n"
        elif char == "\x0c":
            char = "\n"
        elif _EXTRACTION_NOISE.match(char):
            continue
        chars.append(char)
        origin.append(i)
    tidied = "".join(chars) + "\n"
    origin.append(len(text))
    for deletable in (_TRAILING_SPACE_BEFORE_NEWLINE, _NEWLINES_BEYOND_ONE_BLANK_LINE):
        kept = _kept_positions(tidied, deletable)
        tidied = "".join(tidied[k] for k in kept)
        origin = [origin[k] for k in kept]
    lead = len(tidied) - len(tidied.lstrip("\n"))
    trail = len(tidied.rstrip("\n"))
    return tidied[lead:trail], origin[lead:trail]


def _kept_positions(text: str, deletable: re.Pattern[str]) -> list[int]:
    kept: list[int] = []
    pos = 0
    for m in deletable.finditer(text):
        kept.extend(range(pos, m.start()))
        pos = m.end()
    kept.extend(range(pos, len(text)))
    return kept


def map_span(origin: list[int], start: int, end: int) -> tuple[int, int]:
    """The half-open span of the tidied text holding what raw [start, end) kept."""
    return bisect.bisect_left(origin, start), bisect.bisect_left(origin, end)


def resolve_limit(explicit: int | None, env_name: str, default: int) -> int:
    """The byte limit in force: the keyword if given, else the env var (in MB), else `default`.

    Raises ConfigError when the env var is set but is not a positive number.
    """
    if explicit is not None:
        return explicit
    raw = os.environ.get(env_name, "").strip()
    if not raw:
        return default
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = -1.0
    if megabytes <= 0:
        raise ConfigError(f"must be a positive number of megabytes, got {raw!r}", source=env_name)
    return int(megabytes * MB)


def describe_over_limit(size: int, limit: int) -> str:
    """'3.10 MB, over the 2.00 MB limit', with exact bytes when rounding would hide the excess."""
    shown_size, shown_limit = describe_size(size), describe_size(limit)
    if shown_size == shown_limit:
        shown_size, shown_limit = f"{size:,} bytes", f"{limit:,} bytes"
    return f"{shown_size}, over the {shown_limit} limit"


def describe_size(n_bytes: int) -> str:
    """A human size such as '2.00 MB', '12.5 KB' or '300 bytes'."""
    if n_bytes >= MB:
        return f"{n_bytes / MB:.2f} MB"
    if n_bytes >= 1024:
        return f"{n_bytes / 1024:.1f} KB"
    return f"{n_bytes} bytes"
