"""Cross-report analysis: indicators across regions and years, common problems, follow-through.

Pure functions over records (`SourcedRecord`: a record and its review status); the store is
read only by `records.load_records`. Entry: `analyse(records, ...) -> Analysis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from extractor.analysis.catalogue import Indicator, load_catalogue
from extractor.analysis.followthrough import (
    FollowSettings,
    FollowThrough,
    IssuerRate,
    follow_through,
    issuer_rates,
)
from extractor.analysis.indicator_table import IndicatorSummary, mark_suspicious, summarise
from extractor.analysis.indicators import MappingSettings, MetricValue, map_metrics
from extractor.analysis.records import (
    ItemRef,
    SourcedRecord,
    StatusFilter,
    load_records,
    report_link,
    select_records,
    status_caption,
)
from extractor.analysis.themes import Theme, find_themes
from extractor.core.schema import Area


@dataclass(frozen=True)
class Analysis:
    """Everything the 分析 outputs show, for one selection of records."""

    status: StatusFilter
    caption: str
    records: list[SourcedRecord]
    values: list[MetricValue]
    summaries: list[IndicatorSummary]
    themes: list[Theme]
    follow: list[FollowThrough]
    rates: list[IssuerRate]

    @property
    def mapped(self) -> list[MetricValue]:
        return [v for v in self.values if v.indicator is not None]

    @property
    def ambiguous(self) -> list[MetricValue]:
        """Metrics left unmapped because several indicators fit about equally (listed, not guessed)."""
        return [v for v in self.values if v.indicator is None and v.reason == "多个指标难以区分"]


def analyse(
    records: Sequence[SourcedRecord],
    *,
    status: StatusFilter,
    area: Area | None = None,
    catalogue: tuple[Indicator, ...] | None = None,
    mapping: MappingSettings | None = None,
    follow: FollowSettings | None = None,
) -> Analysis:
    """Indicators, themes and follow-through of `records` (already selected by status, region
    and year). `area` keeps only that area's indicators, problems and plans. Follow-through
    compares a plan with the next year's report, so select both years to see it."""
    chosen = catalogue or load_catalogue()
    values = map_metrics(records, catalogue=chosen, settings=mapping)
    if area is not None:
        values = [v for v in values if v.item_area == area]
    mark_suspicious(values, chosen)
    themes = find_themes(records)
    follow_results = follow_through(records, settings=follow)
    if area is not None:
        themes = [t for t in themes if t.area == area]
        follow_results = [f for f in follow_results if f.match.plan.area == area]
    return Analysis(
        status=status,
        caption=status_caption(status, records),
        records=list(records),
        values=values,
        summaries=summarise(values, records, area=area, catalogue=chosen),
        themes=themes,
        follow=follow_results,
        rates=issuer_rates(follow_results),
    )


__all__ = [
    "Analysis",
    "FollowSettings",
    "ItemRef",
    "MappingSettings",
    "SourcedRecord",
    "analyse",
    "load_records",
    "report_link",
    "select_records",
]
