"""Python's cyclic garbage collector paused while a batch of work runs (the cross-report analysis).

An analysis of 1,000 records holds a few million small objects (records, items, metric
values, workbook cells) until it ends. Each time the collector runs it walks the objects
of its generation, and the oldest generation holds all of them: at 1,000 records those
walks took 1.8 of the 6.2 s CPU of `extractor analyse`. They find nothing to free, since
what the analysis builds is alive until it returns. Reference counting still frees every
object that is not part of a cycle; cycles left behind are collected after the block.
Kept in core (no imports) so a command can pause it before its own heavy imports.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off; it is switched back on afterwards if it
    was on before (so nested or concurrent pauses never leave it off for good)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
