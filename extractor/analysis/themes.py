"""Common problems: the problems of many reports grouped into themes.

Wordings (summary + evidence without its marker) become character 1-2-gram TF-IDF vectors;
average-linkage agglomerative clustering on cosine distance, cut at `distance_threshold`,
groups them. Identical wordings are clustered once (a corpus repeats boilerplate). Nothing
is random, so the same records always give the same themes. A problem is recurring when the
same issuer stated a problem of the same theme in its report of the year before.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from extractor.analysis.records import ItemRef, SourcedRecord, item_wording, normalise_name
from extractor.analysis.tfidf import average_clusters, char_tfidf
from extractor.core.schema import Area, ListName

#: Cosine distance at which two groups stop merging (calibrated on the hand-labelled themes).
DEFAULT_DISTANCE_THRESHOLD = 0.90


@dataclass(frozen=True)
class ProblemEntry:
    source: SourcedRecord
    ref: ItemRef
    text: str
    evidence: str
    area: Area
    #: The same issuer's problem of the year before in the same theme, if any.
    recurs_from: ItemRef | None = None


@dataclass
class Theme:
    """A group of problems worded alike across reports."""

    number: int
    representative: str
    area: Area
    problems: list[ProblemEntry] = field(default_factory=list)

    @cached_property
    def report_count(self) -> int:
        return len({p.source.doc_id for p in self.problems})

    @cached_property
    def regions(self) -> list[str]:
        return sorted({p.source.region for p in self.problems})

    @property
    def recurring(self) -> list[ProblemEntry]:
        return [p for p in self.problems if p.recurs_from is not None]


def problem_entries(records: Sequence[SourcedRecord]) -> list[ProblemEntry]:
    return [
        ProblemEntry(
            source=sourced,
            ref=ItemRef(sourced.doc_id, ListName.PROBLEMS, index),
            text=item.text,
            evidence=item.evidence,
            area=item.area,
        )
        for sourced in records
        for index, item in enumerate(sourced.record.problems)
    ]


@dataclass(frozen=True)
class _Clusters:
    """Cluster number per wording, plus each wording's TF-IDF row (identical wordings share one)."""

    labels: list[int]
    rows: list[int]
    vectors: Any


def cluster_labels(wordings: Sequence[str], *, distance_threshold: float) -> list[int]:
    """A cluster number per wording (identical wordings share one); deterministic."""
    return _cluster(wordings, distance_threshold=distance_threshold).labels


def _cluster(wordings: Sequence[str], *, distance_threshold: float) -> _Clusters:
    keys = [normalise_name(w) for w in wordings]
    unique = sorted(set(keys))
    row_of = {key: row for row, key in enumerate(unique)}
    rows = [row_of[key] for key in keys]
    vectors = char_tfidf(unique)
    if len(unique) <= 1:
        return _Clusters([0] * len(keys), rows, vectors)
    similarity = (vectors @ vectors.T).toarray()
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    by_row = average_clusters(distance, distance_threshold=distance_threshold)
    # Number clusters by first appearance so the numbering does not depend on scipy internals.
    renumber: dict[int, int] = {}
    labels = [renumber.setdefault(int(by_row[row]), len(renumber)) for row in rows]
    return _Clusters(labels, rows, vectors)


def find_themes(
    records: Sequence[SourcedRecord], *, distance_threshold: float = DEFAULT_DISTANCE_THRESHOLD
) -> list[Theme]:
    """Themes, most widely stated first (reports, then problems, then first appearance)."""
    entries = problem_entries(records)
    if not entries:
        return []
    clusters = _cluster(
        [item_wording(e.text, e.evidence) for e in entries], distance_threshold=distance_threshold
    )
    members: dict[int, list[int]] = defaultdict(list)
    for position, label in enumerate(clusters.labels):
        members[label].append(position)
    entries = _mark_recurring(entries, clusters.labels)
    themes = []
    for label, positions in members.items():
        group = [entries[p] for p in positions]
        themes.append(
            Theme(
                number=label,
                representative=entries[_central(positions, clusters)].text,
                area=Counter(e.area for e in group).most_common(1)[0][0],
                problems=group,
            )
        )
    themes.sort(key=lambda t: (-t.report_count, -len(t.problems), t.number))
    for number, theme in enumerate(themes, start=1):
        theme.number = number
    return themes


def _central(positions: list[int], clusters: _Clusters) -> int:
    """The member whose wording is nearest the theme's centroid (first such on a tie)."""
    rows = [clusters.rows[p] for p in positions]
    group = clusters.vectors[rows]
    centroid = np.asarray(group.mean(axis=0)).ravel()
    closeness = group @ centroid
    return positions[int(np.argmax(closeness))]


def _mark_recurring(entries: list[ProblemEntry], labels: list[int]) -> list[ProblemEntry]:
    earlier: dict[tuple[str, int | None, int], ProblemEntry] = {}
    for entry, label in zip(entries, labels, strict=True):
        earlier.setdefault((entry.source.issuer_key, entry.source.year, label), entry)
    out = []
    for entry, label in zip(entries, labels, strict=True):
        year = entry.source.year
        before = None if year is None else earlier.get((entry.source.issuer_key, year - 1, label))
        out.append(entry if before is None else _with_origin(entry, before.ref))
    return out


def _with_origin(entry: ProblemEntry, origin: ItemRef) -> ProblemEntry:
    return ProblemEntry(entry.source, entry.ref, entry.text, entry.evidence, entry.area, recurs_from=origin)
