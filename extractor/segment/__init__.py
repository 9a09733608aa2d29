"""Segment stage: logical paragraphs → sections (achievements / problems / plans / causes)
→ leaf points, all as spans into the loaded text. Entry: `segment_report(doc)`.

Also public, for the extraction backends: `marker_at_start` (the enumeration marker a text
opens with: 一、 （一） 1. 一是 …) and `LEAD_END` (the punctuation that ends a point's lead phrase).
"""

from extractor.segment.enumeration import LEAD_END, marker_at_start
from extractor.segment.model import Point, Section, SectionKind, SegmentedReport
from extractor.segment.sections import segment_report

__all__ = [
    "LEAD_END",
    "Point",
    "Section",
    "SectionKind",
    "SegmentedReport",
    "marker_at_start",
    "segment_report",
]
