"""Data the segmenter hands to the extraction backends (rules and LLM).

All offsets index the original `SourceDocument.text`, half-open.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from extractor.core.schema import ListName, Span


class SectionKind(StrEnum):
    ACHIEVEMENTS = "achievements"
    PROBLEMS = "problems"
    PLANS = "plans"
    CAUSES = "causes"  # a separate 原因 block: its points explain problems, they are not items


class Point(BaseModel):
    """One leaf of the report's enumeration: the unit that becomes one item."""

    span: Span = Field(description="The point's evidence: its body (marker included), no heading line.")
    marker: str | None = Field(default=None, description="一是 / 1、 / （一） ... as written, if any.")
    lead: str | None = Field(default=None, description="The point's own heading or lead phrase.")
    context: list[str] = Field(default_factory=list, description="Enclosing headings, outermost first.")
    cause_span: Span | None = Field(default=None, description="原因分析 / 究其原因 text, problems only.")


class Section(BaseModel):
    kind: SectionKind
    heading: str = ""
    heading_span: Span | None = None
    span: Span = Field(description="Body of the section, heading excluded.")
    points: list[Point] = Field(default_factory=list)
    year: int | None = Field(default=None, description="A year named in the heading or first sentence.")

    @property
    def list_name(self) -> ListName | None:
        return None if self.kind is SectionKind.CAUSES else ListName(self.kind.value)


class SegmentedReport(BaseModel):
    doc_id: str
    sections: list[Section] = Field(default_factory=list)
    title: str = ""
    head_lines: list[str] = Field(default_factory=list, description="First paragraphs (chrome removed).")
    tail_lines: list[str] = Field(default_factory=list, description="Last paragraphs: signature, date.")

    def sections_of(self, kind: SectionKind) -> list[Section]:
        return [s for s in self.sections if s.kind is kind]

    def points_of(self, kind: SectionKind) -> list[Point]:
        return [p for s in self.sections_of(kind) for p in s.points]
