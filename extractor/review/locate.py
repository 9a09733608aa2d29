"""Locating a reviewer's passage in the report: exact first, then fuzzy, else refused.

The record only ever holds verbatim evidence: a passage that is found only fuzzily (a
typo, a dropped character) is replaced by the report's own text at the aligned span.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from extractor.check.align import SourceIndex
from extractor.core.normalise import matching_key
from extractor.core.schema import AlignmentStatus, Span
from extractor.review.errors import PassageNotFoundError

#: Shown passages are cut to this many characters in messages.
_SHOWN_CHARS = 40


class LocatedPassage(BaseModel):
    """Where a passage is in the report. `evidence` is the report's own text at `span`
    (so it is verbatim even when `status` is fuzzy)."""

    model_config = ConfigDict(frozen=True)

    span: Span
    status: AlignmentStatus
    score: float
    evidence: str
    #: True when `evidence` differs from what the reviewer typed (fuzzy match replaced it).
    replaced: bool


def locate_passage(index: SourceIndex, passage: str, *, near: int = 0) -> LocatedPassage:
    """Locate `passage` in the report behind `index`: exact (NFKC, whitespace ignored),
    else fuzzy. Raises PassageNotFoundError with a Chinese message if it is empty or not in
    the report."""
    if not matching_key(passage):
        raise PassageNotFoundError("请先粘贴或填写一段原文。")
    found = index.align(passage, near=near)
    if found.span is None or found.status is AlignmentStatus.NONE:
        raise PassageNotFoundError(
            f"这段文字不在报告原文中（精确和近似匹配都没有找到）：「{shorten(passage)}」。"
            "请从左侧原文中直接复制。"
        )
    verbatim = index.text[found.span.start : found.span.end].strip()
    replaced = matching_key(verbatim) != matching_key(passage)
    evidence = verbatim if replaced else passage.strip()
    return LocatedPassage(
        span=found.span, status=found.status, score=found.score, evidence=evidence, replaced=replaced
    )


def located_note(located: LocatedPassage) -> str | None:
    """A Chinese note for the reviewer when a fuzzy match replaced their text, else None."""
    if not located.replaced:
        return None
    return (
        f"原文中只找到近似的段落（相似度 {located.score:.0f}%），已改为原文：「{shorten(located.evidence)}」"
    )


def shorten(text: str, limit: int = _SHOWN_CHARS) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
