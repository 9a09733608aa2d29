"""The loaded document: original text plus what the loader learned about it.

Every offset in the pipeline (segment points, evidence spans) indexes `SourceDocument.text`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from extractor.core.normalise import NormalisedText, normalise, without_whitespace


class HeadingHint(BaseModel):
    """A line the file itself marks as a heading (a Word heading style or outline level)."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0, description="Start of the heading line in `SourceDocument.text`.")
    end: int = Field(gt=0, description="End (exclusive) of the heading line.")
    level: int = Field(ge=1, le=9, description="Outline level as the file gives it: 1 is Heading 1.")

    @model_validator(mode="after")
    def _not_empty(self) -> HeadingHint:
        if self.end <= self.start:
            raise ValueError(f"a heading span must hold text: [{self.start}, {self.end})")
        return self


class LayoutHints(BaseModel):
    """Structure the file states outside its wording, for the segmenter to trust."""

    model_config = ConfigDict(frozen=True)

    headings: tuple[HeadingHint, ...] = Field(
        default=(), description="Styled heading lines in text order, none overlapping."
    )


SourceFormat = Literal["txt", "docx", "pdf", "html", "doc", "wps", "rtf", "odt", "ofd", "image"]


class SourceDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    doc_id: str
    path: str
    text: str
    format: SourceFormat = "txt"
    encoding: str | None = None
    ocr: bool = False
    publish_date_hint: dt.date | None = Field(
        default=None, description="A date found outside the report body (web page 发布时间)."
    )
    warnings: tuple[str, ...] = ()
    layout_hints: LayoutHints | None = Field(
        default=None, description="Headings the file marks by style (Word); None when it marks none."
    )

    @property
    def sha256(self) -> str:
        """Content hash of the text: the same report as UTF-8 .txt or GBK .txt dedups."""
        return text_sha256(self.text)

    def normalised(self, *, drop_whitespace: bool = False, keep_circled: bool = False) -> NormalisedText:
        """The text normalised in one of the modes the stages use, computed once per text."""
        return normalised_view(self.text, drop_whitespace=drop_whitespace, keep_circled=keep_circled)

    def normalised_head(self, chars: int) -> str:
        """The normalised text of the first `chars` original characters: `normalise(text[:chars]).text`
        (normalising is per character, so the head alone gives the same characters; no other
        stage of a rules run reads this view of the whole text)."""
        return normalise(self.text[:chars]).text


# Memoised (keyed by the text, like `normalised_view`): a document's hash is read by the
# rules backend's provenance and again by the store, each time over the whole text.
@lru_cache(maxsize=48)
def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Keyed by the text itself, not by the document object: a copy with other text (model_copy)
# never sees a stale view, and a stage that only has the text (segmentation, grounding) reads
# the same view as one that has the document. Small: the stages of one document run close
# together, so a few documents' views suffice even for a concurrent batch.
@lru_cache(maxsize=48)
def normalised_view(
    text: str, *, drop_whitespace: bool = False, keep_circled: bool = False
) -> NormalisedText:
    """`normalise(text, ...)` memoised: every stage of one run reads the same NormalisedText.

    Callers must not mutate the returned view (its `origin` is shared)."""
    if drop_whitespace:
        # Made from the view with whitespace and ① kept, which segmentation reads first in
        # every run: filtering it costs much less than a second normalisation.
        kept = normalised_view(text, keep_circled=True)
        return without_whitespace(kept, read_circled=not keep_circled)
    return normalise(text, drop_whitespace=drop_whitespace, keep_circled=keep_circled)
