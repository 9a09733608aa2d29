"""What the analysis reads: records with their review status, selected by region and year.

Every figure the analysis shows points back to a record, a list, an item and its evidence;
`ItemRef` is that pointer and `report_link` turns it into the review app's report page URL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from extractor.core.errors import ExtractorError
from extractor.core.labels import STATUS_LABELS
from extractor.core.schema import ListName, Period, Record
from extractor.store import Store

#: Which records count: only those a reviewer approved (the default), or every current record.
StatusFilter = Literal["approved", "all"]
STATUS_FILTERS: tuple[StatusFilter, ...] = ("approved", "all")
STATUS_FILTER_LABELS: dict[str, str] = {
    "approved": "仅已通过审核的记录",
    "all": "全部当前记录（含未审核）",
}

_MARKER = re.compile(
    r"^\s*(?:[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．]|[一二三四五六七八九十]+[是、])\s*"
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SourcedRecord:
    """A record and the review status of the stored version it came from."""

    record: Record
    #: `approved`, `in_review`, `pending`, `rejected` for stored records; `gold` for gold files.
    status: str
    version: int | None = None

    @property
    def doc_id(self) -> str:
        return self.record.doc_id

    @property
    def region(self) -> str:
        return self.record.meta.region or self.record.meta.issuer or "（未注明地区）"

    @property
    def year(self) -> int | None:
        return self.record.meta.report_year

    @property
    def issuer_key(self) -> str:
        """Who wrote the report, compared across years (issuer, else region, else doc_id)."""
        return normalise_name(self.record.meta.issuer or self.record.meta.region or self.record.doc_id)

    @property
    def is_annual(self) -> bool:
        return self.record.meta.period in (None, Period.ANNUAL)


@dataclass(frozen=True)
class ItemRef:
    """One item of one record: where a figure or a wording comes from."""

    doc_id: str
    list_name: ListName
    index: int

    @property
    def item_label(self) -> str:
        """成效第3条: the item within its record, as people count (from 1)."""
        return f"{LIST_NUMBER_LABELS[self.list_name]}第{self.index + 1}条"

    @property
    def label(self) -> str:
        return f"{self.doc_id} · {self.item_label}"


LIST_NUMBER_LABELS: dict[ListName, str] = {
    ListName.ACHIEVEMENTS: "成效",
    ListName.PROBLEMS: "问题",
    ListName.PLANS: "计划",
}


def report_link(ref: ItemRef) -> str:
    """The review app's report page at this item (query parameters report, list, item)."""
    return "?" + urlencode({"report": ref.doc_id, "list": ref.list_name.value, "item": ref.index})


def normalise_name(text: str) -> str:
    """NFKC without whitespace: how names and wordings are compared."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def item_wording(text: str, evidence: str) -> str:
    """An item's words for text similarity: its summary and its evidence without the marker."""
    return f"{text} {_MARKER.sub('', evidence)}"


def status_caption(status: StatusFilter, records: Sequence[SourcedRecord]) -> str:
    """The one line every output shows about which records it counts."""
    counts: dict[str, int] = {}
    for sourced in records:
        counts[sourced.status] = counts.get(sourced.status, 0) + 1
    parts = "，".join(f"{STATUS_LABELS.get(k, k)} {n} 份" for k, n in sorted(counts.items()))
    return f"统计范围：{STATUS_FILTER_LABELS[status]}；共 {len(records)} 份报告" + (
        f"（{parts}）" if parts else ""
    )


def load_records(store: Store, *, status: StatusFilter = "approved") -> list[SourcedRecord]:
    """Every document's current record; with `approved` only those a reviewer approved."""
    if status not in STATUS_FILTERS:
        raise ExtractorError(f"unknown status filter {status!r} (expected approved or all)")
    stored = store.current_records(approved_only=status == "approved")
    return [SourcedRecord(record=s.record, status=s.status, version=s.version) for s in stored]


def select_records(
    records: Iterable[SourcedRecord],
    *,
    regions: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> list[SourcedRecord]:
    """The records of these regions and report years (None or empty: no restriction)."""
    wanted_regions = {normalise_name(r) for r in regions or []}
    wanted_years = set(years or [])
    return [
        r
        for r in records
        if (not wanted_regions or normalise_name(r.region) in wanted_regions)
        and (not wanted_years or r.year in wanted_years)
    ]
