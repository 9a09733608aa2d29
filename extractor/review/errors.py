"""Errors of the review stage: a reviewer's input that cannot be applied.

They derive from the project's error root; their message is Chinese and shown as is.
(Candidates for `extractor.core.errors` if other stages need them.)
"""

from __future__ import annotations

from typing import Any

from extractor.core.errors import ExtractorError, ReviewConflictError


class ReviewInputError(ExtractorError):
    """A reviewer's edit or request that cannot be applied (nothing was changed)."""


class PassageNotFoundError(ReviewInputError):
    """A pasted or edited passage is not in the report's text."""


class MergeConflictError(ReviewConflictError):
    """A save that a colleague's save conflicts with on the same fields: `conflicts` lists
    them (extractor.review.merge.FieldConflict) for the reviewer to choose; nothing written."""

    def __init__(
        self, message: str, *, conflicts: list[Any], theirs_version: int, source: str | None = None
    ) -> None:
        super().__init__(message, source=source)
        self.conflicts = conflicts
        self.theirs_version = theirs_version
