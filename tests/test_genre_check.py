"""The genre check: a text with sections but hardly any of the genre's vocabulary is refused."""

from __future__ import annotations

import pytest

from extractor.core.document import SourceDocument
from extractor.core.errors import NotAReportError
from extractor.core.schema import Span
from extractor.pipeline.run import check_genre
from extractor.segment.model import Point, Section, SectionKind, SegmentedReport


def _report(text: str, kinds: tuple[SectionKind, ...]) -> tuple[SourceDocument, SegmentedReport]:
    doc = SourceDocument(doc_id="d", path="d.txt", text=text)
    sections = [
        Section(
            kind=kind, span=Span(start=0, end=len(text)), points=[Point(span=Span(start=0, end=len(text)))]
        )
        for kind in kinds
    ]
    return doc, SegmentedReport(doc_id="d", sections=sections)


@pytest.mark.parametrize(
    ("terms", "kinds", "accepted"),
    [
        (4, (SectionKind.ACHIEVEMENTS, SectionKind.PLANS), False),
        (5, (SectionKind.ACHIEVEMENTS, SectionKind.PLANS), True),
        (14, (SectionKind.ACHIEVEMENTS,), False),
        (15, (SectionKind.ACHIEVEMENTS,), True),
        (400, (SectionKind.ACHIEVEMENTS,), True),
    ],
)
def test_the_genre_needs_its_vocabulary(terms: int, kinds: tuple[SectionKind, ...], accepted: bool) -> None:
    """Five of the genre's terms make a report with several kinds of section; one with work
    done alone needs fifteen (a news item listing achievements is not a report)."""
    doc, segmented = _report(
        "今年我们开展了工作。" + "推进依法行政，" * (terms // 2) + "调解" * (terms % 2), kinds
    )
    if accepted:
        check_genre(doc, segmented)
    else:
        with pytest.raises(NotAReportError, match="genre's vocabulary"):
            check_genre(doc, segmented)
