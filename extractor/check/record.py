"""The one check of a record against its source: is every item and metric grounded?

For every item and metric, `check_item` decides once:
- its evidence is located in the source (span + AlignmentStatus: exact, fuzzy, none);
- a metric's evidence lies inside its item's evidence (or, for an item with no evidence,
  is at least in the source);
- a metric's value is stated in the metric's own evidence.

It returns those decisions as `Finding`s and sets the review flags they call for. Every
consumer reads the same findings: the pipeline (`check_record`), the LLM response
validators (which send them back to the model as the validation error), the gold validator
and the review app's edits. Items are never dropped: what is not grounded stays, flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from extractor.check.align import SourceIndex
from extractor.core.normalise import is_verbatim, matching_key
from extractor.core.schema import (
    Achievement,
    AlignmentStatus,
    Flag,
    FlagCode,
    Item,
    ListName,
    Metric,
    Record,
    Span,
)
from extractor.numbers.stated import value_in_text


class FindingKind(StrEnum):
    EVIDENCE_FUZZY = "evidence_fuzzy"
    EVIDENCE_UNALIGNED = "evidence_unaligned"
    METRIC_FUZZY = "metric_fuzzy"
    METRIC_UNALIGNED = "metric_unaligned"
    #: The metric's evidence is not verbatim inside its item's evidence.
    METRIC_OUTSIDE_ITEM = "metric_outside_item"
    VALUE_NOT_STATED = "value_not_stated"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing about an item that is not grounded. `metric` is the metric's position in
    the item's metric list (None: the item's own evidence)."""

    kind: FindingKind
    metric: int | None = None


@dataclass(frozen=True, slots=True)
class ItemCheck:
    """The findings of one item, with the item they were made on (for messages)."""

    item: Item
    findings: tuple[Finding, ...]

    def of_metric(self, position: int | None) -> set[FindingKind]:
        """The kinds found for the metric at `position` (None: for the item's own evidence)."""
        return {f.kind for f in self.findings if f.metric == position}

    def metric_grounded(self, position: int) -> bool:
        """The metric's evidence is where it must be: inside its item's evidence (or in the
        source, for an item without evidence). A value is judged only for such a metric."""
        kinds = self.of_metric(position)
        if FindingKind.METRIC_OUTSIDE_ITEM in kinds:
            return False
        return bool(self.item.evidence.strip()) or FindingKind.METRIC_UNALIGNED not in kinds

    def flags(self) -> list[Flag]:
        """The review flags the findings call for: the item's alignment, its metrics'
        alignments, then what is wrong with the metrics."""
        flags: list[Flag] = []
        for finding in sorted(self.findings, key=_flag_group):
            flag = self._flag(finding)
            if flag is not None:
                flags.append(flag)
        return flags

    def _flag(self, finding: Finding) -> Flag | None:
        kind = finding.kind
        if finding.metric is None:
            what = "evidence"
        else:
            metric = self._metric(finding.metric)
            what = f"metric {metric.name}"
            if kind is FindingKind.METRIC_OUTSIDE_ITEM:
                return Flag(code=FlagCode.METRIC_NOT_IN_EVIDENCE, detail=metric_outside_message(metric))
            if kind is FindingKind.VALUE_NOT_STATED:
                if FindingKind.METRIC_OUTSIDE_ITEM in self.of_metric(finding.metric):
                    return None  # one flag per metric: the misplaced evidence is the one to act on
                detail = f"指标“{metric.name}”的数值 {metric.value:g} 未出现在其证据中"
                return Flag(code=FlagCode.METRIC_NOT_IN_EVIDENCE, detail=detail)
        if kind in (FindingKind.EVIDENCE_UNALIGNED, FindingKind.METRIC_UNALIGNED):
            return Flag(code=FlagCode.UNALIGNED, detail=f"{what} not found in the source")
        return Flag(code=FlagCode.FUZZY_ALIGNMENT, detail=f"{what} only fuzzily aligned")

    def _metric(self, position: int) -> Metric:
        assert isinstance(self.item, Achievement)  # only achievements carry metrics
        return self.item.metrics[position]


def _flag_group(finding: Finding) -> int:
    if finding.metric is None:
        return 0
    return 1 if finding.kind in (FindingKind.METRIC_FUZZY, FindingKind.METRIC_UNALIGNED) else 2


