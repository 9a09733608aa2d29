"""Score a predicted record against a gold record (pure functions, no I/O).

The rules are the spec's "Scoring" section (shared/spec/gold-format.md):

- items of one list are matched one-to-one (optimal assignment) on the overlap of their
  evidence spans in the normalised report; a pair is eligible when the intersection covers
  at least half of the shorter span, and the assignment maximises IoU. When either evidence
  cannot be located, the pair is eligible when the Dice similarity of `text` or of
  `evidence` reaches 0.5;
- metrics of all achievements are matched one-to-one on equal value and unit plus
  overlapping evidence or a similar name;
- meta fields compare exactly after NFKC and stripping;
- grounding is the share of predicted evidence passages that are verbatim in the report.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from extractor.core.normalise import bigram_count, bigram_dice, matching_key
from extractor.core.schema import Achievement, ListName, Metric, Plan, Problem, Record
from extractor.evaluation.matching import (
    SIMILAR,
    Edges,
    Interval,
    SourceKey,
    assign_edges,
    iou,
    overlap,
    same_text,
    source_key,
    span_edges,
)
from extractor.evaluation.models import (
    META_FIELDS,
    AreaError,
    CauseError,
    DocumentScore,
    FlagScore,
    GroundingScore,
    ItemNote,
    ListScore,
    MetaMismatch,
    MetaScore,
    MetricNote,
    MetricScore,
    OverallScore,
)

#: Relative tolerance for equal metric values (floats from 99.54 and 99.5400001 are equal).
VALUE_REL_TOL = 1e-6

AnyItem = Achievement | Problem | Plan


# Not frozen: one is made per item and metric of every record, and a frozen dataclass
# costs several times more to construct.
@dataclass(slots=True)
class _Located:
    """An item with its evidence interval in the report's matching key (None if not found)."""

    index: int
    item: AnyItem
    span: Interval | None


@dataclass(slots=True)
class _LocatedMetric:
    achievement_index: int
    metric: Metric
    span: Interval | None


def score_document(pred: Record, gold: Record, source: str) -> DocumentScore:
    """Score `pred` against `gold` for the report text `source`.

    Guarantees: every gold item is either matched to exactly one predicted item or listed in
    `misses`; every predicted item is matched or listed in `false_positives`; likewise for
    metrics. Counts are integers, so documents aggregate exactly (see `aggregate`). The
    result depends only on the arguments.
    """
    key = source_key(source)
    result = DocumentScore(doc_id=gold.doc_id)
    for list_name in ListName:
        _score_list(result, list_name, pred.items(list_name), gold.items(list_name), key)
    _score_metrics(result, pred, gold, key)
    _score_meta(result, pred, gold)
    _score_grounding(result, pred, key)
    return result


#: The name in the architecture notes; same function.
score_record = score_document


def aggregate(scores: Iterable[DocumentScore]) -> OverallScore:
    """Micro-average: sum every count and sum over documents, then take the ratios.

    An empty iterable gives an OverallScore of zero documents (P=R=F1=1, other ratios None).
    """
    # Summed in plain variables and put into models once: every assignment to a field of a
    # pydantic model costs more than the addition.
    documents = 0
    list_fields = ("tp", "fp", "fn", "area_correct", "text_similarity_sum", "cause_correct")
    list_sums: list[dict[str, float]] = [
        {**dict.fromkeys(list_fields, 0), "text_similarity_sum": 0.0} for _ in ListName
    ]
    metric_sums: dict[str, float] = {"tp": 0, "fp": 0, "fn": 0, "name_similarity_sum": 0.0}
    meta_documents, meta_correct = 0, dict.fromkeys(META_FIELDS, 0)
    verbatim = passages = 0
    flag_sums = dict.fromkeys(("items", "flagged", "wrong", "flagged_wrong"), 0)
    for doc in scores:
        documents += 1
        for sums, part in zip(list_sums, doc.lists(), strict=True):
            for name in list_fields:
                sums[name] += getattr(part, name)
        for name in metric_sums:
            metric_sums[name] += getattr(doc.metrics, name)
        meta_documents += doc.meta.documents
        for name in META_FIELDS:
            meta_correct[name] += doc.meta.correct.get(name, 0)
        verbatim += doc.grounding.verbatim
        passages += doc.grounding.total
        for name in flag_sums:
            flag_sums[name] += getattr(doc.flags, name)
    achievements, problems, plans = (
        ListScore(list_name=list_name, **sums) for list_name, sums in zip(ListName, list_sums, strict=True)
    )
    return OverallScore(
        documents=documents,
        achievements=achievements,
        problems=problems,
        plans=plans,
        metrics=MetricScore(**metric_sums),
        meta=MetaScore(documents=meta_documents, correct=meta_correct),
        grounding=GroundingScore(verbatim=verbatim, total=passages),
        flags=FlagScore(**flag_sums),
    )


