"""Every metric of a record mapped to a catalogue indicator, or listed as unmapped with why.

A metric's name is compared with each indicator's names (rapidfuzz ratio and partial ratio,
plus the share of the indicator name's character bigrams found in the metric's name); its
unit must be of the indicator's family (a rate is never a count) and costs a penalty when it
is not one of the indicator's usual units; the item's area adds a small bonus. The best
indicator is taken only when it scores at least `min_score` AND beats the runner-up by
`margin`; a close runner-up makes the metric ambiguous: it is listed, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from extractor.analysis.catalogue import Indicator, load_catalogue, unit_kind
from extractor.analysis.records import ItemRef, SourcedRecord, normalise_name
from extractor.core.normalise import bigram_coverage
from extractor.core.schema import Area, ListName

#: Words that say which stage of a case is counted, or that the count is of an opposite outcome.
#: A metric naming one of them only maps to an indicator whose names say the same (撤回行政复议申请
#: is not 行政复议申请数; 办结率 is not 纠错率; 重新犯罪率 is not 帮教率).
QUALIFIER_GROUPS: tuple[tuple[str, ...], ...] = (
    ("收到",),
    ("受理", "新收"),
    ("办结", "审结", "结案", "已结"),
    ("撤回",),
    ("驳回", "不予受理"),
    ("解除", "期满"),
    ("重新犯罪",),
    ("纠错", "撤销"),
    ("培训", "轮训"),
)
_QUOTES = re.compile(r"[“”\"‘’'「」『』《》〈〉()（）\[\]【】]")
#: How many best-scoring names get the (slower) bigram comparison.
_SHORTLIST = 6


@dataclass(frozen=True)
class MappingSettings:
    """The mapper's thresholds (calibrated on eval/analysis/labels.json, see analysis_eval)."""

    min_score: float = 75.0
    margin: float = 3.0
    area_bonus: float = 5.0
    #: Subtracted when the unit is of the right family but not one the indicator is written in.
    unit_penalty: float = 20.0


@dataclass(frozen=True)
class Candidate:
    indicator: str
    score: float
    unit_fits: bool


@dataclass(frozen=True)
class MetricValue:
    """One metric of one record, with where it comes from and what it was mapped to."""

    source: SourcedRecord
    ref: ItemRef
    metric_index: int
    name: str
    value: float
    unit: str
    evidence: str
    item_text: str
    item_area: Area
    #: None when no indicator is clear enough (see `reason`).
    indicator: str | None
    score: float
    candidates: tuple[Candidate, ...]
    #: Why the value is unmapped (无匹配指标 / 多个指标难以区分); empty when mapped.
    reason: str = ""
    #: Why the value looks wrong (filled by `indicator_table.mark_suspicious`).
    suspicious: list[str] = field(default_factory=list)

    @property
    def region(self) -> str:
        return self.source.region

    @property
    def year(self) -> int | None:
        return self.source.year


def _key(text: str) -> str:
    return _QUOTES.sub("", normalise_name(text))


@lru_cache(maxsize=8)
def _name_table(catalogue: tuple[Indicator, ...]) -> tuple[list[str], list[int]]:
    names, owners = [], []
    for index, indicator in enumerate(catalogue):
        for name in indicator.names:
            names.append(_key(name))
            owners.append(index)
    return names, owners


def name_scores(name: str, catalogue: tuple[Indicator, ...]) -> dict[int, float]:
    """Best name similarity (0-100) per indicator index, for the indicators worth a look."""
    key = _key(name)
    names, owners = _name_table(catalogue)
    if not key:
        return {}
    ratio = process.cdist([key], names, scorer=fuzz.ratio)[0]
    partial = process.cdist([key], names, scorer=fuzz.partial_ratio)[0]
    rough: dict[int, float] = {}
    for position in range(len(names)):
        score = float(ratio[position])
        if len(names[position]) < len(key):
            # A catalogue name inside a longer metric name counts less the more is around it.
            score = max(score, float(partial[position]) * _around_factor(names[position], key, 0.8))
        rough[position] = score
    best: dict[int, float] = {}
    for position in sorted(rough, key=lambda p: -rough[p])[: _SHORTLIST * 3]:
        # Shared character bigrams in any order: 审核…规范性文件 still says 审核规范性文件.
        covered = 95.0 * bigram_coverage(names[position], key) * _around_factor(names[position], key, 0.85)
        owner = owners[position]
        best[owner] = max(best.get(owner, 0.0), rough[position], covered)
    return best


