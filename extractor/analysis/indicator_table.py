"""Indicators across regions and years: coverage, median, range, and values that look wrong.

Marks (each with its reason, never silently dropped):
- a rate above 100 %;
- a count more than `OUTLIER_FACTOR` times the median of its peers (the same indicator's
  values in the other reports; at least `MIN_PEERS` of them);
- a unit the indicator is not written in.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from extractor.analysis.catalogue import Indicator, load_catalogue, unit_family
from extractor.analysis.indicators import MetricValue, unit_misfit
from extractor.analysis.records import SourcedRecord
from extractor.core.schema import Area

OUTLIER_FACTOR = 10.0
MIN_PEERS = 3


@dataclass(frozen=True)
class IndicatorSummary:
    """One indicator over the selected records."""

    indicator: Indicator
    values: list[MetricValue]
    #: (region, year) pairs that state the indicator / all (region, year) pairs selected.
    covered: int
    selected: int
    median: float | None
    low: float | None
    high: float | None
    #: region -> year -> the values that region's report of that year states.
    by_region_year: dict[str, dict[int | None, list[MetricValue]]] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        return self.covered / self.selected if self.selected else 0.0

    @property
    def suspicious_count(self) -> int:
        return sum(1 for v in self.values if v.suspicious)


def mark_suspicious(values: Sequence[MetricValue], catalogue: tuple[Indicator, ...] | None = None) -> None:
    """Fill each mapped value's `suspicious` reasons (a value may have several)."""
    chosen = catalogue or load_catalogue()
    by_indicator: dict[str, list[MetricValue]] = defaultdict(list)
    for value in values:
        value.suspicious.clear()
        if value.indicator is not None:
            by_indicator[value.indicator].append(value)
    indicators = {indicator.name: indicator for indicator in chosen}
    for name, peers in by_indicator.items():
        medians = _peer_medians(peers)
        indicator = indicators[name]
        for value in peers:
            value.suspicious.extend(
                _reasons(value, medians.get((value.source.doc_id, value.unit)), indicator)
            )


def _peer_medians(peers: list[MetricValue]) -> dict[tuple[str, str], float]:
    """Per (record, unit): the median of the same indicator's counts in that unit in the
    other records, where there are at least MIN_PEERS of them."""
    by_unit: dict[str, list[MetricValue]] = defaultdict(list)
    for value in peers:
        if unit_family(value.unit) == "count":
            by_unit[value.unit].append(value)
    medians = {}
    for unit, group in by_unit.items():
        everything = sorted(v.value for v in group)
        own: dict[str, list[float]] = defaultdict(list)
        for value in group:
            own[value.source.doc_id].append(value.value)
        for doc_id, mine in own.items():
            if len(everything) - len(mine) >= MIN_PEERS:
                medians[(doc_id, unit)] = _median_without(everything, mine)
    return medians


def _median_without(ordered: list[float], removed: list[float]) -> float:
    """`statistics.median` of sorted `ordered` less the values `removed` (each taken out once),
    found by skipping their positions instead of copying the list for every record."""
    gone: list[int] = []
    for number, count in Counter(removed).items():
        first = bisect_left(ordered, number)
        gone.extend(range(first, first + count))
    gone.sort()

    def kth(k: int) -> float:
        for position in gone:
            if position <= k:
                k += 1
        return ordered[k]

    size = len(ordered) - len(removed)
    middle = size // 2
    return kth(middle) if size % 2 else (kth(middle - 1) + kth(middle)) / 2


def _reasons(value: MetricValue, peer_median: float | None, indicator: Indicator) -> list[str]:
    reasons = []
    if unit_family(value.unit) == "rate" and value.value > 100:
        reasons.append(f"比率超过100%（{value.value:g}%）")
    expected = unit_misfit(value, (indicator,))
    if expected is not None:
        reasons.append(f"单位“{value.unit}”与指标不符（应为{expected}）")
    if peer_median is not None and peer_median > 0 and value.value > OUTLIER_FACTOR * peer_median:
        reasons.append(f"超过同类报告中位数（{peer_median:g}）的{OUTLIER_FACTOR:g}倍")
    return reasons


def summarise(
    values: Sequence[MetricValue],
    records: Sequence[SourcedRecord],
    *,
    area: Area | None = None,
    catalogue: tuple[Indicator, ...] | None = None,
) -> list[IndicatorSummary]:
    """One summary per catalogue indicator that has a value (in catalogue order).

    Coverage counts (region, year) pairs among `records`; median and range are over the
    values in the indicator's usual units (a misfit unit is marked, not averaged in).
    """
    chosen = catalogue or load_catalogue()
    selected = len({(r.region, r.year) for r in records})
    grouped: dict[str, list[MetricValue]] = defaultdict(list)
    for value in values:
        if value.indicator is not None:
            grouped[value.indicator].append(value)
    out = []
    for indicator in chosen:
        if indicator.name not in grouped or (area is not None and indicator.area != area):
            continue
        mapped = grouped[indicator.name]
        table: dict[str, dict[int | None, list[MetricValue]]] = defaultdict(lambda: defaultdict(list))
        for value in mapped:
            table[value.region][value.year].append(value)
        comparable = [v.value for v in mapped if v.unit.strip() in indicator.units and not v.suspicious]
        out.append(
            IndicatorSummary(
                indicator=indicator,
                values=mapped,
                covered=len({(v.region, v.year) for v in mapped}),
                selected=selected,
                median=statistics.median(comparable) if comparable else None,
                low=min(comparable) if comparable else None,
                high=max(comparable) if comparable else None,
                by_region_year={region: dict(years) for region, years in table.items()},
            )
        )
    return out
