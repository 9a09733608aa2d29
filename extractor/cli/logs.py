"""Logging for the commands: quiet by default, everything with --verbose.

Python prints a library's warnings and errors to stderr when no handler is configured
("last resort" handler). instructor logs every failed attempt with the model server's raw
response body that way, so without --verbose the model libraries' loggers get a handler
that drops their records; with --verbose, INFO and above from every logger go to stderr.
"""

from __future__ import annotations

import logging
import sys

#: Libraries in the model call path whose log records carry raw request or response text.
QUIET_LIBRARIES = ("instructor", "openai", "httpx", "httpx2", "httpcore")


def configure_logging(*, verbose: bool) -> None:
    """Set up logging for one command run (see the module docstring)."""
    if verbose:
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
        )
        return
    for name in QUIET_LIBRARIES:
        library = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in library.handlers):
            library.addHandler(logging.NullHandler())
        # Not propagated to a root handler someone else configured either.
        library.propagate = False