def _around_factor(catalogue_name: str, metric_name: str, floor: float) -> float:
    return floor + (1.0 - floor) * min(1.0, len(catalogue_name) / len(metric_name))


#: (indicator or None, score, best candidates, reason when unmapped).
_Mapping = tuple[str | None, float, tuple[Candidate, ...], str]


@lru_cache(maxsize=65536)
def _map_cached(
    name: str, unit: str, area: Area, catalogue: tuple[Indicator, ...], settings: MappingSettings
) -> _Mapping:
    kind = unit_kind(unit)
    qualifiers = _qualifiers(name)
    candidates = []
    for index, score in name_scores(name, catalogue).items():
        indicator = catalogue[index]
        if kind not in {unit_kind(u) for u in indicator.units}:
            continue  # a rate is never a count, a count of events never one of people
        if not qualifiers <= _qualifiers("".join(indicator.names)):
            continue
        unit_fits = unit.strip() in indicator.units
        total = score + (settings.area_bonus if indicator.area == area else 0.0)
        total -= 0.0 if unit_fits else settings.unit_penalty
        candidates.append(Candidate(indicator.name, round(total, 1), unit_fits))
    candidates.sort(key=lambda c: (-c.score, c.indicator))
    shortlist = tuple(candidates[:3])
    if not shortlist or shortlist[0].score < settings.min_score:
        return None, shortlist[0].score if shortlist else 0.0, shortlist, "无匹配指标"
    best = shortlist[0]
    if len(shortlist) > 1 and best.score - shortlist[1].score < settings.margin:
        return None, best.score, shortlist, "多个指标难以区分"
    return best.indicator, best.score, shortlist, ""


def _qualifiers(name: str) -> frozenset[int]:
    key = _key(name)
    return frozenset(i for i, group in enumerate(QUALIFIER_GROUPS) if any(word in key for word in group))


def map_metric(
    name: str,
    unit: str,
    area: Area,
    *,
    catalogue: tuple[Indicator, ...] | None = None,
    settings: MappingSettings | None = None,
) -> _Mapping:
    """(indicator or None, score, best candidates, reason when unmapped) for one metric."""
    return _map_cached(name, unit, area, catalogue or load_catalogue(), settings or MappingSettings())


def map_metrics(
    records: Sequence[SourcedRecord],
    *,
    catalogue: tuple[Indicator, ...] | None = None,
    settings: MappingSettings | None = None,
) -> list[MetricValue]:
    """Every metric of every record, mapped or not, in record and item order."""
    chosen = catalogue or load_catalogue()
    chosen_settings = settings or MappingSettings()
    # Mapped once per name as compared (`_key`), unit and area: reports repeat the same names,
    # and the cache key of `_map_cached` hashes the whole catalogue on every call.
    mapped: dict[tuple[str, str, Area], _Mapping] = {}
    out = []
    for sourced in records:
        for index, item in enumerate(sourced.record.achievements):
            ref = ItemRef(sourced.doc_id, ListName.ACHIEVEMENTS, index)
            for metric_index, metric in enumerate(item.metrics):
                key = (_key(metric.name), metric.unit, item.area)
                if key not in mapped:
                    mapped[key] = _map_cached(metric.name, metric.unit, item.area, chosen, chosen_settings)
                indicator, score, candidates, reason = mapped[key]
                out.append(
                    MetricValue(
                        source=sourced,
                        ref=ref,
                        metric_index=metric_index,
                        name=metric.name,
                        value=float(metric.value),
                        unit=metric.unit,
                        evidence=metric.evidence,
                        item_text=item.text,
                        item_area=item.area,
                        indicator=indicator,
                        score=score,
                        candidates=candidates,
                        reason=reason,
                    )
                )
    return out


def unit_misfit(value: MetricValue, catalogue: tuple[Indicator, ...] | None = None) -> str | None:
    """The indicator's usual units when the value is written in another one, else None."""
    if value.indicator is None:
        return None
    indicator = next(i for i in catalogue or load_catalogue() if i.name == value.indicator)
    return None if value.unit.strip() in indicator.units else "、".join(indicator.units)