def fallback_similarity(pred: AnyItem, gold: AnyItem) -> float | None:
    """Match quality of two items when either evidence is not in the report, or None.

    Eligible when the Dice similarity of `text` or of `evidence` reaches 0.5; the quality
    is the higher of the two.
    """
    text_similarity = bigram_dice(pred.text, gold.text)
    if text_similarity == 1.0:
        return 1.0  # nothing scores higher
    # Evidence similarity only matters if it could beat both the bar and the text's score.
    evidence_similarity = bigram_dice(pred.evidence, gold.evidence, floor=max(SIMILAR, text_similarity))
    similarity = max(text_similarity, evidence_similarity)
    return similarity if similarity >= SIMILAR else None


def _item_edges(preds: Sequence[_Located], golds: Sequence[_Located]) -> Edges:
    """Eligible (pred, gold) pairs and their quality: span IoU where both are located, else
    the fallback.

    The fallback is computed only for plausible pairs: those whose text or evidence bigram
    counts allow a Dice of 0.5 at all (2·min/sum bounds it); the others cannot be eligible."""
    edges = span_edges([p.span for p in preds], [g.span for g in golds])
    if all(p.span is not None for p in preds) and all(g.span is not None for g in golds):
        return edges
    pred_counts = [(bigram_count(p.item.text), bigram_count(p.item.evidence)) for p in preds]
    gold_counts = [(bigram_count(g.item.text), bigram_count(g.item.evidence)) for g in golds]
    every_gold = range(len(golds))
    unlocated_golds = [j for j in every_gold if golds[j].span is None]
    for i, pred in enumerate(preds):
        pred_text, pred_evidence = pred_counts[i]
        for j in every_gold if pred.span is None else unlocated_golds:
            gold_text, gold_evidence = gold_counts[j]
            if not (_dice_can_reach(pred_text, gold_text) or _dice_can_reach(pred_evidence, gold_evidence)):
                continue
            similarity = fallback_similarity(pred.item, golds[j].item)
            if similarity is not None:
                edges[i, j] = similarity
    return edges


def _dice_can_reach(count_a: int, count_b: int) -> bool:
    """Whether two strings of these bigram counts can have a Dice coefficient of SIMILAR."""
    total = count_a + count_b
    return (2.0 * min(count_a, count_b) / total if total > 0 else 1.0) >= SIMILAR


def values_equal(a: float, b: float) -> bool:
    """Metric values equal within a relative tolerance of 1e-6 (0 equals only 0)."""
    return math.isclose(a, b, rel_tol=VALUE_REL_TOL, abs_tol=0.0)


def metric_weight(pred: _LocatedMetric, gold: _LocatedMetric) -> float | None:
    """Match quality of two metrics, or None when they may not be matched.

    Equal value and unit are required; then overlapping evidence or a similar name.

    Quality: name similarity plus evidence IoU, halved (in [0, 1]).
    """
    if not values_equal(pred.metric.value, gold.metric.value):
        return None
    if not same_text(pred.metric.unit, gold.metric.unit):
        return None
    return _metric_quality(pred, gold)


def _metric_quality(pred: _LocatedMetric, gold: _LocatedMetric) -> float | None:
    """`metric_weight` of two metrics already known to have equal value and unit."""
    name_similarity = bigram_dice(pred.metric.name, gold.metric.name)
    spans_overlap = pred.span is not None and gold.span is not None and overlap(pred.span, gold.span) > 0
    if not spans_overlap and name_similarity < SIMILAR:
        return None
    span_quality = iou(pred.span, gold.span) if spans_overlap else 0.0  # type: ignore[arg-type]
    return (name_similarity + span_quality) / 2


def cause_correct(pred_cause: str | None, gold_cause: str | None) -> bool:
    """Both null, or both present and similar (Dice >= 0.5). Blank counts as null."""
    pred_cause = pred_cause if pred_cause and pred_cause.strip() else None
    gold_cause = gold_cause if gold_cause and gold_cause.strip() else None
    if pred_cause is None or gold_cause is None:
        return pred_cause is None and gold_cause is None
    return bigram_dice(pred_cause, gold_cause) >= SIMILAR


