"""Segment stage: logical paragraphs → sections (achievements / problems / plans / causes)
→ leaf points, all as spans into the loaded text. Entry: `segment_report(doc)`."""

from extractor.segment.model import Point, Section, SectionKind, SegmentedReport
from extractor.segment.sections import segment_report

__all__ = ["Point", "Section", "SectionKind", "SegmentedReport", "segment_report"]
