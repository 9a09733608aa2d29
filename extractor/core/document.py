"""The loaded document: original text plus what the loader learned about it.

Every offset in the pipeline (segment points, evidence spans) indexes `SourceDocument.text`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SourceFormat = Literal["txt", "docx", "pdf", "html"]


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

    @property
    def sha256(self) -> str:
        """Content hash of the text: the same report as UTF-8 .txt or GBK .txt dedups."""
        return text_sha256(self.text)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
