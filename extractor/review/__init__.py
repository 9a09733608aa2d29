"""Review stage: the logic behind `review_app.py`, testable without Streamlit.

- `queue`: the report list (issuer and year, per-report progress, who has it open, filters).
- `session`: one report's working copy (edits, accept / fix / reject, added items,
  grounding problems that block 已通过 and their written overrides).
- `saving`: the save (checks, per-item merge with a colleague's save via `merge`).
- `drafts`: unsaved work kept in the database per reviewer and report, restored on reload.
- `edits`, `locate`: applying edits and locating passages in the report.
- `highlight`: the report's text as escaped HTML with evidence highlighted.
- `decisions`: per-item decisions stored beside each review version.
- `audit`: the version log in Chinese and Beijing time, changed characters marked;
  `gold`: 「设为金标准」; `downloads`: exports.
"""

from __future__ import annotations

from extractor.review.errors import PassageNotFoundError, ReviewInputError
from extractor.review.labels import Decision
from extractor.review.session import ReviewSession, open_session

__all__ = ["Decision", "PassageNotFoundError", "ReviewInputError", "ReviewSession", "open_session"]
