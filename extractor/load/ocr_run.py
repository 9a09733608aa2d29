"""OCR of a file's scanned pages: limits, early stop, worker processes and page progress.

Settings come from `ocr_session(...)` (the CLI opens one around a batch) or, outside a
session, from the environment:

- EXTRACTOR_OCR_MAX_PAGES (default 200): a file with more scanned pages than this is refused
  before any page is read;
- EXTRACTOR_OCR_TIME_LIMIT (seconds, default 900): OCR of one file stops, and the file fails,
  once it has taken longer than this;
- EXTRACTOR_OCR_ROTATED (1/true): turn the angle classifier on, for scans with lines upside down.

Whatever the settings, OCR of a file stops early when its first `BLANK_STOP_PAGES` scanned
pages yield no text at all (a scan of blank or purely pictorial pages).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from extractor.core.errors import ConfigError, LoadError
from extractor.load.ocr import OcrBox, ocr_engine, recognise_lines

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from PIL import Image

DEFAULT_MAX_PAGES = 200
DEFAULT_TIME_LIMIT_S = 900.0
#: This many scanned pages in a row at the start of a file with no legible text: stop OCR.
BLANK_STOP_PAGES = 10
MAX_PAGES_ENV = "EXTRACTOR_OCR_MAX_PAGES"
TIME_LIMIT_ENV = "EXTRACTOR_OCR_TIME_LIMIT"
ROTATED_ENV = "EXTRACTOR_OCR_ROTATED"


class OcrProgress(Protocol):
    """Told about each OCRed page (called in the process and thread that loads the file)."""

    def page_done(self, source: str, done: int, total: int) -> None: ...

    def file_done(self, source: str) -> None: ...


@dataclass(frozen=True, slots=True)
class OcrSettings:
    """How scanned pages are read. `workers` > 1 OCRs pages in that many processes."""

    workers: int = 1
    rotated: bool = False
    max_pages: int = DEFAULT_MAX_PAGES
    time_limit_s: float = DEFAULT_TIME_LIMIT_S

    @classmethod
    def from_env(cls) -> OcrSettings:
        """Defaults overridden by the EXTRACTOR_OCR_* variables; ConfigError when one is malformed."""
        return cls(
            rotated=os.environ.get(ROTATED_ENV, "").strip().lower() in {"1", "true", "yes", "on"},
            max_pages=int(_positive_env(MAX_PAGES_ENV, DEFAULT_MAX_PAGES)),
            time_limit_s=_positive_env(TIME_LIMIT_ENV, DEFAULT_TIME_LIMIT_S),
        )


def _positive_env(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"must be a positive number, got {raw!r}", source=name)
    return value


@dataclass
class _Session:
    settings: OcrSettings
    progress: OcrProgress | None
    pool: ProcessPoolExecutor | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def worker_pool(self) -> ProcessPoolExecutor:
        """The session's worker processes, started on the first scanned page (a batch of
        text reports never pays for them); each loads its engine once, at start."""
        # Imported here: a batch without scans would import multiprocessing for nothing.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with self.lock:
            if self.pool is None:
                self.pool = ProcessPoolExecutor(
                    max_workers=self.settings.workers,
                    # spawn, not fork: the parent has threads (progress display, OpenVINO).
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_load_engine,
                    initargs=(self.settings.rotated,),
                )
            return self.pool

    def discard_pool(self, broken: ProcessPoolExecutor) -> None:
        with self.lock:
            if self.pool is broken:
                self.pool = None
        broken.shutdown(wait=False, cancel_futures=True)


_session: _Session | None = None


def current_settings() -> OcrSettings:
    """The running session's settings, else the environment's."""
    return _session.settings if _session is not None else OcrSettings.from_env()


@contextmanager
def ocr_session(
    settings: OcrSettings | None = None, *, progress: OcrProgress | None = None
) -> Generator[OcrSettings, None, None]:
    """Make `settings` (default: from the environment) and `progress` apply to every file
    loaded inside the block; worker processes, if any, are stopped when it ends."""
    global _session
    previous = _session
    chosen = settings if settings is not None else OcrSettings.from_env()
    if chosen.workers < 1:
        chosen = replace(chosen, workers=1)
    _session = _Session(chosen, progress)
    try:
        yield chosen
    finally:
        session, _session = _session, previous
        if session.pool is not None:
            session.pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class ScanText:
    """OCR lines (`extractor.load.ocr.boxes_to_lines`: text and rectangle in the rendered
    image's pixels) of the scanned pages read, in order; `unread` pages were skipped by the
    early stop (a run of blank pages), and `warnings` says so."""

    lines: list[list[OcrBox]]
    unread: list[int]
    warnings: tuple[str, ...] = ()

    @property
    def texts(self) -> list[str]:
        """Each page read as text, one visual line a line."""
        return ["\n".join(line.text for line in page) for page in self.lines]


def ocr_pages(render: Callable[[int], Image.Image], pages: Sequence[int], *, source: str) -> ScanText:
    """OCR the scanned pages `pages` (numbers as the user counts them), `render(n)` giving
    page n's image.

    Raises LoadError before reading anything when there are more pages than the page limit,
    and once OCR has run past the time limit. Pages are rendered one by one in this process
    (at most a few ahead of the workers), so memory stays that of a few page images.
    """
    session = _session
    settings = session.settings if session is not None else OcrSettings.from_env()
    progress = session.progress if session is not None else None
    if len(pages) > settings.max_pages:
        raise LoadError(
            f"{len(pages)} scanned pages to OCR, more than the limit of {settings.max_pages} "
            f"(raise it with --ocr-max-pages or {MAX_PAGES_ENV})",
            source=source,
        )
    started = time.monotonic()
    texts: list[list[OcrBox]] = []
    results = _recognised(render, pages, settings, session, source=source)
    try:
        for lines in results:
            texts.append(lines)
            if progress is not None:
                progress.page_done(source, len(texts), len(pages))
            elapsed = time.monotonic() - started
            if elapsed > settings.time_limit_s and len(texts) < len(pages):
                raise LoadError(
                    f"OCR stopped after {elapsed:.0f} s at page {pages[len(texts) - 1]} "
                    f"({len(texts)} of {len(pages)} scanned pages read): over the time limit of "
                    f"{settings.time_limit_s:g} s (raise it with --ocr-time-limit or {TIME_LIMIT_ENV})",
                    source=source,
                )
            if len(texts) == BLANK_STOP_PAGES < len(pages) and not any(texts):
                unread = list(pages[len(texts) :])
                return ScanText(
                    texts,
                    unread,
                    (
                        f"OCR stopped after the first {BLANK_STOP_PAGES} scanned pages found no text; "
                        f"{len(unread)} more scanned pages not read",
                    ),
                )
    finally:
        results.close()
        if progress is not None:
            progress.file_done(source)
    return ScanText(texts, [])


# Per thread: a worker process runs several jobs at once on threads, each loading its own file.
_read_elsewhere = threading.local()


@contextmanager
def pages_read_elsewhere(pages: Mapping[int, list[OcrBox]]) -> Iterator[None]:
    """Inside the block, this thread's next file takes the lines of its scanned pages from
    `pages` (page number: lines, as OCR of that page returned them, e.g. on another worker)
    instead of reading them again; pages missing from it are OCRed as usual."""
    previous = getattr(_read_elsewhere, "pages", None)
    _read_elsewhere.pages = pages
    try:
        yield
    finally:
        _read_elsewhere.pages = previous


def _recognised(
    render: Callable[[int], Image.Image],
    pages: Sequence[int],
    settings: OcrSettings,
    session: _Session | None,
    *,
    source: str,
) -> Generator[list[OcrBox], None, None]:
    """Each page's lines, in page order: in this process, or through the session's workers."""
    known: Mapping[int, list[OcrBox]] | None = getattr(_read_elsewhere, "pages", None)
    if known is not None:
        for number in pages:
            image = render(number)  # rendered all the same: the caller records the page's scale
            lines = known.get(number)
            yield lines if lines is not None else recognise_lines(image, rotated=settings.rotated)
        return
    if session is None or settings.workers <= 1:
        for number in pages:
            yield recognise_lines(render(number), rotated=settings.rotated)
        return
    from concurrent.futures.process import BrokenProcessPool

    pool = session.worker_pool()
    # Keep every worker busy with one page queued behind it, never the whole file in memory.
    window = 2 * settings.workers
    pending: deque[Future[list[OcrBox]]] = deque()
    upcoming = list(reversed(pages))
    try:
        while True:
            while len(pending) < window and upcoming:
                image = render(upcoming.pop())
                pending.append(pool.submit(recognise_lines, image, rotated=settings.rotated))
            if not pending:
                return
            yield pending.popleft().result()
    except BrokenProcessPool as e:
        # A worker died (killed, out of memory): this file fails, the next one gets new workers.
        session.discard_pool(pool)
        raise LoadError(f"an OCR worker process died ({e})", source=source) from e
    finally:
        for future in pending:
            future.cancel()


def _load_engine(rotated: bool) -> None:
    ocr_engine(rotated=rotated)
