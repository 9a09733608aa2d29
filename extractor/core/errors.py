"""One error root for everything the tool raises on purpose.

Users see `str(error)`: one line naming the file and the problem. `--verbose` shows the
chained traceback (`raise ... from original`).
"""

from __future__ import annotations


class ExtractorError(Exception):
    """Root of every deliberate error. `source` names the file or record concerned."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class LoadError(ExtractorError):
    """A file could not be read as text (empty, binary, unreadable encoding, too large...)."""


class NotAReportError(ExtractorError):
    """The text was read but holds no achievements / problems / plans sections."""


class ConfigError(ExtractorError):
    """Bad settings: missing key, unknown backend, malformed config file."""


class ModelError(ExtractorError):
    """A model call failed after its retries (HTTP error, refusal, unparseable answer)."""


class StoreError(ExtractorError):
    """The database could not be opened or written."""


class ReviewConflictError(ExtractorError):
    """A review save was based on an outdated version of the record."""


class GoldError(ExtractorError):
    """A gold file fails validation."""