def short(text: str, limit: int = 40) -> str:
    """`text` on one line, cut to `limit` characters (for messages)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def metric_outside_message(metric: Metric) -> str:
    return (
        f"指标「{short(metric.name)}」的证据「{short(metric.evidence)}」不在条目证据中 / "
        "metric evidence is not verbatim in the item's evidence"
    )


def locate(
    index: SourceIndex, quote: str, span: Span | None, *, near: int, within: Span | None
) -> tuple[Span | None, AlignmentStatus]:
    """Where `quote` is: its given span when that still holds, else aligned (exact, fuzzy)."""
    if index.holds(span, quote):
        return span, AlignmentStatus.EXACT
    found = index.align(quote, near=near, within=within)
    return found.span, found.status


def _locate_in_place(
    located: Item | Metric, index: SourceIndex, near: int, within: Span | None
) -> AlignmentStatus:
    """`locate` `located`'s evidence and set its span and alignment, skipping what is already
    so (a rules record's spans hold): assigning to a pydantic model's field costs more than
    the check. Returns the alignment."""
    span = located.span
    if index.holds(span, located.evidence):
        status = AlignmentStatus.EXACT
    else:
        found = index.align(located.evidence, near=near, within=within)
        status = found.status
        if found.span is not span:
            located.span = found.span
    if status is not located.alignment:
        located.alignment = status
    return status


def check_metric(
    metric: Metric,
    *,
    index: SourceIndex,
    item_evidence: str | None,
    near: int = 0,
    within: Span | None = None,
    position: int = 0,
) -> list[Finding]:
    """Locate `metric` (sets its span and alignment) and judge it. `item_evidence` None: the
    item is not known (a metric edited on its own); containment is then not judged."""
    findings: list[Finding] = []
    judged = item_evidence if item_evidence is not None and item_evidence.strip() else None
    _judge_metric(metric, index, judged, near, within, position, findings)
    return findings


def _judge_metric(
    metric: Metric,
    index: SourceIndex,
    item_evidence: str | None,
    near: int,
    within: Span | None,
    position: int,
    findings: list[Finding],
) -> None:
    """`check_metric`, adding to `findings`; `item_evidence` None: containment not judged
    (no item, or one whose evidence is blank)."""
    alignment = _locate_in_place(metric, index, near, within)
    if alignment is AlignmentStatus.NONE:
        findings.append(Finding(FindingKind.METRIC_UNALIGNED, position))
    elif alignment is AlignmentStatus.FUZZY:
        findings.append(Finding(FindingKind.METRIC_FUZZY, position))
    if item_evidence is not None and not is_verbatim(metric.evidence, item_evidence):
        findings.append(Finding(FindingKind.METRIC_OUTSIDE_ITEM, position))
    if not value_in_text(metric.value, metric.evidence):
        findings.append(Finding(FindingKind.VALUE_NOT_STATED, position))


def check_item(item: Item, index: SourceIndex, *, within: Span | None = None) -> ItemCheck:
    """Locate `item`'s evidence and metrics in the source and judge them (see module doc).

    Sets spans and alignments in place; flags are left to the caller (`ItemCheck.flags`).
    `within` limits the search to a part of the source (the section a model was shown).
    """
    return ItemCheck(item, tuple(_item_findings(item, index, within)))


def _item_findings(item: Item, index: SourceIndex, within: Span | None) -> list[Finding]:
    span = item.span
    near = span.start if span else (within.start if within else 0)
    alignment = _locate_in_place(item, index, near, within)
    findings: list[Finding] = []
    if alignment is AlignmentStatus.NONE:
        findings.append(Finding(FindingKind.EVIDENCE_UNALIGNED))
    elif alignment is AlignmentStatus.FUZZY:
        findings.append(Finding(FindingKind.EVIDENCE_FUZZY))
    metrics = item.metrics if isinstance(item, Achievement) else None
    if metrics:
        span = item.span
        near = span.start if span else near
        evidence = item.evidence
        judged = evidence if evidence.strip() else None  # one decision for all its metrics
        for position, metric in enumerate(metrics):
            _judge_metric(metric, index, judged, near, within, position, findings)
    return findings


def check_record(record: Record, source: str | SourceIndex) -> Record:
    """Locate and judge every item and metric of `record`, adding the flags they call for.

    Returns the same record. Run once per record: it appends flags.
    """
    index = source if isinstance(source, SourceIndex) else SourceIndex(source)
    for items in (record.achievements, record.problems, record.plans):
        for item in items:
            findings = _item_findings(item, index, None)
            if findings:  # most items of a rules record are grounded: no flags to work out
                item.flags.extend(ItemCheck(item, tuple(findings)).flags())
    return record


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """A gold-rule failure of a record: `path` names the field (achievements[0].evidence)."""

    path: str
    reason: str


def record_problems(record: Record, source: str | SourceIndex) -> list[RecordProblem]:
    """What keeps `record` from being a gold record for `source`: every item and metric
    evidence verbatim in the source (exact; a fuzzy match is not verbatim) and every metric
    value stated in its own evidence. The record itself is not changed."""
    index = source if isinstance(source, SourceIndex) else SourceIndex(source)
    problems: list[RecordProblem] = []
    for list_name in ListName:
        items: Sequence[Item] = record.items(list_name)
        for i, original in enumerate(items):
            item_path = f"{list_name.value}[{i}]"
            check = check_item(original.model_copy(deep=True), index)
            if check.of_metric(None):
                problems.append(RecordProblem(f"{item_path}.evidence", _not_verbatim(original.evidence)))
            for j, metric in enumerate(getattr(original, "metrics", [])):
                kinds = check.of_metric(j)
                if kinds & {FindingKind.METRIC_FUZZY, FindingKind.METRIC_UNALIGNED}:
                    path = f"{item_path}.metrics[{j}].evidence"
                    problems.append(RecordProblem(path, _not_verbatim(metric.evidence)))
                if FindingKind.VALUE_NOT_STATED in kinds:
                    reason = f"value {metric.value:g} not stated in its evidence 「{metric.evidence}」"
                    problems.append(RecordProblem(f"{item_path}.metrics[{j}].value", reason))
    return problems


def _not_verbatim(passage: str) -> str:
    if not matching_key(passage):
        return "evidence is empty"
    shown = passage if len(passage) <= 60 else passage[:57] + "..."
    return f"evidence not verbatim in the document: 「{shown}」"
