"""Warm the analysis after a save, so that the next opening of the 分析 page finds it ready.

Reviewers approve reports and then look at 分析: without this, that first opening after a save
analyses every record while the reviewer waits. `warm_later(url)` returns at once; one daemon
thread per process then computes the analysis of the default status selection with a Store of
its own (a Store and its sessions are not shared across threads), keeps it on disk and holds it
in memory (`snapshot.hold`), where the page's `kept_analysis` finds it under the same key.

Coalescing: saves that arrive while the thread computes ask for one more run for the newest
records afterwards, never a queue of stale runs. Nothing is computed when the records did not
change (the key is held already). Errors are logged, never raised: warming is only a head start.
Stale results cannot be shown: the page asks by the key of the records as they are then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from extractor.analysis import snapshot
from extractor.analysis.records import STATUS_FILTERS, StatusFilter
from extractor.core.collector import collector_paused
from extractor.store import Store

log = logging.getLogger(__name__)
#: What the page shows when opened (its status radio's first choice).
DEFAULT_STATUSES: tuple[StatusFilter, ...] = (STATUS_FILTERS[0],)


def warm_now(url: str, statuses: Sequence[StatusFilter] = DEFAULT_STATUSES) -> None:
    """Analyse the current records of `statuses` unless held already; runs in the caller's thread."""
    with Store(url) as store, collector_paused():
        for status in statuses:
            key = snapshot.snapshot_key(store, status=status)
            if snapshot.held(key, status):
                continue  # the records did not change since the last warming
            snapshot.hold(key, snapshot.kept_analysis(store, status=status, key=key))


class Warmer:
    """At most one warming thread at a time; requests made while it runs coalesce into one
    more run."""

    def __init__(self, statuses: Sequence[StatusFilter] = DEFAULT_STATUSES) -> None:
        self.statuses = tuple(statuses)
        self._lock = threading.Lock()
        self._pending: list[str] = []  # database URLs, each once, asked for since the last run
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def request(self, url: str) -> None:
        """Ask for a warming of `url`'s analysis; returns at once."""
        with self._lock:
            if url not in self._pending:
                self._pending.append(url)
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="analysis-warm", daemon=True)
                self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no warming is asked for or running (for tests and benchmarks); False on
        timeout."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                urls, self._pending = self._pending, []
                if not urls:
                    self._thread = None
                    self._idle.set()
                    return
            for url in urls:
                try:
                    warm_now(url, self.statuses)
                except Exception as e:  # a head start only: the page computes what warming could not
                    log.warning("warming the analysis failed (%s); the 分析 page computes it when opened", e)


#: The server process's warmer (the review app's saves ask it).
warmer = Warmer()


def warm_later(url: str) -> None:
    """After a save to `url`: warm the analysis in the background (see `Warmer`)."""
    warmer.request(url)
