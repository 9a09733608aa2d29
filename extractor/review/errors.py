"""Errors of the review stage: a reviewer's input that cannot be applied.

They derive from the project's error root; their message is Chinese and shown as is.
(Candidates for `extractor.core.errors` if other stages need them.)
"""

from __future__ import annotations

from extractor.core.errors import ExtractorError


class ReviewInputError(ExtractorError):
    """A reviewer's edit or request that cannot be applied (nothing was changed)."""


class PassageNotFoundError(ReviewInputError):
    """A pasted or edited passage is not in the report's text."""