def _metric_keys(item: Achievement) -> list[tuple[float, str]]:
    return sorted((round(float(m.value), 6), matching_key(m.unit)) for m in item.metrics)


def item_is_wrong(pred: AnyItem, gold: AnyItem | None) -> bool:
    """The spec's wrong item: unmatched, or matched with another area, another cause
    verdict, or metrics (value and unit) that differ from gold's."""
    if gold is None or pred.area != gold.area:
        return True
    if isinstance(pred, Problem) and isinstance(gold, Problem) and not cause_correct(pred.cause, gold.cause):
        return True
    if isinstance(pred, Achievement) and isinstance(gold, Achievement):
        if [(m.value, m.unit) for m in pred.metrics] == [(m.value, m.unit) for m in gold.metrics]:
            return False  # the same values and units as written: the same keys, none computed
        return _metric_keys(pred) != _metric_keys(gold)
    return False


def _locate_items(items: Sequence[AnyItem], key: SourceKey) -> list[_Located]:
    return [_Located(i, item, key.locate(item.evidence)) for i, item in enumerate(items)]


def _note(list_name: ListName, located: _Located) -> ItemNote:
    item = located.item
    return ItemNote(
        list_name=list_name,
        index=located.index,
        area=item.area.value,
        text=item.text,
        evidence=item.evidence,
        located=located.span is not None,
    )


def _score_list(
    result: DocumentScore,
    list_name: ListName,
    pred_items: Sequence[AnyItem],
    gold_items: Sequence[AnyItem],
    key: SourceKey,
) -> None:
    preds, golds = _locate_items(pred_items, key), _locate_items(gold_items, key)
    pairs = assign_edges(_item_edges(preds, golds), (len(preds), len(golds)))
    matched_pred = {p.pred for p in pairs}
    matched_gold = {p.gold for p in pairs}
    gold_of = {p.pred: golds[p.gold].item for p in pairs}
    # Counted here and added once: every assignment to a score model goes through pydantic.
    flagged = wrong = flagged_wrong = 0
    for located in preds:
        is_wrong = item_is_wrong(located.item, gold_of.get(located.index))
        is_flagged = located.item.needs_review
        flagged += is_flagged
        wrong += is_wrong
        flagged_wrong += is_flagged and is_wrong
    flags = result.flags
    flags.items += len(preds)
    flags.flagged += flagged
    flags.wrong += wrong
    flags.flagged_wrong += flagged_wrong
    result.misses.extend(_note(list_name, g) for g in golds if g.index not in matched_gold)
    result.false_positives.extend(_note(list_name, p) for p in preds if p.index not in matched_pred)
    text_similarity_sum, area_correct, causes_correct = 0.0, 0, 0
    for pair in pairs:
        pred, gold = preds[pair.pred].item, golds[pair.gold].item
        text_similarity_sum += bigram_dice(pred.text, gold.text)
        if pred.area == gold.area:
            area_correct += 1
        else:
            result.area_errors.append(
                AreaError(
                    list_name=list_name,
                    gold_index=pair.gold,
                    pred_index=pair.pred,
                    text=gold.text,
                    gold_area=gold.area.value,
                    pred_area=pred.area.value,
                )
            )
        if isinstance(gold, Problem) and isinstance(pred, Problem):
            if cause_correct(pred.cause, gold.cause):
                causes_correct += 1
            else:
                result.cause_errors.append(
                    CauseError(
                        gold_index=pair.gold,
                        pred_index=pair.pred,
                        text=gold.text,
                        gold_cause=gold.cause,
                        pred_cause=pred.cause,
                    )
                )
    # Built whole: every assignment to a field of a score model goes through pydantic.
    score = ListScore(
        list_name=list_name,
        tp=len(pairs),
        fp=len(preds) - len(pairs),
        fn=len(golds) - len(pairs),
        area_correct=area_correct,
        text_similarity_sum=text_similarity_sum,
        cause_correct=causes_correct,
    )
    setattr(result, list_name.value, score)


def _locate_metrics(record: Record, key: SourceKey) -> list[_LocatedMetric]:
    located: list[_LocatedMetric] = []
    for index, achievement in enumerate(record.achievements):
        # Search from the achievement's own passage first: a short quote such as 已结案31件
        # may also occur earlier in the report, and should land inside its item.
        item_span = key.locate(achievement.evidence)
        near = item_span[0] if item_span else 0
        for metric in achievement.metrics:
            located.append(_LocatedMetric(index, metric, key.locate(metric.evidence, near=near)))
    return located


def _metric_edges(preds: Sequence[_LocatedMetric], golds: Sequence[_LocatedMetric]) -> Edges:
    """Eligible (pred, gold) metric pairs and their quality (see `metric_weight`).

    Equal value and unit rule out almost every pair: golds are grouped by unit and sorted by
    value, so each prediction compares names and spans only with golds of its unit whose
    value lies within the tolerance."""
    by_unit: dict[str, list[tuple[float, int]]] = {}
    for j, gold in enumerate(golds):
        value = float(gold.metric.value)
        if math.isfinite(value):  # an infinite or NaN value equals nothing
            by_unit.setdefault(matching_key(gold.metric.unit), []).append((value, j))
    values_of = {unit: sorted(found) for unit, found in by_unit.items()}
    edges: Edges = {}
    for i, pred in enumerate(preds):
        candidates = values_of.get(matching_key(pred.metric.unit))
        value = float(pred.metric.value)
        if not candidates or not math.isfinite(value):
            continue
        # Twice the tolerance: every value within it lies inside, whatever the rounding.
        margin = 2 * VALUE_REL_TOL * abs(value)
        low = bisect_left(candidates, (value - margin, -1))
        high = bisect_right(candidates, (value + margin, len(golds)))
        for gold_value, j in candidates[low:high]:
            if values_equal(value, gold_value):
                weight = _metric_quality(pred, golds[j])
                if weight is not None:
                    edges[i, j] = weight
    return edges


def _metric_note(located: _LocatedMetric) -> MetricNote:
    metric = located.metric
    return MetricNote(
        achievement_index=located.achievement_index,
        name=metric.name,
        value=metric.value,
        unit=metric.unit,
        evidence=metric.evidence,
    )


def _score_metrics(result: DocumentScore, pred: Record, gold: Record, key: SourceKey) -> None:
    preds, golds = _locate_metrics(pred, key), _locate_metrics(gold, key)
    pairs = assign_edges(_metric_edges(preds, golds), (len(preds), len(golds)))
    result.metrics = MetricScore(
        tp=len(pairs),
        fp=len(preds) - len(pairs),
        fn=len(golds) - len(pairs),
        name_similarity_sum=sum(
            bigram_dice(preds[p.pred].metric.name, golds[p.gold].metric.name) for p in pairs
        ),
    )
    matched_pred = {p.pred for p in pairs}
    matched_gold = {p.gold for p in pairs}
    result.metric_misses.extend(_metric_note(m) for j, m in enumerate(golds) if j not in matched_gold)
    result.metric_false_positives.extend(
        _metric_note(m) for i, m in enumerate(preds) if i not in matched_pred
    )


def _meta_value(value: object) -> str | None:
    """A meta field as compared: NFKC, stripped; dates as ISO strings, enums by value."""
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, dt.date) else str(getattr(value, "value", value))
    return unicodedata.normalize("NFKC", text).strip()


def _score_meta(result: DocumentScore, pred: Record, gold: Record) -> None:
    score = MetaScore(documents=1)
    for name in META_FIELDS:
        gold_value = _meta_value(getattr(gold.meta, name))
        pred_value = _meta_value(getattr(pred.meta, name))
        if pred_value == gold_value:
            score.correct[name] = 1
        else:
            result.meta_mismatches.append(MetaMismatch(field=name, gold=gold_value, pred=pred_value))
    result.meta = score


def _score_grounding(result: DocumentScore, pred: Record, key: SourceKey) -> None:
    passages = [item.evidence for name in ListName for item in pred.items(name)]
    passages += [metric.evidence for achievement in pred.achievements for metric in achievement.metrics]
    verbatim = [key.is_verbatim(passage) for passage in passages]
    result.grounding = GroundingScore(verbatim=sum(verbatim), total=len(passages))
    result.ungrounded = [p for p, ok in zip(passages, verbatim, strict=True) if not ok]


def judge_items(pred: Record, gold: Record, source: str) -> list[tuple[AnyItem, bool]]:
    """Every predicted item with whether it is wrong (see `item_is_wrong`), matched as
    `score_document` matches them; for calibrating flags."""
    key = source_key(source)
    judged: list[tuple[AnyItem, bool]] = []
    for list_name in ListName:
        preds = _locate_items(pred.items(list_name), key)
        golds = _locate_items(gold.items(list_name), key)
        pairs = assign_edges(_item_edges(preds, golds), (len(preds), len(golds)))
        gold_of = {p.pred: golds[p.gold].item for p in pairs}
        judged += [(p.item, item_is_wrong(p.item, gold_of.get(p.index))) for p in preds]
    return judged
